"""The guide's first steps: identify the reason for the cut-off and inform the customer.

The reason comes from the account itself (the customer does not have to know it); it is
explained with empathy, followed by the solution for that reason, which the service has already
set up: a payment or payment link (non-payment), the violated term and a reinstatement review
(violation of terms), the disconnection's details (requested disconnection), or a `TK-` ticket
with an estimated fix time (technical issues, or no reason on the account).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import ASK_FOR_CONSENT, NO_LONGER_AWAITING, awaiting_consent
from actions.common import VerifiedAccountAction
from actions.service_cutoffs.common import NO_METHOD_ON_FILE, PLAN_HINT, contact_text, day
from quickconnect.dates import format_day
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import (
    CutoffReport,
    Diagnosis,
    FollowUp,
    TicketOpened,
    format_time,
    usd,
)

EMPATHY = "I understand how frustrating this can be"


def _follow_up_text(customer: VerifiedCustomer, follow_up: FollowUp | None) -> str:
    if follow_up is None:
        return ""
    return (
        f" I'll check in with you {contact_text(customer, follow_up.channel)} around "
        f"{format_time(follow_up.due_at)} to make sure it's resolved."
    )


def _bills_text(found: Diagnosis) -> str:
    bills = [f"{usd(b.outstanding)} due {format_day(b.due_date)}" for b in found.overdue_bills]
    if len(bills) == 1:
        return f"a bill went unpaid past its due date ({bills[0]})"
    return f"{len(bills)} bills went unpaid past their due dates ({'; '.join(bills)})"


def _ticket_text(customer: VerifiedCustomer, opened: TicketOpened) -> str:
    ticket = opened.ticket
    eta = ticket.estimated_resolution_at
    eta_text = f" The estimated fix is by {format_time(eta)}." if eta else ""
    if not opened.is_new:
        return (
            f"You already have technical support ticket {ticket.ticket_number} open for this "
            f"(opened {format_time(ticket.created_at)}), so I haven't opened another.{eta_text} "
            "We'll keep you informed."
        )
    return (
        f"I've opened technical support ticket {ticket.ticket_number} for you.{eta_text}"
        + _follow_up_text(customer, opened.follow_up)
        + f" You can ask me about {ticket.ticket_number} at any time."
    )


def explain_report(customer: VerifiedCustomer, report: CutoffReport) -> str:
    """The reason, said plainly and with empathy, then the solution for it."""
    found = report.diagnosis
    name = customer.first_name
    if found.reason == "non_payment":
        lines = [
            f"{EMPATHY}, {name}. I've checked your account: your service was suspended on "
            f"{day(found.since)} because {_bills_text(found)}. The overdue amount is "
            f"{usd(found.overdue_total)}."
        ]
        if report.payment is not None:
            if report.payment.kind == cutoffs.PAYMENT_LINK_KIND:
                lines.append(NO_METHOD_ON_FILE)
            lines += [report.payment.summary, PLAN_HINT, ASK_FOR_CONSENT]
        elif found.payment_plan is not None:
            lines.append(
                "Your payment plan is in place; your service comes back on as soon as its "
                "first installment is paid."
            )
        return "\n".join(lines)
    if found.reason == "terms_violation":
        lines = [
            f"{EMPATHY}, {name}. Your service was suspended on {day(found.since)} for a breach "
            f"of our terms: {found.violated_term}.",
            f"To put it right: {found.remediation_steps}",
        ]
        if report.reinstatement is not None:
            lines += [
                f"Once you've done that: {report.reinstatement.summary}",
                "Have you done this, and do you accept the Acceptable Use Policy? "
                + ASK_FOR_CONSENT,
            ]
        return "\n".join(lines)
    if found.reason == "requested_disconnection":
        when = day(found.disconnection_date) if found.disconnection_date else "soon"
        if found.service_status == "disconnected":
            status = f"and it was disconnected on {when}."
        else:
            status = f"and it's scheduled for {when}."
        lines = [
            f"I've checked your account, {name}: you asked us on {day(found.since)} to "
            f"disconnect your service, {status}"
        ]
        if found.final_bill_amount is not None:
            lines.append(f"Your final bill will be {usd(found.final_bill_amount)}.")
        if found.equipment_return:
            lines.append(f"{found.equipment_return}.")
        lines.append(
            'Nothing else is needed from you. If you\'ve changed your mind, type "agent" and a '
            "person from our team can help."
        )
        return "\n".join(lines)
    assert report.ticket is not None  # technical_issue or no reason on the account
    if found.alert is not None:
        opening = (
            f"{EMPATHY}, {name}, and I'm sorry. There's an outage in your area "
            f"({found.alert.area}): {found.alert.description}"
        )
    else:
        opening = (
            f"I'm sorry your service isn't working, {name}. I've checked your account: nothing "
            "is overdue, your service isn't suspended and there's no known outage in your area."
            " Restarting your phone sometimes helps; meanwhile our technical team will check "
            "your line."
        )
    return f"{opening}\n{_ticket_text(customer, report.ticket)}"


class ActionReportCutoff(VerifiedAccountAction):
    """`report_service_cutoff`: find the reason, explain it, and set up the solution."""

    def name(self) -> str:
        return "action_report_cutoff"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        report = cutoffs.handle_cutoff_report(
            session, conversation_id=tracker.sender_id, customer_id=customer.customer_id
        )
        dispatcher.utter_message(text=explain_report(customer, report))
        events: list[EventType] = [SlotSet("pending_task", None)]
        if report.change_id:
            return events + awaiting_consent(report.change_id)
        return events + NO_LONGER_AWAITING
