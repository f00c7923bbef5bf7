"""Quoting a plan change with its prorated amount, and proposing it for an explicit yes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.db.models import utcnow
from quickconnect.services import changes
from quickconnect.services.changes import ProposedChange
from quickconnect.services.plan_change.common import (
    CHANGE_FEE,
    CHANGE_KIND,
    MAX_DAYS_AHEAD,
    InvalidEffectiveDate,
    PlanChangeQuote,
    PlanNotOffered,
    SameAsCurrentPlan,
    UnknownPlan,
    _active_plan,
    _cents,
    _customer,
    _plan_by_code,
    _scheduled_plans,
    _usd,
    format_date,
)

# --- quoting ----------------------------------------------------------------------------------


def _amount_phrase(amount: Decimal, quote_days: tuple[date, date, date, date]) -> str:
    """'prorated charge of $7.50 for the 9 days left in this billing cycle' (or a credit).

    `quote_days` is (today, effective date, cycle start, cycle end). A future date names the
    days, so the customer knows which bill the amount lands on.
    """
    today, effective, start, end = quote_days
    if amount == 0:
        return "no prorated charge"
    remaining = (end - effective).days + 1
    if effective == today:
        if effective == start:
            span = f"the full {remaining} days of this billing cycle"
        elif remaining == 1:
            span = "the last day of this billing cycle"
        else:
            span = f"the {remaining} days left in this billing cycle"
    elif effective == start:
        span = f"the full billing cycle from {format_date(start)} to {format_date(end)}"
    elif remaining == 1:
        span = f"the last day of the billing cycle, {format_date(end)}"
    else:
        span = (
            f"the {remaining} days from {format_date(effective)} to the end of the billing "
            f"cycle on {format_date(end)}"
        )
    kind = "charge" if amount > 0 else "credit"
    return f"prorated {kind} of {_usd(amount)} for {span}"


def quote_plan_change(
    session: Session,
    customer_id: int,
    new_plan_code: str,
    *,
    effective_date: date | None = None,
    today: date | None = None,
) -> PlanChangeQuote:
    """The exact change, its prorated amount and the consent text, without changing anything.

    Raises UnknownPlan, PlanNotOffered, SameAsCurrentPlan or InvalidEffectiveDate (effective
    date before today or more than 90 days ahead); messages are customer-readable.
    """
    today = today or utcnow().date()
    effective = effective_date or today
    new = _plan_by_code(session, new_plan_code) if new_plan_code else None
    if new is None:
        raise UnknownPlan(
            f"There is no plan called {new_plan_code!r}."
            if new_plan_code
            else "I don't know which plan you'd like yet. Which plan should I quote?"
        )
    if not new.offered:
        raise PlanNotOffered(f"{new.name} is no longer offered, so it can't be chosen.")
    customer = _customer(session, customer_id)
    _, current = _active_plan(session, customer_id)
    if new.id == current.id:
        raise SameAsCurrentPlan(f"You're already on {current.name}.")
    if effective < today:
        raise InvalidEffectiveDate(
            f"A plan change can't start in the past ({format_date(effective)}); "
            f"the earliest is today, {format_date(today)}."
        )
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if effective > latest:
        raise InvalidEffectiveDate(
            f"A plan change can be booked up to {MAX_DAYS_AHEAD} days ahead "
            f"(until {format_date(latest)}), not for {format_date(effective)}."
        )

    start = cycle_start(effective, customer.billing_cycle_day)
    next_start = next_cycle_start(effective, customer.billing_cycle_day)
    cycle_days = (next_start - start).days
    remaining = (next_start - effective).days
    prorated = _cents((new.monthly_price - current.monthly_price) * remaining / cycle_days)
    scheduled = _scheduled_plans(session, customer_id)
    replaced = scheduled[-1] if scheduled else None

    summary = (
        f"Change from {current.name} ({_usd(current.monthly_price)}/month) to {new.name} "
        f"({_usd(new.monthly_price)}/month) effective {format_date(effective)}; "
        f"{_amount_phrase(prorated, (today, effective, start, next_start - timedelta(days=1)))}; "
        "no change fee"
    )
    if replaced is not None:
        summary += (
            f"; this replaces your scheduled change to {replaced[1].name} on "
            f"{format_date(replaced[0].scheduled_for.date())}"
        )
    return PlanChangeQuote(
        customer_id=customer_id,
        current_plan_code=current.code,
        current_plan_name=current.name,
        current_price=current.monthly_price,
        new_plan_code=new.code,
        new_plan_name=new.name,
        new_price=new.monthly_price,
        quoted_on=today,
        effective_date=effective,
        immediate=effective == today,
        cycle_start=start,
        cycle_end=next_start - timedelta(days=1),
        cycle_days=cycle_days,
        remaining_days=remaining,
        prorated_amount=prorated,
        change_fee=CHANGE_FEE,
        next_bill_date=next_start,
        replaces_scheduled_plan_name=replaced[1].name if replaced else None,
        replaces_scheduled_for=replaced[0].scheduled_for.date() if replaced else None,
        summary=summary + ".",
    )


def propose_plan_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    new_plan_code: str,
    effective_date: date | None = None,
    today: date | None = None,
) -> tuple[PlanChangeQuote, ProposedChange]:
    """Quote the change and store it awaiting the customer's yes (show `quote.summary`)."""
    quote = quote_plan_change(
        session, customer_id, new_plan_code, effective_date=effective_date, today=today
    )
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.prorated_amount,
    )
    return quote, proposed
