"""Service cut-offs (guides/service-cutoffs.txt), minus the chat: one module per step of the guide.

- identify the reason from the account itself (`diagnosis.diagnose`) and pick the solution
  for it (`diagnosis.handle_cutoff_report`);
- non-payment: take a payment or send a secure payment link (`payments`), or split the
  balance into monthly installments (`payment_plans`);
- violation of terms: the violated term and a reinstatement review by a person
  (`reinstatement`);
- requested disconnection: confirm or book it, with the final bill (`disconnection`);
- technical issues: a `TK-` ticket with an estimated resolution time (`tickets`);
- follow up: the status of a case or ticket (`follow_ups`); every solution also queues an
  outbox message due later to check the issue is resolved.
`common` holds the kinds, limits, errors and results; `lookups` the account reads and
formatting the steps share.

Every change to the account goes through `changes.propose_change` / `confirm_change`; the
handlers registered by the modules here do the change itself, in the caller's transaction.
Importing this package imports them all, so import it wherever `changes.confirm_change` may
see one of its kinds (the action server does), otherwise the handlers are not registered.
"""

from __future__ import annotations

from quickconnect.services.service_cutoffs.common import (
    CENTS,
    CUTOFF_KINDS,
    DEFAULT_TICKET_HOURS,
    DISCONNECTION_KIND,
    DISCONNECTION_LOG_KIND,
    EQUIPMENT_RETURN_DAYS,
    FOLLOW_UP_AFTER_FIX,
    FOLLOW_UP_AFTER_LINK,
    FOLLOW_UP_AFTER_RESTORE,
    FOLLOW_UP_AFTER_REVIEW,
    LOG_KIND,
    MAX_DISCONNECTION_DAYS_AHEAD,
    PAYMENT_KIND,
    PAYMENT_LINK_BASE,
    PAYMENT_LINK_KIND,
    PAYMENT_LINK_VALID,
    PAYMENT_PLAN_KIND,
    PLAN_INSTALLMENT_CHOICES,
    RECONNECT_NOTE,
    REINSTATEMENT_KIND,
    REMIND_DAYS_BEFORE_INSTALLMENT,
    AlertView,
    CaseNotFound,
    CaseStatus,
    CaseStatusAnswer,
    CutoffError,
    CutoffReport,
    Diagnosis,
    DisconnectionAlreadyRequested,
    DisconnectionApplied,
    DisconnectionProposal,
    FollowUp,
    Installment,
    InvalidDisconnectionDate,
    InvalidPaymentAmount,
    NoPaymentMethod,
    NothingOverdue,
    NotSuspendedForTerms,
    OverdueBill,
    PaymentPlanExists,
    PaymentPlanOption,
    PaymentPlanProposal,
    PaymentPlanView,
    PaymentProposal,
    PaymentQuoteStale,
    PaymentReceipt,
    ReinstatementProposal,
    TicketOpened,
    TicketView,
)
from quickconnect.services.service_cutoffs.diagnosis import diagnose, handle_cutoff_report
from quickconnect.services.service_cutoffs.disconnection import (
    apply_disconnection,
    apply_due_disconnections,
    final_bill_estimate,
    propose_disconnection,
)
from quickconnect.services.service_cutoffs.follow_ups import check_case_status
from quickconnect.services.service_cutoffs.lookups import _contact as _contact
from quickconnect.services.service_cutoffs.lookups import format_time, overdue_balance, usd
from quickconnect.services.service_cutoffs.payment_plans import (
    apply_payment_plan,
    payment_plan_options,
    propose_payment_plan,
    split_installments,
)
from quickconnect.services.service_cutoffs.payments import (
    apply_payment,
    apply_payment_link,
    propose_payment,
    record_payment,
)
from quickconnect.services.service_cutoffs.reinstatement import (
    apply_reinstatement,
    propose_reinstatement,
)
from quickconnect.services.service_cutoffs.tickets import open_outage_ticket

__all__ = [
    "AlertView",
    "CENTS",
    "CUTOFF_KINDS",
    "CaseNotFound",
    "CaseStatus",
    "CaseStatusAnswer",
    "CutoffError",
    "CutoffReport",
    "DEFAULT_TICKET_HOURS",
    "DISCONNECTION_KIND",
    "DISCONNECTION_LOG_KIND",
    "Diagnosis",
    "DisconnectionAlreadyRequested",
    "DisconnectionApplied",
    "DisconnectionProposal",
    "EQUIPMENT_RETURN_DAYS",
    "FOLLOW_UP_AFTER_FIX",
    "FOLLOW_UP_AFTER_LINK",
    "FOLLOW_UP_AFTER_RESTORE",
    "FOLLOW_UP_AFTER_REVIEW",
    "FollowUp",
    "Installment",
    "InvalidDisconnectionDate",
    "InvalidPaymentAmount",
    "LOG_KIND",
    "MAX_DISCONNECTION_DAYS_AHEAD",
    "NoPaymentMethod",
    "NotSuspendedForTerms",
    "NothingOverdue",
    "OverdueBill",
    "PAYMENT_KIND",
    "PAYMENT_LINK_BASE",
    "PAYMENT_LINK_KIND",
    "PAYMENT_LINK_VALID",
    "PAYMENT_PLAN_KIND",
    "PLAN_INSTALLMENT_CHOICES",
    "PaymentPlanExists",
    "PaymentPlanOption",
    "PaymentPlanProposal",
    "PaymentPlanView",
    "PaymentProposal",
    "PaymentQuoteStale",
    "PaymentReceipt",
    "RECONNECT_NOTE",
    "REINSTATEMENT_KIND",
    "REMIND_DAYS_BEFORE_INSTALLMENT",
    "ReinstatementProposal",
    "TicketOpened",
    "TicketView",
    "apply_disconnection",
    "apply_due_disconnections",
    "apply_payment",
    "apply_payment_link",
    "apply_payment_plan",
    "apply_reinstatement",
    "check_case_status",
    "diagnose",
    "final_bill_estimate",
    "format_time",
    "handle_cutoff_report",
    "open_outage_ticket",
    "overdue_balance",
    "payment_plan_options",
    "propose_disconnection",
    "propose_payment",
    "propose_payment_plan",
    "propose_reinstatement",
    "record_payment",
    "split_installments",
    "usd",
]
