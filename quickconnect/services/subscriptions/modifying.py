"""Modifying an add-on: another tier of the same service, prorated onto the next bill."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import AddonTier, utcnow
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.subscriptions.catalog import get_service
from quickconnect.services.subscriptions.common import (
    LIVE_STATUSES,
    MODIFY_KIND,
    ZERO,
    ModifyQuote,
    NothingToModify,
    NotSubscribed,
    SubscriptionQuoteStale,
    TierView,
    UnknownTier,
    _cents,
    format_date,
    usd,
)
from quickconnect.services.subscriptions.lookups import (
    _customer,
    _cycle,
    _locked_subscription,
    _require_live,
    _service_of,
    _signed,
    _tier,
    _tier_code,
)

# --- modifying --------------------------------------------------------------------------------


def quote_modify(
    session: Session,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    *,
    today: date | None = None,
) -> ModifyQuote:
    """Move an add-on to another tier: the bill impact and any fee, without changing anything.

    With no tier given, a two-tier service moves to its other tier. Raises UnknownService,
    NotSubscribed, NothingToModify or UnknownTier."""
    today = today or utcnow().date()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    sub = _require_live(session, customer_id, service)
    current = next(t for t in service.tiers if t.code == _tier_code(session, sub))
    others = [t for t in service.tiers if t.code != current.code]
    if not others:
        raise NothingToModify(
            f"{service.name} comes in one version only ({current.name}, "
            f"{usd(current.monthly_price)}/month), so there's nothing to change. "
            "You can keep it or cancel it."
        )
    if tier_code is None and len(others) == 1:
        tier_code = others[0].code
    if tier_code is None:
        options = ", ".join(f"{t.name} ({usd(t.monthly_price)}/month)" for t in others)
        raise UnknownTier(f"Which {service.name} tier would you like instead: {options}?")
    target = _tier(service, tier_code)
    if target.code == current.code:
        raise NothingToModify(f"Your {service.name} is already {current.name}.")
    _, next_bill, cycle_days, remaining = _cycle(customer, today)
    pending = sub.status == "pending_activation"
    difference = target.monthly_price - _cents(sub.monthly_price)
    prorated = ZERO if pending else _cents(difference * remaining / cycle_days)
    fee = ZERO if pending else service.modification_fee
    direction = "up" if difference > 0 else "down"
    if pending:
        money = (
            f"it isn't live yet, so there's no fee and nothing to prorate: you'll pay "
            f"{usd(target.monthly_price)}/month from the day it goes live"
        )
    else:
        if prorated == 0:
            prorated_text = "no prorated amount"
        else:
            kind = "charge" if prorated > 0 else "credit"
            prorated_text = (
                f"a prorated {kind} of {usd(prorated)} for the {remaining} days left in this "
                "billing cycle"
            )
        fee_text = (
            f"a one-time modification fee of {usd(fee)}" if fee > 0 else "no modification fee"
        )
        money = (
            f"your monthly price goes {direction} by {usd(difference)} to "
            f"{usd(target.monthly_price)}; your bill of {format_date(next_bill)} includes "
            f"{prorated_text} and {fee_text} (total {_signed(prorated + fee)})"
        )
    summary = (
        f"Change {service.name} from {current.name} ({usd(sub.monthly_price)}/month) to "
        f"{target.name} ({usd(target.monthly_price)}/month), effective today: {money}."
    )
    return ModifyQuote(
        customer_id=customer_id,
        subscription_id=int(sub.id),
        service_name=service.name,
        from_tier=TierView(current.code, current.name, _cents(sub.monthly_price)),
        to_tier=target,
        pending=pending,
        modification_fee=fee,
        remaining_days=remaining,
        cycle_days=cycle_days,
        prorated_amount=prorated,
        next_bill_date=next_bill,
        bill_impact=_cents(prorated + fee),
        summary=summary,
    )


def propose_modify(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    today: date | None = None,
) -> tuple[ModifyQuote, ProposedChange]:
    quote = quote_modify(session, customer_id, service_code, tier_code, today=today)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=MODIFY_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.bill_impact,
    )
    return quote, proposed


@changes.register_handler(MODIFY_KIND)
def apply_modify(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Switch the subscription's tier and record the modification fee, if the quote still holds."""
    today = utcnow().date()
    customer = _customer(session, customer_id, lock=True)
    sub = _locked_subscription(session, customer_id, int(params["subscription_id"]))
    service = _service_of(session, sub)
    if sub.status not in LIVE_STATUSES:
        raise NotSubscribed(f"Your {service.name} was cancelled, so there's nothing to change.")
    if _tier_code(session, sub) != params["from_tier_code"]:
        raise SubscriptionQuoteStale(
            f"Your {service.name} changed since the quote; the change needs a new quote."
        )
    quote = quote_modify(session, customer_id, service.code, params["to_tier_code"], today=today)
    if quote.prorated_amount != Decimal(
        str(params["prorated_amount"])
    ) or quote.modification_fee != Decimal(str(params["modification_fee"])):
        raise SubscriptionQuoteStale(
            f"The amounts for changing {service.name} are now different (new billing cycle); "
            "the change needs a new quote."
        )
    tier = session.execute(
        select(AddonTier).where(AddonTier.code == quote.to_tier.code)
    ).scalar_one()
    sub.tier_id = tier.id
    sub.monthly_price = quote.to_tier.monthly_price
    if quote.modification_fee > 0:
        sub.fee_charged = _cents(Decimal(sub.fee_charged or 0) + quote.modification_fee)
    session.flush()
    body = (
        f"Hi {customer.first_name},\n\nYour {service.name} is now {quote.to_tier.name} "
        f"({usd(quote.to_tier.monthly_price)}/month), effective {format_date(today)}.\n\n"
        f"{quote.summary}\n\nThank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": service.name,
            "from_tier_name": quote.from_tier.name,
            "tier_name": quote.to_tier.name,
            "monthly_price": quote.to_tier.monthly_price,
            "modification_fee": quote.modification_fee,
            "prorated_amount": quote.prorated_amount,
            "bill_impact": quote.bill_impact,
            "next_bill_date": quote.next_bill_date,
            "pending": quote.pending,
            "summary": quote.summary,
        },
        log_summary=(
            f"Changed {service.name} from {quote.from_tier.name} to {quote.to_tier.name} "
            f"({usd(quote.to_tier.monthly_price)}/month); prorated "
            f"{_signed(quote.prorated_amount)}; modification fee {usd(quote.modification_fee)}"
        ),
        notification=("email", f"Your {service.name} has been changed", body),
    )
