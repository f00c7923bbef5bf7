"""Kinds, limits, errors and results shared by every step of the service cut-offs guide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from quickconnect.services.changes import ProposedChange

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
