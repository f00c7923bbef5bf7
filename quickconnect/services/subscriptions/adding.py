"""Adding an add-on: the quote, the proposal, and the handler that creates it pending
activation."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import AddonService, AddonTier, Subscription, utcnow
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.subscriptions.catalog import get_service
from quickconnect.services.subscriptions.common import (
    ADD_KIND,
    AddQuote,
    AlreadySubscribed,
    SubscriptionQuoteStale,
    UnknownTier,
    _fee_terms,
    _hours,
    format_date,
    format_time,
    usd,
)
from quickconnect.services.subscriptions.lookups import _customer, _cycle, _live_subscription, _tier

# --- adding -----------------------------------------------------------------------------------


def quote_add(
    session: Session,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    *,
    now: datetime | None = None,
) -> AddQuote:
    """Price, terms, fees and activation time of a new add-on, without changing anything.

    Raises UnknownService, UnknownTier (also when a multi-tier service has no tier chosen)
    or AlreadySubscribed."""
    now = now or utcnow()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    existing = _live_subscription(session, customer_id, service.code)
    if existing is not None:
        state = "waiting for activation" if existing.status == "pending_activation" else "active"
        raise AlreadySubscribed(
            f"You already have {service.name} ({state}), so I can't add it twice. "
            "You can change its tier or cancel it instead."
        )
    if tier_code is None and len(service.tiers) == 1:
        tier_code = service.tiers[0].code
    if tier_code is None:
        options = ", ".join(f"{t.name} ({usd(t.monthly_price)}/month)" for t in service.tiers)
        raise UnknownTier(f"Which {service.name} tier would you like: {options}?")
    tier = _tier(service, tier_code)
    expected = now + timedelta(hours=service.activation_hours)
    _, next_bill, _, _ = _cycle(customer, now.date())
    summary = (
        f"Add {service.name} {tier.name} at {usd(tier.monthly_price)}/month: "
        f"{service.description} It's usually live within {_hours(service.activation_hours)} "
        f"(expected by {format_time(expected)}) and we'll let you know as soon as it is. "
        "You pay from the day it goes live; your next bill, on "
        f"{format_date(next_bill)}, includes the days from then. Terms: {service.terms} "
        f"Fees: {_fee_terms(service)}."
    )
    return AddQuote(customer_id, service, tier, expected, next_bill, summary)


def propose_add(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    now: datetime | None = None,
) -> tuple[AddQuote, ProposedChange]:
    """Quote a new add-on and store it awaiting the customer's yes (show `quote.summary`)."""
    quote = quote_add(session, customer_id, service_code, tier_code, now=now)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ADD_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.tier.monthly_price,
    )
    return quote, proposed


@changes.register_handler(ADD_KIND)
def apply_add(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Create the subscription `pending_activation` with its expected activation time."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    quote = quote_add(
        session, customer_id, str(params["service_code"]), str(params["tier_code"]), now=now
    )
    if Decimal(str(params["monthly_price"])) != quote.tier.monthly_price:
        raise SubscriptionQuoteStale(
            f"The price of {quote.service.name} {quote.tier.name} is now "
            f"{usd(quote.tier.monthly_price)}/month; the addition needs a new quote."
        )
    addon = session.execute(
        select(AddonService).where(AddonService.code == quote.service.code)
    ).scalar_one()
    tier = session.execute(select(AddonTier).where(AddonTier.code == quote.tier.code)).scalar_one()
    sub = Subscription(
        customer_id=customer_id,
        addon_id=addon.id,
        tier_id=tier.id,
        status="pending_activation",
        monthly_price=quote.tier.monthly_price,
        created_at=now,
        activates_at=quote.expected_activation,
    )
    session.add(sub)
    session.flush()
    name = f"{quote.service.name} {quote.tier.name}"
    body = (
        f"Hi {customer.first_name},\n\nThank you for adding {name} "
        f"({usd(quote.tier.monthly_price)}/month). It's being set up now and is expected to "
        f"be live by {format_time(quote.expected_activation)}. We'll message you as soon as "
        f"it's live.\n\nTerms: {quote.service.terms}\nFees: {_fee_terms(quote.service)}.\n\n"
        f"What you agreed to: {quote.summary}\n\nThank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": quote.service.name,
            "tier_name": quote.tier.name,
            "monthly_price": quote.tier.monthly_price,
            "status": sub.status,
            "activates_at": quote.expected_activation,
            "activation_hours": quote.service.activation_hours,
            "next_bill_date": quote.next_bill_date,
            "summary": quote.summary,
        },
        log_summary=(
            f"Added {name} at {usd(quote.tier.monthly_price)}/month, pending activation "
            f"(expected {quote.expected_activation.isoformat(timespec='minutes')})"
        ),
        notification=("email", f"Your QuickConnect {quote.service.name} order", body),
    )
