"""Service cut-offs (guides/service-cutoffs.txt), minus the chat.

The guide's steps map onto this module:
- identify the reason from the account itself (`diagnose`): service status and its notes,
  payment status (overdue bills, a payment plan, the payment method on file) and service
  alerts for the customer's area, so the customer does not have to know it;
- a solution per reason (`handle_cutoff_report` picks it): take a payment against the method
  on file or send a secure payment link (`propose_payment`), a payment plan
  (`payment_plan_options`, `propose_payment_plan`), the violated term with the steps to fix it
  and a reinstatement review by a person (`propose_reinstatement`), a disconnection confirmed
  or newly processed (`propose_disconnection`), a `TK-` ticket with an estimated resolution
  time (`open_outage_ticket`);
- follow up: every solution queues an outbox message due at a later time (`due_at`) to check
  the issue is resolved;
- document: every step is written to the interaction log.

Every change to the account goes through `changes.propose_change` / `confirm_change`; the
handlers registered here do the change itself, in the caller's transaction. A payment records
the payment and, when it clears the overdue balance (or makes a payment plan's first
installment), restores the service, exactly once: the customer row is locked and restoration
only happens from the "suspended for non-payment" state. Money is exact to the cent: a plan's
installments always add up to the balance.

Import this module wherever `changes.confirm_change` may see one of its kinds (the action
server does), otherwise the handlers are not registered.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.dates import format_day
from quickconnect.db.models import (
    AccountPlan,
    Bill,
    Case,
    Customer,
    Payment,
    PaymentMethod,
    PaymentPlan,
    PaymentPlanInstallment,
    PendingChange,
    ServiceAlert,
    ServicePlan,
    ServiceStatus,
    Subscription,
    Ticket,
    utcnow,
)
from quickconnect.identifiers import (
    TICKET_PREFIX,
    allocate_identifier,
    mask_email,
    mask_phone,
    new_token,
    normalize_case_number,
    normalize_ticket_number,
)
from quickconnect.services import changes, handoff
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

PAYMENT_KIND = "cutoff_payment"
PAYMENT_LINK_KIND = "cutoff_payment_link"
PAYMENT_PLAN_KIND = "payment_plan"
REINSTATEMENT_KIND = "reinstatement_request"
DISCONNECTION_KIND = "disconnection"
CUTOFF_KINDS = (
    PAYMENT_KIND,
    PAYMENT_LINK_KIND,
    PAYMENT_PLAN_KIND,
    REINSTATEMENT_KIND,
    DISCONNECTION_KIND,
)
LOG_KIND = "service_cutoff"
DISCONNECTION_LOG_KIND = "request_disconnection"  # the job that carries one out

CENTS = Decimal("0.01")
PLAN_INSTALLMENT_CHOICES = (2, 3, 4)  # monthly installments offered for an overdue balance
DEFAULT_TICKET_HOURS = 24  # estimated resolution when no service alert gives one
FOLLOW_UP_AFTER_FIX = timedelta(hours=1)  # check in this long after the estimated fix
FOLLOW_UP_AFTER_RESTORE = timedelta(hours=24)
FOLLOW_UP_AFTER_LINK = timedelta(hours=24)
FOLLOW_UP_AFTER_REVIEW = timedelta(hours=24)  # reinstatement reviews take up to 24 hours
PAYMENT_LINK_VALID = timedelta(hours=72)
REMIND_DAYS_BEFORE_INSTALLMENT = 3
MAX_DISCONNECTION_DAYS_AHEAD = 90
EQUIPMENT_RETURN_DAYS = 14
PAYMENT_LINK_BASE = "https://pay.quickconnect.example/p/"
RECONNECT_NOTE = "It can take up to 15 minutes to reconnect; restarting your phone helps."


# --- errors ------------------------------------------------------------------------------------


class CutoffError(ValueError):
    """A request this flow cannot carry out; the message can be shown to the customer as is."""


class NothingOverdue(CutoffError):
    """No overdue balance to pay or to spread over a payment plan."""


class NoPaymentMethod(CutoffError):
    """No payment method on file: a secure payment link is the way to pay."""


class InvalidPaymentAmount(CutoffError):
    """Zero, negative, or more than the overdue balance."""


class PaymentQuoteStale(CutoffError):
    """The balance changed since the customer was shown the amount: show it again."""


class PaymentPlanExists(CutoffError):
    """Only one active payment plan at a time."""


class InvalidDisconnectionDate(CutoffError):
    """A disconnection date in the past or too far ahead."""


class DisconnectionAlreadyRequested(CutoffError):
    """The service is already being disconnected (or is disconnected)."""


class NotSuspendedForTerms(CutoffError):
    """A reinstatement review only makes sense for a terms-of-service suspension."""


class CaseNotFound(CutoffError):
    """No case or ticket with that number on this customer's account."""


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueBill:
    period_start: date
    period_end: date
    due_date: date
    amount: Decimal
    outstanding: Decimal


@dataclass(frozen=True)
class Installment:
    due_date: date
    amount: Decimal
    paid: bool = False


@dataclass(frozen=True)
class PaymentPlanView:
    total: Decimal
    status: str
    installments: tuple[Installment, ...]

    @property
    def first_paid(self) -> bool:
        return bool(self.installments) and self.installments[0].paid


@dataclass(frozen=True)
class AlertView:
    area: str
    description: str
    started_at: datetime
    estimated_resolution_at: datetime | None


@dataclass(frozen=True)
class TicketView:
    ticket_number: str
    summary: str
    status: str
    created_at: datetime
    estimated_resolution_at: datetime | None


@dataclass(frozen=True)
class Diagnosis:
    """Everything the account says about a cut-off, and the reason it adds up to."""

    reason: str  # non_payment | terms_violation | requested_disconnection | technical_issue | none
    service_status: str  # active | suspended | pending_disconnection | disconnected | outage
    since: datetime
    note: str | None  # the account note (internal wording, not shown as is)
    overdue_total: Decimal
    overdue_bills: tuple[OverdueBill, ...]
    payment_method_id: int | None
    payment_method_label: str | None
    payment_plan: PaymentPlanView | None
    violated_term: str | None
    remediation_steps: str | None
    disconnection_date: date | None
    final_bill_amount: Decimal | None
    equipment_return: str | None
    alert: AlertView | None
    open_ticket: TicketView | None


@dataclass(frozen=True)
class FollowUp:
    due_at: datetime
    channel: str  # 'email' | 'sms'
    masked_contact: str


@dataclass(frozen=True)
class TicketOpened:
    ticket: TicketView
    is_new: bool  # False: the customer's open ticket was returned instead of a second one
    follow_up: FollowUp | None


@dataclass(frozen=True)
class PaymentProposal:
    """A payment (method on file) or a payment link (no method) awaiting the customer's yes."""

    kind: str  # PAYMENT_KIND | PAYMENT_LINK_KIND
    amount: Decimal
    overdue_total: Decimal
    method_label: str | None
    restores_service: bool  # paying this amount clears the balance and restores service
    summary: str
    change: ProposedChange


@dataclass(frozen=True)
class PaymentPlanOption:
    installments: tuple[Installment, ...]
    total: Decimal

    @property
    def count(self) -> int:
        return len(self.installments)


@dataclass(frozen=True)
class PaymentPlanProposal:
    option: PaymentPlanOption
    method_label: str | None
    summary: str
    change: ProposedChange


@dataclass(frozen=True)
class DisconnectionProposal:
    disconnection_date: date
    final_bill_amount: Decimal
    equipment_return: str
    summary: str
    change: ProposedChange


@dataclass(frozen=True)
class DisconnectionApplied:
    """A booked disconnection `apply_due_disconnections` carried out."""

    account_number: str
    disconnection_date: date  # the day it was booked for


@dataclass(frozen=True)
class ReinstatementProposal:
    violated_term: str
    remediation_steps: str
    summary: str
    change: ProposedChange


@dataclass(frozen=True)
class CutoffReport:
    """What `handle_cutoff_report` found and did: the diagnosis plus the next step."""

    diagnosis: Diagnosis
    payment: PaymentProposal | None = None
    reinstatement: ReinstatementProposal | None = None
    ticket: TicketOpened | None = None

    @property
    def awaiting_consent(self) -> bool:
        return self.payment is not None or self.reinstatement is not None

    @property
    def change_id(self) -> str | None:
        proposal = self.payment or self.reinstatement
        return proposal.change.change_id if proposal else None


@dataclass(frozen=True)
class PaymentReceipt:
    reference: str
    amount: Decimal
    method: str
    paid_at: datetime
    remaining_overdue: Decimal
    restored: bool  # this payment restored the service (False if it was restored before)
    service_status: str
    plan_installments_paid: int = 0


@dataclass(frozen=True)
class CaseStatus:
    kind: str  # 'case' | 'ticket'
    number: str
    status: str
    opened_at: datetime
    about: str  # customer-facing description
    estimated_resolution_at: datetime | None = None
    follow_up_channel: str | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class CaseStatusAnswer:
    items: tuple[CaseStatus, ...]
    asked_for: str | None  # the normalised number asked about, if any


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


# --- 1. identify the reason ----------------------------------------------------------------------


def diagnose(session: Session, customer_id: int, *, now: datetime | None = None) -> Diagnosis:
    """Read the reason for a cut-off off the account: service status, notes, payment status
    and service alerts for the customer's area. Read only."""
    now = now or utcnow()
    customer = _customer(session, customer_id)
    status = _status_row(session, customer_id)
    bills = _overdue_bills(session, customer_id, now.date())
    overdue = sum((b.amount - b.paid_amount for b in bills), Decimal("0.00")).quantize(CENTS)
    method = _default_method(session, customer_id)
    plan = _active_plan(session, customer_id)
    alert = _active_alert(session, customer.area)
    ticket = _open_ticket(session, customer_id)

    reason = status.cutoff_reason
    if reason == "none" and alert is not None:
        reason = "technical_issue"  # an outage in the area, even before the status shows it
    elif reason == "none" and status.status == "outage":
        reason = "technical_issue"
    return Diagnosis(
        reason=reason,
        service_status=status.status,
        since=status.since,
        note=status.note,
        overdue_total=overdue,
        overdue_bills=tuple(
            OverdueBill(
                b.period_start, b.period_end, b.due_date, b.amount, b.amount - b.paid_amount
            )
            for b in bills
        ),
        payment_method_id=method.id if method else None,
        payment_method_label=method.label if method else None,
        payment_plan=_plan_view(plan) if plan else None,
        violated_term=status.violated_term,
        remediation_steps=status.remediation_steps,
        disconnection_date=status.disconnection_date,
        final_bill_amount=status.final_bill_amount,
        equipment_return=status.equipment_return,
        alert=(
            AlertView(
                alert.area, alert.description, alert.started_at, alert.estimated_resolution_at
            )
            if alert
            else None
        ),
        open_ticket=_ticket_view(ticket) if ticket else None,
    )


def handle_cutoff_report(
    session: Session, *, conversation_id: str, customer_id: int, now: datetime | None = None
) -> CutoffReport:
    """ "My service is cut off": find the reason, then set up the guide's solution for it.

    non-payment -> a payment of the overdue balance proposed (method on file) or a secure
    payment link proposed (no method); terms violation -> the reinstatement review proposed
    (the customer confirms the fix and accepts the policy); technical issue, or no reason on
    the account -> a `TK-` ticket with an estimated resolution time and a follow-up;
    requested disconnection -> nothing to change, the request's details are the answer.
    Proposals wait for the customer's yes (`changes.confirm_change`). Logged.
    """
    now = now or utcnow()
    found = diagnose(session, customer_id, now=now)
    report = CutoffReport(found)
    if found.reason == "non_payment" and found.overdue_total > 0:
        plan = found.payment_plan
        if plan is None or not plan.first_paid:
            report = CutoffReport(
                found,
                payment=propose_payment(
                    session, conversation_id=conversation_id, customer_id=customer_id, now=now
                ),
            )
    elif found.reason == "terms_violation" and found.service_status == "suspended":
        report = CutoffReport(
            found,
            reinstatement=propose_reinstatement(
                session, conversation_id=conversation_id, customer_id=customer_id
            ),
        )
    elif found.reason in ("technical_issue", "none"):
        report = CutoffReport(
            found,
            ticket=open_outage_ticket(
                session, conversation_id=conversation_id, customer_id=customer_id, now=now
            ),
        )
    next_step = {
        "non_payment": "payment proposed" if report.payment else "payment plan in place",
        "terms_violation": "reinstatement review proposed" if report.reinstatement else "explained",
        "requested_disconnection": "disconnection details confirmed",
        "technical_issue": "ticket",
        "none": "ticket",
    }[found.reason]
    if report.ticket:
        next_step = f"ticket {report.ticket.ticket.ticket_number}"
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=LOG_KIND,
        summary=(
            f"Customer reported a service cut-off. Reason found: {found.reason} (service "
            f"{found.service_status}, overdue {usd(found.overdue_total)}"
            + (f", alert in {found.alert.area}" if found.alert else "")
            + f"). Next step: {next_step}."
        ),
        outcome="explained",
    )
    return report


# --- technical issues: tickets ------------------------------------------------------------------


def open_outage_ticket(
    session: Session, *, conversation_id: str, customer_id: int, now: datetime | None = None
) -> TicketOpened:
    """A `TK-` ticket with an estimated resolution time, and a follow-up message due shortly
    after it. The customer's open ticket is returned instead of opening a second one."""
    now = now or utcnow()
    customer = _customer(session, customer_id, lock=True)
    existing = _open_ticket(session, customer_id)
    if existing is not None:
        return TicketOpened(_ticket_view(existing), is_new=False, follow_up=None)
    alert = _active_alert(session, customer.area)
    if alert is not None:
        summary = f"No service: {alert.description} (area {alert.area})"
        eta = alert.estimated_resolution_at or now + timedelta(hours=DEFAULT_TICKET_HOURS)
    else:
        summary = "No service reported in chat; no outage known in the area: line check needed"
        eta = now + timedelta(hours=DEFAULT_TICKET_HOURS)
    eta = max(eta, now + timedelta(minutes=30))  # an overdue estimate is not an estimate
    ticket = Ticket(
        ticket_number=allocate_identifier(session, Ticket, Ticket.ticket_number, TICKET_PREFIX),
        customer_id=customer_id,
        conversation_id=conversation_id,
        summary=summary,
        status="open",
        estimated_resolution_at=eta,
        created_at=now,
    )
    session.add(ticket)
    session.flush()
    follow_up = _follow_up(
        session,
        customer,
        eta + FOLLOW_UP_AFTER_FIX,
        f"Is your QuickConnect service back? (ticket {ticket.ticket_number})",
        f"Hi {customer.first_name}, we expected to fix the problem on ticket "
        f"{ticket.ticket_number} by {format_time(eta)}. Is your service working again? If "
        f"not, reply to this message or chat with us and quote {ticket.ticket_number}.",
    )
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="technical_ticket",
        summary=f"Opened {ticket.ticket_number}: {summary}; estimated resolution "
        f"{eta.isoformat()}; follow-up by {follow_up.channel} at {follow_up.due_at.isoformat()}",
        outcome="ticket_opened",
    )
    return TicketOpened(_ticket_view(ticket), is_new=True, follow_up=follow_up)


# --- non-payment: payments ----------------------------------------------------------------------


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


def propose_payment(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    amount: Decimal | None = None,
    now: datetime | None = None,
) -> PaymentProposal:
    """Offer to pay the overdue balance (or `amount` of it) with the method on file, or, with
    no method on file, to send a secure payment link (card numbers are never taken in chat).
    Raises NothingOverdue or InvalidPaymentAmount."""
    now = now or utcnow()
    overdue = overdue_balance(session, customer_id, today=now.date())
    if overdue <= 0:
        raise NothingOverdue("There's nothing overdue on your account, so there's nothing to pay.")
    amount = overdue if amount is None else Decimal(amount).quantize(CENTS)
    if amount <= 0:
        raise InvalidPaymentAmount("A payment has to be more than $0.00.")
    if amount > overdue:
        raise InvalidPaymentAmount(
            f"That's more than your overdue balance of {usd(overdue)}; I can take up to "
            f"{usd(overdue)}."
        )
    method = _default_method(session, customer_id)
    customer = _customer(session, customer_id)
    restores = amount == overdue and _status_row(session, customer_id).status == "suspended"
    left = overdue - amount
    if method is not None:
        summary = f"Pay {usd(amount)} now with your {method.label}"
        summary += (
            f", clearing your overdue balance of {usd(overdue)}"
            if left == 0
            else f" towards your overdue balance of {usd(overdue)}, leaving {usd(left)} overdue"
        )
        kind = PAYMENT_KIND
        params: dict[str, Any] = {
            "amount": amount,
            "payment_method_id": method.id,
            "overdue_total": overdue,
        }
    else:
        summary = (
            f"Email a secure payment link for {usd(amount)} (your overdue balance of "
            f"{usd(overdue)}) to {mask_email(customer.email)}"
        )
        kind = PAYMENT_LINK_KIND
        params = {"amount": amount, "purpose": "overdue balance", "overdue_total": overdue}
    if restores:
        summary += (
            "; your service is restored as soon as the payment goes through"
            if method
            else "; once it's paid, your service is restored automatically"
        )
    elif left > 0:
        summary += "; your service stays suspended until the whole overdue balance is paid"
    summary += "."
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=kind,
        params=params,
        summary=summary,
        amount=amount,
    )
    return PaymentProposal(
        kind, amount, overdue, method.label if method else None, restores, summary, proposed
    )


def _plan_paid_installments(session: Session, plan: PaymentPlan) -> int:
    """Mark installments paid, in due order, as far as payments since the plan cover them."""
    paid_since = session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.customer_id == plan.customer_id, Payment.paid_at >= plan.created_at
        )
    ).scalar_one()
    covered = Decimal(str(paid_since)).quantize(CENTS)
    running = Decimal("0.00")
    newly = 0
    for installment in plan.installments:
        running += installment.amount
        if running > covered:
            break
        if installment.paid_at is None:
            installment.paid_at = utcnow()
            newly += 1
    if all(i.paid_at is not None for i in plan.installments):
        plan.status = "completed"
    session.flush()
    return newly


def _restore_if_due(
    session: Session, customer: Customer, *, conversation_id: str | None, now: datetime
) -> bool:
    """Back on from "suspended for non-payment" once the balance is paid or a payment plan's
    first installment is. Only from that state, under the customer's row lock, so a service
    is restored exactly once however many payments arrive."""
    status = _status_row(session, customer.id)
    if status.status != "suspended" or status.cutoff_reason != "non_payment":
        return False
    balance = overdue_balance(session, customer.id, today=now.date())
    plan = _active_plan(session, customer.id)
    plan_started = plan is not None and plan.installments and plan.installments[0].paid_at
    if balance > 0 and not plan_started:
        return False
    status.status = "active"
    status.cutoff_reason = "none"
    status.since = now
    status.note = (
        "Restored after the overdue balance was paid."
        if balance == 0
        else "Restored after the first installment of a payment plan was paid."
    )
    session.flush()
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=conversation_id,
        kind="service_restored",
        summary=f"Service restored at {now.isoformat()}: {status.note}",
        outcome="restored",
    )
    _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_RESTORE,
        "Is your QuickConnect service working again?",
        f"Hi {customer.first_name}, your service was restored at {format_time(now)}. We're "
        "checking in to make sure everything works. If it doesn't, restart your phone, and "
        "if that doesn't help, reply to this message or chat with us.",
    )
    return True


def record_payment(
    session: Session,
    customer_id: int,
    amount: Decimal,
    method_label: str,
    *,
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> PaymentReceipt:
    """Money received against the overdue balance (in chat with the method on file, or from
    the secure payment page): a payment row with a reference, bills settled oldest first,
    a payment plan's installments marked, and the service restored when that is now due.
    Raises InvalidPaymentAmount for zero or more than the overdue balance."""
    now = now or utcnow()
    customer = _customer(session, customer_id, lock=True)
    amount = Decimal(amount).quantize(CENTS)
    bills = _overdue_bills(session, customer_id, now.date())
    overdue = sum((b.amount - b.paid_amount for b in bills), Decimal("0.00"))
    if amount <= 0:
        raise InvalidPaymentAmount("A payment has to be more than $0.00.")
    if amount > overdue:
        raise InvalidPaymentAmount(
            f"{usd(amount)} is more than the overdue balance of {usd(overdue)}."
        )
    left = amount
    touched: list[Bill] = []
    for bill in bills:
        if left <= 0:
            break
        part = min(left, bill.amount - bill.paid_amount)
        bill.paid_amount = (bill.paid_amount + part).quantize(CENTS)
        if bill.paid_amount >= bill.amount:
            bill.status = "paid"
        left -= part
        touched.append(bill)
    payment = Payment(
        customer_id=customer_id,
        bill_id=touched[0].id if len(touched) == 1 else None,
        amount=amount,
        method=method_label,
        paid_at=now,
        reference=allocate_identifier(session, Payment, Payment.reference, "PAY"),
    )
    session.add(payment)
    session.flush()
    plan = _active_plan(session, customer_id)
    newly_paid = _plan_paid_installments(session, plan) if plan is not None else 0
    restored = _restore_if_due(session, customer, conversation_id=conversation_id, now=now)
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="payment",
        summary=f"Payment {payment.reference} of {usd(amount)} by {method_label}; overdue "
        f"balance {usd(overdue)} -> {usd(overdue - amount)}"
        + ("; service restored" if restored else ""),
        outcome="paid",
    )
    return PaymentReceipt(
        reference=payment.reference,
        amount=amount,
        method=method_label,
        paid_at=now,
        remaining_overdue=(overdue - amount).quantize(CENTS),
        restored=restored,
        service_status=_status_row(session, customer_id).status,
        plan_installments_paid=newly_paid,
    )


def _check_balance(session: Session, customer_id: int, params: dict[str, Any]) -> Decimal:
    """The balance the customer was shown must still be the balance (no double payment when
    two offers are accepted, or a payment came in meanwhile)."""
    overdue = overdue_balance(session, customer_id)
    shown = Decimal(str(params["overdue_total"]))
    if overdue != shown:
        if overdue == 0:
            raise PaymentQuoteStale(
                "Your overdue balance has already been paid, so I haven't taken anything."
            )
        raise PaymentQuoteStale(
            f"Your overdue balance is now {usd(overdue)}, not the {usd(shown)} I showed you, "
            "so I haven't taken anything. Please ask again and I'll show the new amount."
        )
    return overdue


@changes.register_handler(PAYMENT_KIND)
def apply_payment(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `cutoff_payment`: charge the method on file, restore service if due."""
    customer = _customer(session, customer_id, lock=True)
    _check_balance(session, customer_id, params)
    method = session.get(PaymentMethod, int(params["payment_method_id"]))
    if method is None or method.customer_id != customer_id:
        raise PaymentQuoteStale(
            "The payment method I offered is no longer on your account, so I haven't taken "
            "anything."
        )
    receipt = record_payment(session, customer_id, Decimal(str(params["amount"])), method.label)
    if receipt.restored:
        service = f"Your service was restored at {format_time(receipt.paid_at)}."
    elif receipt.service_status == "suspended":
        service = (
            f"{usd(receipt.remaining_overdue)} is still overdue, so your service stays "
            "suspended until that is paid (or a payment plan is set up)."
        )
    else:
        service = "Your service is active."
    body = (
        f"Hi {customer.first_name},\n\nThank you for your payment of {usd(receipt.amount)} with "
        f"your {method.label} (reference {receipt.reference}).\n"
        f"Overdue balance remaining: {usd(receipt.remaining_overdue)}.\n{service}\n\n"
        "QuickConnect"
    )
    return ChangeEffect(
        result={
            "reference": receipt.reference,
            "amount": receipt.amount,
            "method": method.label,
            "remaining_overdue": receipt.remaining_overdue,
            "restored": receipt.restored,
            "restored_at": receipt.paid_at if receipt.restored else None,
            "service_status": receipt.service_status,
            "follow_up_at": receipt.paid_at + FOLLOW_UP_AFTER_RESTORE if receipt.restored else None,
            "follow_up_channel": _contact(customer)[0],
            "summary": f"Paid {usd(receipt.amount)} (reference {receipt.reference}).",
        },
        log_summary=f"Took a payment of {usd(receipt.amount)} with {method.label} (reference "
        f"{receipt.reference}); {usd(receipt.remaining_overdue)} still overdue"
        + ("; service restored" if receipt.restored else ""),
        notification=("email", f"Payment received: {usd(receipt.amount)}", body),
    )


def _payment_link(
    session: Session, customer: Customer, amount: Decimal, purpose: str, now: datetime
) -> tuple[str, datetime, FollowUp]:
    """A single-use secure payment page link, and a reminder if it has not been used."""
    link = PAYMENT_LINK_BASE + new_token()
    expires = now + PAYMENT_LINK_VALID
    follow_up = _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_LINK,
        "Your QuickConnect payment link",
        f"Hi {customer.first_name}, a reminder about the secure payment link we emailed you "
        f"for {usd(amount)} ({purpose}); it works until {format_time(expires)}. If you've "
        "already paid, thank you: your service comes back on automatically.",
    )
    return link, expires, follow_up


@changes.register_handler(PAYMENT_LINK_KIND)
def apply_payment_link(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `cutoff_payment_link`: email a secure payment link (no method on file)."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    _check_balance(session, customer_id, params)
    amount = Decimal(str(params["amount"]))
    purpose = str(params.get("purpose") or "overdue balance")
    link, expires, follow_up = _payment_link(session, customer, amount, purpose, now)
    body = (
        f"Hi {customer.first_name},\n\nHere is your secure QuickConnect payment link for "
        f"{usd(amount)} ({purpose}):\n{link}\n\nIt works until {format_time(expires)}. You can "
        "pay by card or bank transfer on that page; we never ask for card numbers by chat or "
        "email. As soon as the payment goes through, your service is restored automatically.\n\n"
        "QuickConnect"
    )
    return ChangeEffect(
        result={
            "amount": amount,
            "purpose": purpose,
            "expires_at": expires,
            "masked_email": mask_email(customer.email),
            "follow_up_at": follow_up.due_at,
            "follow_up_channel": follow_up.channel,
            "summary": f"Sent a secure payment link for {usd(amount)}.",
        },
        log_summary=f"Emailed a secure payment link for {usd(amount)} ({purpose}); valid until "
        f"{expires.isoformat()}; reminder at {follow_up.due_at.isoformat()}",
        notification=("email", f"Your secure payment link for {usd(amount)}", body),
    )


# --- non-payment: payment plans -----------------------------------------------------------------


def _month_later(day: date, months: int) -> date:
    """Same day `months` later, or the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def split_installments(total: Decimal, count: int, first_due: date) -> tuple[Installment, ...]:
    """`count` monthly installments from `first_due` that add up to `total` exactly: equal
    amounts rounded down to the cent, the leftover cents on the last installments."""
    if count < 1:
        raise ValueError("a payment plan needs at least one installment")
    total = Decimal(total).quantize(CENTS)
    base = (total / count).quantize(CENTS, rounding=ROUND_DOWN)
    extra_cents = int((total - base * count) / CENTS)
    amounts = [base + (CENTS if i >= count - extra_cents else 0) for i in range(count)]
    return tuple(
        Installment(_month_later(first_due, i), amount) for i, amount in enumerate(amounts)
    )


def payment_plan_options(
    session: Session, customer_id: int, *, today: date | None = None
) -> tuple[Decimal, tuple[PaymentPlanOption, ...]]:
    """The overdue balance and the plans on offer (2, 3 or 4 monthly installments, the first
    today). Raises NothingOverdue or PaymentPlanExists."""
    today = today or utcnow().date()
    overdue = overdue_balance(session, customer_id, today=today)
    if _active_plan(session, customer_id) is not None:
        raise PaymentPlanExists("You already have a payment plan for your overdue balance.")
    if overdue <= 0:
        raise NothingOverdue(
            "There's nothing overdue on your account, so there's no need for a payment plan."
        )
    return overdue, tuple(
        PaymentPlanOption(split_installments(overdue, n, today), overdue)
        for n in PLAN_INSTALLMENT_CHOICES
    )


def _schedule_text(installments: tuple[Installment, ...]) -> str:
    return ", ".join(f"{usd(i.amount)} on {format_day(i.due_date)}" for i in installments)


def propose_payment_plan(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    installments: int,
    today: date | None = None,
) -> PaymentPlanProposal:
    """Offer a plan of `installments` monthly payments for the whole overdue balance."""
    today = today or utcnow().date()
    if installments not in PLAN_INSTALLMENT_CHOICES:
        choices = ", ".join(str(n) for n in PLAN_INSTALLMENT_CHOICES[:-1])
        raise CutoffError(
            f"A payment plan can have {choices} or {PLAN_INSTALLMENT_CHOICES[-1]} installments."
        )
    overdue, options = payment_plan_options(session, customer_id, today=today)
    option = next(o for o in options if o.count == installments)
    method = _default_method(session, customer_id)
    first = option.installments[0]
    summary = (
        f"A payment plan for your overdue balance of {usd(overdue)} in {installments} monthly "
        f"installments: {_schedule_text(option.installments)}"
    )
    if method is not None:
        summary += (
            f". The first installment of {usd(first.amount)} is taken now with your "
            f"{method.label}, and your service is restored as soon as it goes through"
        )
    else:
        summary += (
            f". I'll email you a secure payment link for the first installment of "
            f"{usd(first.amount)}; your service is restored as soon as it's paid"
        )
    summary += (
        f". We'll remind you {REMIND_DAYS_BEFORE_INSTALLMENT} days before each of the other "
        "installments."
    )
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=PAYMENT_PLAN_KIND,
        params={
            "overdue_total": overdue,
            "installments": [[i.due_date, i.amount] for i in option.installments],
            "payment_method_id": method.id if method else None,
        },
        summary=summary,
        amount=first.amount,
    )
    return PaymentPlanProposal(option, method.label if method else None, summary, proposed)


@changes.register_handler(PAYMENT_PLAN_KIND)
def apply_payment_plan(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `payment_plan`: the plan and its schedule; the first installment taken with
    the method on file (service restored) or a payment link sent for it; reminders queued."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    overdue = _check_balance(session, customer_id, params)
    if _active_plan(session, customer_id) is not None:
        raise PaymentPlanExists("You already have a payment plan for your overdue balance.")
    schedule = [
        Installment(date.fromisoformat(str(day)), Decimal(str(amount)))
        for day, amount in params["installments"]
    ]
    if sum((i.amount for i in schedule), Decimal("0.00")) != overdue:
        raise PaymentQuoteStale("The installments no longer add up to your overdue balance.")
    plan = PaymentPlan(customer_id=customer_id, total=overdue, status="active", created_at=now)
    session.add(plan)
    session.flush()
    for item in schedule:
        session.add(
            PaymentPlanInstallment(
                payment_plan_id=plan.id, due_date=item.due_date, amount=item.amount
            )
        )
    session.flush()
    session.refresh(plan)
    first = schedule[0]
    result: dict[str, Any] = {
        "total": overdue,
        "installments": [[i.due_date, i.amount] for i in schedule],
        "restored": False,
        "reference": None,
        "method": None,
    }
    method_id = params.get("payment_method_id")
    method = session.get(PaymentMethod, int(method_id)) if method_id else None
    if method is not None and method.customer_id == customer_id:
        receipt = record_payment(session, customer_id, first.amount, method.label, now=now)
        result |= {
            "reference": receipt.reference,
            "method": method.label,
            "restored": receipt.restored,
            "restored_at": now if receipt.restored else None,
            "service_status": receipt.service_status,
        }
        first_line = f"First installment paid today: {usd(first.amount)} with your {method.label} "
        first_line += f"(reference {receipt.reference})."
    else:
        link, expires, _ = _payment_link(session, customer, first.amount, "first installment", now)
        result |= {"link_sent": True, "link_expires_at": expires, "service_status": "suspended"}
        first_line = (
            f"Pay the first installment of {usd(first.amount)} with this secure link: {link} "
            f"(it works until {format_time(expires)}). Your service is restored as soon as it's "
            "paid."
        )
    for item in schedule[1:]:
        remind_on = item.due_date - timedelta(days=REMIND_DAYS_BEFORE_INSTALLMENT)
        _follow_up(
            session,
            customer,
            datetime.combine(remind_on, time(9, 0), tzinfo=UTC),
            f"Payment plan: {usd(item.amount)} due on {format_day(item.due_date)}",
            f"Hi {customer.first_name}, a reminder that the next installment of your payment "
            f"plan, {usd(item.amount)}, is due on {format_day(item.due_date)}. You can pay it "
            "in our chat or app.",
        )
    result["summary"] = f"Payment plan of {len(schedule)} installments for {usd(overdue)}."
    body = (
        f"Hi {customer.first_name},\n\nYour payment plan for the overdue balance of "
        f"{usd(overdue)} is set up:\n"
        + "\n".join(f"- {format_day(i.due_date)}: {usd(i.amount)}" for i in schedule)
        + f"\n\n{first_line}\n\nWe'll remind you {REMIND_DAYS_BEFORE_INSTALLMENT} days before "
        "each of the other installments.\n\nQuickConnect"
    )
    return ChangeEffect(
        result=result,
        log_summary=f"Payment plan for {usd(overdue)}: {_schedule_text(tuple(schedule))}"
        + ("; first installment paid, service restored" if result["restored"] else ""),
        notification=("email", f"Your payment plan for {usd(overdue)}", body),
    )


# --- terms violation: reinstatement review --------------------------------------------------------


def propose_reinstatement(
    session: Session, *, conversation_id: str, customer_id: int
) -> ReinstatementProposal:
    """After naming the violated term and the steps to fix it: the customer confirms the fix
    and accepts the policy, and a person reviews the account for reinstatement."""
    status = _status_row(session, customer_id)
    if status.status != "suspended" or status.cutoff_reason != "terms_violation":
        raise NotSuspendedForTerms("Your service isn't suspended for a terms violation.")
    term = status.violated_term or "our terms of service"
    steps = status.remediation_steps or "Stop the activity that breaches the terms."
    summary = (
        f"You confirm you have put right the breach of {term.split(':')[0]} as described, and "
        "you accept the Acceptable Use Policy; I'll open a case for our team to review your "
        "account and restore the service"
    )
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=REINSTATEMENT_KIND,
        params={"conversation_id": conversation_id, "violated_term": term},
        summary=summary + ".",
    )
    return ReinstatementProposal(term, steps, summary + ".", proposed)


@changes.register_handler(REINSTATEMENT_KIND)
def apply_reinstatement(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `reinstatement_request`: a `CS-` case for a person (reinstatement is a
    person's decision), with a follow-up message once the review should be done."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    status = _status_row(session, customer_id)
    if status.status != "suspended" or status.cutoff_reason != "terms_violation":
        raise NotSuspendedForTerms("Your service isn't suspended for a terms violation any more.")
    term = str(params.get("violated_term") or status.violated_term or "the terms of service")
    case = handoff.open_case(
        session,
        conversation_id=str(params["conversation_id"]),
        customer_id=customer_id,
        reason="guide_escalation",
        summary=f"Reinstatement review after a terms-violation suspension ({term}). The "
        "customer confirmed in chat that the breach is put right and accepted the Acceptable "
        "Use Policy.",
        live_chat=False,  # a review by the team, not a live chat: the customer is followed up
    )
    follow_up = _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_REVIEW,
        f"Your reinstatement review (case {case.case_number})",
        f"Hi {customer.first_name}, we're checking on the review of your account under case "
        f"{case.case_number}. If your service isn't back yet, reply to this message or chat "
        "with us and quote the case number.",
    )
    body = (
        f"Hi {customer.first_name},\n\nThank you for confirming that the breach of {term} has "
        "been put right and for accepting our Acceptable Use Policy. Our team will review your "
        f"account under case {case.case_number}; after the review, service is restored within "
        "24 hours.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={
            "case_number": case.case_number,
            "agents_online": case.agents_online,
            "expected_wait_minutes": case.expected_wait_minutes,
            "follow_up_at": follow_up.due_at,
            "follow_up_channel": follow_up.channel,
            "summary": f"Reinstatement review requested (case {case.case_number}).",
        },
        log_summary=f"Customer accepted the Acceptable Use Policy after a suspension for {term}; "
        f"reinstatement review case {case.case_number} opened",
        notification=("email", f"Your reinstatement review: case {case.case_number}", body),
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


# --- follow-ups: cases and tickets ---------------------------------------------------------------

_CASE_ABOUT = {
    "customer_request": "you asked to talk to a person",
    "verification_failed": "help with verifying your identity",
    "repeated_misunderstanding": "a question our assistant couldn't answer",
    "guide_escalation": "a review by our support team",
    "system_error": "a problem with our systems",
}
_STATUS_WORDS = {
    "open": "open",
    "assigned": "with a member of our team",
    "in_progress": "being worked on",
    "resolved": "resolved",
}


def _case_status(case: Case) -> CaseStatus:
    return CaseStatus(
        kind="case",
        number=case.case_number,
        status=_STATUS_WORDS.get(case.status, case.status),
        opened_at=case.created_at,
        about=_CASE_ABOUT.get(case.reason, "a support request"),
        follow_up_channel=case.follow_up_channel,
        resolved_at=case.resolved_at,
    )


def _ticket_status(ticket: Ticket) -> CaseStatus:
    return CaseStatus(
        kind="ticket",
        number=ticket.ticket_number,
        status=_STATUS_WORDS.get(ticket.status, ticket.status),
        opened_at=ticket.created_at,
        about=ticket.summary,
        estimated_resolution_at=ticket.estimated_resolution_at,
        resolved_at=ticket.resolved_at,
    )


def check_case_status(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    number: str | None = None,
) -> CaseStatusAnswer:
    """A case (CS-) or ticket (TK-) by number, or the customer's open ones. A number that
    is not on this customer's account is "not found" (whether or not it exists). Logged."""
    items: list[CaseStatus] = []
    asked: str | None = None
    if number:
        asked = normalize_case_number(number) or normalize_ticket_number(number)
        if asked is None:
            raise CaseNotFound(
                f'"{number}" doesn\'t look like a case (CS-123456) or ticket (TK-123456) number.'
            )
        if asked.startswith("CS-"):
            case = session.execute(
                select(Case).where(Case.case_number == asked, Case.customer_id == customer_id)
            ).scalar_one_or_none()
            if case is not None:
                items.append(_case_status(case))
        else:
            ticket = session.execute(
                select(Ticket).where(
                    Ticket.ticket_number == asked, Ticket.customer_id == customer_id
                )
            ).scalar_one_or_none()
            if ticket is not None:
                items.append(_ticket_status(ticket))
        if not items:
            raise CaseNotFound(f"I couldn't find {asked} on your account.")
    else:
        cases = session.execute(
            select(Case)
            .where(Case.customer_id == customer_id, Case.status.in_(("open", "assigned")))
            .order_by(Case.created_at, Case.id)
        ).scalars()
        tickets = session.execute(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(("open", "in_progress")))
            .order_by(Ticket.created_at, Ticket.id)
        ).scalars()
        items = [_case_status(c) for c in cases] + [_ticket_status(t) for t in tickets]
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="case_status",
        summary=f"Status asked for {asked or 'open cases and tickets'}: "
        + (", ".join(f"{i.number} {i.status}" for i in items) or "none open"),
        outcome="answered",
    )
    return CaseStatusAnswer(tuple(items), asked)
