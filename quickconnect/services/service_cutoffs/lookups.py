"""Account reads and formatting that several cut-off steps share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from quickconnect.dates import format_day
from quickconnect.db.models import (
    Bill,
    Customer,
    PaymentMethod,
    PaymentPlan,
    PendingChange,
    ServiceAlert,
    ServiceStatus,
    Ticket,
    utcnow,
)
from quickconnect.identifiers import (
    mask_email,
    mask_phone,
)
from quickconnect.services.notifications import queue_notification
from quickconnect.services.service_cutoffs.common import (
    CENTS,
    CUTOFF_KINDS,
    CutoffError,
    FollowUp,
    Installment,
    PaymentPlanView,
    TicketView,
)

# --- formatting ----------------------------------------------------------------------------------


def usd(value: Decimal) -> str:
    """'$126.40'."""
    return f"${Decimal(value).quantize(CENTS):,.2f}"


def format_time(moment: datetime) -> str:
    """'08:15 UTC on 24 Nov 2026': customers' time zones are not on file, so say UTC."""
    moment = moment.astimezone(UTC)
    return f"{moment:%H:%M} UTC on {format_day(moment.date())}"


# --- lookups -------------------------------------------------------------------------------------


def _customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    if lock:  # serialises payments and restoration of one account
        query = query.with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is None:
        raise CutoffError(f"customer {customer_id} does not exist")
    return customer


def _status_row(session: Session, customer_id: int) -> ServiceStatus:
    row = session.get(ServiceStatus, customer_id)
    if row is None:  # every seeded account has one; a new account starts active
        row = ServiceStatus(customer_id=customer_id, status="active", cutoff_reason="none")
        session.add(row)
        session.flush()
    return row


def _overdue_bills(session: Session, customer_id: int, today: date) -> list[Bill]:
    """Bills marked overdue, and unpaid bills past their due date, oldest first."""
    query = (
        select(Bill)
        .where(
            Bill.customer_id == customer_id,
            or_(Bill.status == "overdue", (Bill.status == "unpaid") & (Bill.due_date < today)),
        )
        .order_by(Bill.due_date, Bill.id)
    )
    return [bill for bill in session.execute(query).scalars() if bill.amount > bill.paid_amount]


def overdue_balance(session: Session, customer_id: int, *, today: date | None = None) -> Decimal:
    """What is overdue now, to the cent."""
    today = today or utcnow().date()
    bills = _overdue_bills(session, customer_id, today)
    return sum((b.amount - b.paid_amount for b in bills), Decimal("0.00")).quantize(CENTS)


def _default_method(session: Session, customer_id: int) -> PaymentMethod | None:
    query = (
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _active_plan(session: Session, customer_id: int) -> PaymentPlan | None:
    query = select(PaymentPlan).where(
        PaymentPlan.customer_id == customer_id, PaymentPlan.status == "active"
    )
    return session.execute(query.order_by(PaymentPlan.id.desc()).limit(1)).scalar_one_or_none()


def _plan_view(plan: PaymentPlan) -> PaymentPlanView:
    return PaymentPlanView(
        total=plan.total,
        status=plan.status,
        installments=tuple(
            Installment(i.due_date, i.amount, i.paid_at is not None) for i in plan.installments
        ),
    )


def _active_alert(session: Session, area: str | None) -> ServiceAlert | None:
    if not area:
        return None
    query = (
        select(ServiceAlert)
        .where(func.lower(ServiceAlert.area) == area.lower(), ServiceAlert.active.is_(True))
        .order_by(ServiceAlert.started_at.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _open_ticket(session: Session, customer_id: int) -> Ticket | None:
    query = (
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.status.in_(("open", "in_progress")))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _ticket_view(ticket: Ticket) -> TicketView:
    return TicketView(
        ticket.ticket_number,
        ticket.summary,
        ticket.status,
        ticket.created_at,
        ticket.estimated_resolution_at,
    )


def _contact(customer: Customer) -> tuple[str, str, str]:
    """(channel, address, masked address) of the customer's preferred contact."""
    if customer.preferred_contact == "sms":
        return "sms", customer.phone, mask_phone(customer.phone) or ""
    return "email", customer.email, mask_email(customer.email) or ""


def _follow_up(
    session: Session, customer: Customer, due_at: datetime, subject: str, body: str
) -> FollowUp:
    """The guide's follow-up: a message queued now, sent by the outbox at `due_at`."""
    channel, address, masked = _contact(customer)
    queue_notification(
        session,
        customer_id=customer.id,
        channel=channel,
        to_address=address,
        subject=subject,
        body=body,
        due_at=due_at,
    )
    return FollowUp(due_at, channel, masked)


def _supersede(session: Session, conversation_id: str, customer_id: int) -> None:
    """Only the latest cut-off offer in a conversation can be accepted (a payment offer is
    replaced by a payment plan offer, for example)."""
    session.execute(
        update(PendingChange)
        .where(
            PendingChange.conversation_id == conversation_id,
            PendingChange.customer_id == customer_id,
            PendingChange.kind.in_(CUTOFF_KINDS),
            PendingChange.status == "proposed",
        )
        .values(status="cancelled", cancelled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
