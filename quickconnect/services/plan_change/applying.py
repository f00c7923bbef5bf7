"""Applying a confirmed plan change now or on its date, checking the account shows it.

`current_plan` is read off the package (`plan_change.current_plan`) at call time, as it was
off the single module before, so a test can replace it there (tests/db/test_plan_change.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import next_cycle_start
from quickconnect.db.models import AccountPlan, Customer, ServicePlan, utcnow
from quickconnect.services import changes, plan_change
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification
from quickconnect.services.plan_change.common import (
    CHANGE_KIND,
    PlanChangeNotVisible,
    PlanChangeQuote,
    PlanChangeQuoteStale,
    _active_plan,
    _customer,
    _plan_by_code,
    _plan_details,
    _prorated_phrase,
    _scheduled_plans,
    _signed_usd,
    _start_of,
    _usd,
    format_date,
)
from quickconnect.services.plan_change.quoting import quote_plan_change

# --- applying -----------------------------------------------------------------------------------


def _cancel_scheduled(session: Session, customer_id: int, now: datetime) -> None:
    """A newer decision replaces a booked one. A scheduled row that never started is 'ended'
    with no started_at, which is how history tells a cancelled booking from a past plan."""
    for account_plan, _ in _scheduled_plans(session, customer_id):
        account_plan.status = "ended"
        account_plan.ended_at = now
    session.flush()


def _billing_lines(quote: PlanChangeQuote, billing_cycle_day: int) -> str:
    following = next_cycle_start(quote.next_bill_date, billing_cycle_day)
    amount = quote.prorated_amount
    prorated = _prorated_phrase(amount)
    return (
        f"Prorated amount: {prorated} for {quote.remaining_days} of the {quote.cycle_days} "
        f"days of the billing cycle {format_date(quote.cycle_start)} to "
        f"{format_date(quote.cycle_end)}, on your bill of {format_date(quote.next_bill_date)}.\n"
        f"Next billing cycle: {format_date(quote.next_bill_date)} to "
        f"{format_date(following - timedelta(days=1))}, at {_usd(quote.new_price)}/month.\n"
        "Change fee: none."
    )


@changes.register_handler(CHANGE_KIND)
def apply_plan_change(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `plan_change` (run by `changes.confirm_change` after the customer's yes).

    params: new_plan_code, effective_date (ISO date); optional from_plan_code and
    prorated_amount (what was quoted): if the account or the amount no longer match, it raises
    PlanChangeQuoteStale so nothing is applied and the flow re-quotes. Effective today (or a
    date that has passed since the quote): switch now. Later: book a 'scheduled' plan,
    replacing any earlier booking; `apply_due_plan_changes` switches it on the day.
    """
    now = utcnow()
    today = now.date()
    customer = _customer(session, customer_id, lock=True)
    effective = max(date.fromisoformat(str(params["effective_date"])), today)
    quote = quote_plan_change(
        session, customer_id, str(params["new_plan_code"]), effective_date=effective, today=today
    )
    expected_from = params.get("from_plan_code")
    if expected_from is not None and expected_from != quote.current_plan_code:
        raise PlanChangeQuoteStale(
            f"The plan on the account is now {quote.current_plan_name}, not the one quoted; "
            "the change needs a new quote."
        )
    expected_amount = params.get("prorated_amount")
    if expected_amount is not None and Decimal(str(expected_amount)) != quote.prorated_amount:
        raise PlanChangeQuoteStale(
            f"The prorated amount is now {_signed_usd(quote.prorated_amount)} instead of the "
            f"quoted {_signed_usd(Decimal(str(expected_amount)))}; the change needs a new quote."
        )

    active, _ = _active_plan(session, customer_id)
    new_plan = _plan_by_code(session, quote.new_plan_code)
    assert new_plan is not None  # the quote found it
    _cancel_scheduled(session, customer_id, now)
    if quote.immediate:
        active.status = "ended"
        active.ended_at = now
        session.flush()  # the old row leaves the one-active-plan index before the new one
        session.add(
            AccountPlan(
                customer_id=customer_id,
                plan_id=new_plan.id,
                status="active",
                started_at=now,
                prorated_amount=quote.prorated_amount,
            )
        )
    else:
        session.add(
            AccountPlan(
                customer_id=customer_id,
                plan_id=new_plan.id,
                status="scheduled",
                scheduled_for=_start_of(quote.effective_date),
                prorated_amount=quote.prorated_amount,
            )
        )
    session.flush()
    _verify(session, customer_id, quote, today)

    effective_text = format_date(quote.effective_date)
    if quote.immediate:
        interruption = "No interruption: the new allowances apply immediately."
        status = "active"
        subject = f"Your QuickConnect plan is now {quote.new_plan_name}"
        opening = f"Your plan has been changed to {quote.new_plan_name}, effective today."
    else:
        interruption = (
            f"Nothing changes until {effective_text}: you keep {quote.current_plan_name} until "
            f"then, and {quote.new_plan_name} starts that day with no interruption in service."
        )
        status = "scheduled"
        subject = f"Your QuickConnect plan change on {effective_text}"
        opening = (
            f"Your change from {quote.current_plan_name} to {quote.new_plan_name} is booked "
            f"for {effective_text}."
        )
    body = (
        f"Hi {customer.first_name},\n\n{opening}\n\n"
        f"New plan: {_plan_details(new_plan)}.\n"
        f"{_billing_lines(quote, customer.billing_cycle_day)}\n\n{interruption}\n\n"
        f"What you agreed to: {quote.summary}\n\nThank you for choosing QuickConnect."
    )
    verb = "Changed" if quote.immediate else "Scheduled change of"
    log_summary = (
        f"{verb} plan from {quote.current_plan_name} to {quote.new_plan_name} effective "
        f"{quote.effective_date.isoformat()}; prorated amount "
        f"{_signed_usd(quote.prorated_amount)}; no change fee; next bill "
        f"{quote.next_bill_date.isoformat()}"
    )
    if quote.replaces_scheduled_plan_name:
        log_summary += f"; replaced the scheduled change to {quote.replaces_scheduled_plan_name}"
    return ChangeEffect(
        result={
            "status": status,
            "previous_plan_code": quote.current_plan_code,
            "previous_plan_name": quote.current_plan_name,
            "plan_code": quote.new_plan_code,
            "plan_name": quote.new_plan_name,
            "monthly_price": quote.new_price,
            "effective_date": quote.effective_date,
            "prorated_amount": quote.prorated_amount,
            "change_fee": quote.change_fee,
            "next_bill_date": quote.next_bill_date,
            "interruption": interruption,
            "replaced_scheduled_plan_name": quote.replaces_scheduled_plan_name,
            "summary": quote.summary,
        },
        log_summary=log_summary,
        notification=("email", subject, body),
    )


def _verify(session: Session, customer_id: int, quote: PlanChangeQuote, today: date) -> None:
    """The guide's "verify that the new plan details are updated correctly": read the account
    back the way the assistant shows it, and fail (rolling everything back) if it disagrees."""
    view = plan_change.current_plan(session, customer_id, today=today)
    if quote.immediate:
        ok = view.plan_code == quote.new_plan_code
    else:
        ok = (
            view.plan_code == quote.current_plan_code
            and view.scheduled_plan_name == quote.new_plan_name
            and view.scheduled_for is not None
            and view.scheduled_for.date() == quote.effective_date
        )
    if not ok:
        raise PlanChangeNotVisible(
            f"plan change for customer {customer_id} did not show up on the account "
            f"(now {view.plan_code}, scheduled {view.scheduled_plan_name})"
        )


def apply_due_plan_changes(session: Session, today: date | None = None) -> list[str]:
    """Switch every booked plan change whose date has come; returns the account numbers.

    The previous plan ends and the booked one becomes active at the same moment; each switch
    is logged and its confirmation email queued. Running it again does nothing more.
    """
    now = utcnow()
    today = today or now.date()
    # Run for a later day (a dry run of the calendar, or tests): the switch is dated that day.
    switched_at = _start_of(today) if today > now.date() else now
    due = (
        session.execute(
            select(AccountPlan)
            .where(
                AccountPlan.status == "scheduled",
                AccountPlan.scheduled_for < _start_of(today + timedelta(days=1)),
            )
            .order_by(AccountPlan.scheduled_for, AccountPlan.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    switched: list[str] = []
    for booked in due:
        customer = _customer(session, booked.customer_id, lock=True)
        new_plan = session.get(ServicePlan, booked.plan_id)
        active = session.execute(
            select(AccountPlan).where(
                AccountPlan.customer_id == booked.customer_id, AccountPlan.status == "active"
            )
        ).scalar_one_or_none()
        previous_name = None
        if active is not None:
            previous_name = session.get(ServicePlan, active.plan_id).name
            active.status = "ended"
            active.ended_at = switched_at
            session.flush()
        booked.status = "active"
        booked.started_at = switched_at
        session.flush()
        view = plan_change.current_plan(session, customer.id, today=today)
        if view.plan_code != new_plan.code:
            raise PlanChangeNotVisible(
                f"scheduled plan change for {customer.account_number} not applied"
            )
        _notify_switched(session, customer, new_plan, previous_name, booked, today)
        switched.append(customer.account_number)
    return switched


def _notify_switched(
    session: Session,
    customer: Customer,
    new_plan: ServicePlan,
    previous_name: str | None,
    booked: AccountPlan,
    today: date,
) -> None:
    amount = booked.prorated_amount or Decimal("0.00")
    next_bill = next_cycle_start(today, customer.billing_cycle_day)
    prorated = _prorated_phrase(amount)
    from_text = f" from {previous_name}" if previous_name else ""
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=None,
        kind=CHANGE_KIND,
        summary=(
            f"Scheduled plan change{from_text} to {new_plan.name} took effect on "
            f"{today.isoformat()}; prorated amount {_signed_usd(amount)}; next bill "
            f"{next_bill.isoformat()}"
        ),
        outcome="applied",
    )
    queue_notification(
        session,
        customer_id=customer.id,
        channel="email",
        to_address=customer.email,
        subject=f"Your QuickConnect plan is now {new_plan.name}",
        body=(
            f"Hi {customer.first_name},\n\nAs booked, your plan changed{from_text} to "
            f"{new_plan.name} on {format_date(today)}. The new allowances apply now, with no "
            f"interruption in service.\n\nNew plan: {_plan_details(new_plan)}.\n"
            f"Your bill of {format_date(next_bill)} includes {prorated} for this billing "
            f"cycle, and your monthly price from then is {_usd(new_plan.monthly_price)}. "
            "There is no change fee.\n\nThank you for choosing QuickConnect."
        ),
    )
