"""Reading a subscription request from the chat: the operation, service and tier."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from quickconnect.nlp.patterns import catalog_phrases
from quickconnect.services.subscriptions.adding import quote_add
from quickconnect.services.subscriptions.cancelling import quote_cancel
from quickconnect.services.subscriptions.catalog import (
    _normalise,
    find_service,
    find_tier,
    get_service,
)
from quickconnect.services.subscriptions.common import (
    ServiceView,
    SubscriptionError,
    TierView,
    UnknownTier,
)
from quickconnect.services.subscriptions.lookups import _live_subscription, _tier_code
from quickconnect.services.subscriptions.modifying import quote_modify

# --- reading a request from the chat ------------------------------------------------------------

OPERATIONS: tuple[str, ...] = ("add", "modify", "cancel")


@dataclass(frozen=True)
class RequestCheck:
    """Whether a named service fits the request: `service` set = usable (with `tier` when it
    is already decided); `problem` = a customer-facing reason it does not."""

    service: ServiceView | None
    tier: TierView | None
    problem: str | None


def without_service_names(text: str) -> str:
    """The wording minus any service name, so "sports pack" does not read as tier "Sports"."""
    wording = _normalise(text)
    for name in sorted(catalog_phrases()["service_name"], key=len, reverse=True):
        wording = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", wording)
    return " ".join(wording.split())


def check_request(
    session: Session,
    customer_id: int,
    operation: str,
    service_text: str | None,
    tier_text: str | None = None,
) -> RequestCheck:
    """Resolve the service (and tier, if `tier_text` names one) for an add, modify or cancel
    request, and say why it cannot be done when it cannot: unknown service, already
    subscribed (add), not subscribed or nothing to change (modify, cancel)."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; expected one of {OPERATIONS}")
    code = find_service(service_text)
    if code is None:
        return RequestCheck(
            None, None, f'I couldn\'t find an add-on service called "{service_text}".'
        )
    service = get_service(session, code)
    tier = find_tier(service, without_service_names(tier_text)) if tier_text else None
    try:
        if operation == "add":
            return RequestCheck(
                service, quote_add(session, customer_id, code, tier and tier.code).tier, None
            )
        if operation == "modify":
            quote = quote_modify(session, customer_id, code, tier and tier.code)
            return RequestCheck(service, quote.to_tier, None)
        quote_cancel(session, customer_id, code)
        return RequestCheck(service, None, None)
    except UnknownTier:
        return RequestCheck(service, None, None)  # the tier is still to be chosen
    except SubscriptionError as refusal:
        return RequestCheck(None, None, str(refusal))


def tier_choices(
    session: Session, customer_id: int, operation: str, service_code: str
) -> tuple[TierView, ...]:
    """The tiers the customer can pick for this request (not the one they already have)."""
    service = get_service(session, service_code)
    if operation != "modify":
        return service.tiers
    current = _live_subscription(session, customer_id, service.code)
    mine = _tier_code(session, current) if current else None
    return tuple(t for t in service.tiers if t.code != mine)
