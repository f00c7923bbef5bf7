"""Requested disconnection: confirmed or booked for a date, with the final bill and the
equipment return; the job that carries booked ones out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.dates import format_day
from quickconnect.db.models import (
    AccountPlan,
    Bill,
    ServicePlan,
    ServiceStatus,
    Subscription,
    utcnow,
)
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification
from quickconnect.services.service_cutoffs.common import (
    CENTS,
    DISCONNECTION_KIND,
    DISCONNECTION_LOG_KIND,
    EQUIPMENT_RETURN_DAYS,
    MAX_DISCONNECTION_DAYS_AHEAD,
    DisconnectionAlreadyRequested,
    DisconnectionApplied,
    DisconnectionProposal,
    InvalidDisconnectionDate,
)
from quickconnect.services.service_cutoffs.lookups import (
    _contact,
    _customer,
    _follow_up,
    _status_row,
    _supersede,
    usd,
)

# --- requested disconnection ---------------------------------------------------------------------


def _monthly_charges(session: Session, customer_id: int) -> Decimal:
    plan_price = session.execute(
        select(ServicePlan.monthly_price)
        .join(AccountPlan, AccountPlan.plan_id == ServicePlan.id)
        .where(AccountPlan.customer_id == customer_id, AccountPlan.status == "active")
    ).scalar_one_or_none() or Decimal("0.00")
    addons = session.execute(
        select(func.coalesce(func.sum(Subscription.monthly_price), 0)).where(
            Subscription.customer_id == customer_id,
            Subscription.status.in_(("active", "pending_activation")),
        )
    ).scalar_one()
    return Decimal(str(plan_price)) + Decimal(str(addons))


def final_bill_estimate(
    session: Session, customer_id: int, disconnection_date: date, *, today: date
) -> Decimal:
    """Unbilled service from the current billing cycle's start up to and including the
    disconnection date (prorated by day within each cycle), plus anything still unpaid."""
    customer = _customer(session, customer_id)
    monthly = _monthly_charges(session, customer_id)
    total = Decimal("0")
    start = cycle_start(today, customer.billing_cycle_day)
    while start <= disconnection_date:
        following = next_cycle_start(start, customer.billing_cycle_day)
        last = min(disconnection_date, following - timedelta(days=1))
        total += monthly * Decimal((last - start).days + 1) / Decimal((following - start).days)
        start = following
    unpaid = session.execute(
        select(func.coalesce(func.sum(Bill.amount - Bill.paid_amount), 0)).where(
            Bill.customer_id == customer_id, Bill.status.in_(("unpaid", "overdue"))
        )
    ).scalar_one()
    return (total + Decimal(str(unpaid))).quantize(CENTS)


def propose_disconnection(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    disconnection_date: date | None = None,
    today: date | None = None,
) -> DisconnectionProposal:
    """Offer to disconnect on `disconnection_date` (default: the last day of the billing
    cycle, so no part-month is billed) with the final bill and the equipment return.
    Raises DisconnectionAlreadyRequested or InvalidDisconnectionDate."""
    today = today or utcnow().date()
    status = _status_row(session, customer_id)
    if status.status in ("pending_disconnection", "disconnected"):
        when = format_day(status.disconnection_date) if status.disconnection_date else "soon"
        raise DisconnectionAlreadyRequested(
            f"Your service is already set to be disconnected ({when})."
        )
    customer = _customer(session, customer_id)
    day = disconnection_date or next_cycle_start(today, customer.billing_cycle_day) - timedelta(
        days=1
    )
    if day < today:
        raise InvalidDisconnectionDate(
            f"A disconnection can't be in the past ({format_day(day)}); the earliest is today."
        )
    latest = today + timedelta(days=MAX_DISCONNECTION_DAYS_AHEAD)
    if day > latest:
        raise InvalidDisconnectionDate(
            f"A disconnection can be booked up to {MAX_DISCONNECTION_DAYS_AHEAD} days ahead "
            f"(until {format_day(latest)})."
        )
    final_bill = final_bill_estimate(session, customer_id, day, today=today)
    return_by = day + timedelta(days=EQUIPMENT_RETURN_DAYS)
    equipment = (
        f"Return any QuickConnect equipment (such as a router) by {format_day(return_by)} with "
        "the prepaid label we'll email you"
    )
    summary = (
        f"Disconnect your QuickConnect service on {format_day(day)}. Your final bill will be "
        f"about {usd(final_bill)} (service up to that day"
        + (" plus the unpaid balance" if status.cutoff_reason == "non_payment" else "")
        + f"). {equipment}."
    )
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=DISCONNECTION_KIND,
        params={
            "disconnection_date": day,
            "final_bill_amount": final_bill,
            "equipment_return": equipment,
        },
        summary=summary,
        amount=final_bill,
    )
    return DisconnectionProposal(day, final_bill, equipment, summary, proposed)


@changes.register_handler(DISCONNECTION_KIND)
def apply_disconnection(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `disconnection`: book it on the service status, follow up on the day."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    status = _status_row(session, customer_id)
    if status.status in ("pending_disconnection", "disconnected"):
        raise DisconnectionAlreadyRequested("Your service is already set to be disconnected.")
    day = date.fromisoformat(str(params["disconnection_date"]))
    final_bill = Decimal(str(params["final_bill_amount"]))
    status.status = "pending_disconnection"
    status.cutoff_reason = "requested_disconnection"
    status.since = now
    status.disconnection_date = day
    status.final_bill_amount = final_bill
    status.equipment_return = str(params["equipment_return"])
    status.note = f"Customer asked in chat for disconnection on {day.isoformat()}."
    session.flush()
    follow_up = _follow_up(
        session,
        customer,
        datetime.combine(day, time(9, 0), tzinfo=UTC),
        "Your QuickConnect disconnection today",
        f"Hi {customer.first_name}, as you asked, your QuickConnect service is disconnected "
        f"today. Your final bill will be about {usd(final_bill)}. "
        f"{status.equipment_return}. Thank you for being with us.",
    )
    body = (
        f"Hi {customer.first_name},\n\nAs requested, your QuickConnect service will be "
        f"disconnected on {format_day(day)}.\nFinal bill: about {usd(final_bill)}.\n"
        f"{status.equipment_return}.\n\nChanged your mind? Chat with us before then.\n\n"
        "QuickConnect"
    )
    return ChangeEffect(
        result={
            "disconnection_date": day,
            "final_bill_amount": final_bill,
            "equipment_return": status.equipment_return,
            "follow_up_at": follow_up.due_at,
            "follow_up_channel": follow_up.channel,
            "summary": f"Disconnection booked for {format_day(day)}.",
        },
        log_summary=f"Disconnection booked for {day.isoformat()}; final bill about "
        f"{usd(final_bill)}; {status.equipment_return}",
        notification=("email", f"Your disconnection on {format_day(day)}", body),
    )


def apply_due_disconnections(session: Session, today: date) -> list[DisconnectionApplied]:
    """Carry out every booked disconnection whose date has come (run by `quickconnect.jobs`).

    Booking one (`apply_disconnection`) only marks the service 'pending_disconnection' with a
    date; without this step nothing ever disconnects it. Each due account becomes
    'disconnected' (the reason stays 'requested_disconnection'), the step is logged on the
    customer's record and a short message about the final bill and any equipment return is
    queued to their preferred contact. The status only changes from 'pending_disconnection'
    (a guarded UPDATE, under the customer lock the chat handlers take first), so running it
    twice, or twice at once, disconnects and notifies each account exactly once.
    """
    now = utcnow()
    # Run for a later day (a dry run of the calendar, or tests): the change is dated that day.
    disconnected_at = datetime.combine(today, time(), tzinfo=UTC) if today > now.date() else now
    due = session.execute(
        select(ServiceStatus.customer_id)
        .where(
            ServiceStatus.status == "pending_disconnection",
            ServiceStatus.disconnection_date <= today,
        )
        .order_by(ServiceStatus.disconnection_date, ServiceStatus.customer_id)
    ).scalars()
    applied: list[DisconnectionApplied] = []
    for customer_id in list(due):
        customer = _customer(session, customer_id, lock=True)
        changed = session.execute(
            update(ServiceStatus)
            .where(
                ServiceStatus.customer_id == customer_id,
                ServiceStatus.status == "pending_disconnection",
                ServiceStatus.disconnection_date <= today,
            )
            .values(status="disconnected", since=disconnected_at)  # the reason stays as booked
        )
        if changed.rowcount != 1:  # another run (or a change in chat) got there first
            continue
        status = session.get(ServiceStatus, customer_id, populate_existing=True)
        day: date = status.disconnection_date
        final_bill = (
            f"Your final bill will be about {usd(status.final_bill_amount)}."
            if status.final_bill_amount is not None
            else "Your final bill will follow."
        )
        equipment = f" {status.equipment_return.rstrip('.')}." if status.equipment_return else ""
        log_interaction(
            session,
            customer_id=customer_id,
            conversation_id=None,
            kind=DISCONNECTION_LOG_KIND,
            summary=f"Service disconnected as requested (booked for {day.isoformat()}). "
            f"{final_bill}{equipment}",
            outcome="disconnected",
        )
        channel, address, _ = _contact(customer)
        queue_notification(
            session,
            customer_id=customer_id,
            channel=channel,
            to_address=address,
            subject="Your QuickConnect service has been disconnected",
            body=f"Hi {customer.first_name}, as you asked, your QuickConnect service has been "
            f"disconnected. {final_bill}{equipment} Thank you for being with us.",
        )
        applied.append(DisconnectionApplied(customer.account_number, day))
    return applied
