"""Step 1 of the guide: identify the reason for a cut-off from the account, and pick the
solution for it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from quickconnect.db.models import (
    utcnow,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.service_cutoffs.common import (
    CENTS,
    LOG_KIND,
    AlertView,
    CutoffReport,
    Diagnosis,
    OverdueBill,
)
from quickconnect.services.service_cutoffs.lookups import (
    _active_alert,
    _active_plan,
    _customer,
    _default_method,
    _open_ticket,
    _overdue_bills,
    _plan_view,
    _status_row,
    _ticket_view,
    usd,
)
from quickconnect.services.service_cutoffs.payments import propose_payment
from quickconnect.services.service_cutoffs.reinstatement import propose_reinstatement
from quickconnect.services.service_cutoffs.tickets import open_outage_ticket

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
