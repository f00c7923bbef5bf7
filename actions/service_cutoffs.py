"""Service cut-offs guide (guides/service-cutoffs.txt) and follow-ups on cases and tickets.

Flow: verify -> find the reason on the account (the customer does not have to know it) ->
explain it with empathy -> the solution for that reason: a payment (method on file) or a
secure payment link (none on file), a payment plan, the violated term with the steps to fix
it and a reinstatement review by a person, the disconnection's details or a new one, a `TK-`
ticket with an estimated fix time -> every change waits for an explicit yes
(actions/changes.py) -> a follow-up message is scheduled and the customer is told when.
`check_case_status` answers on `CS-` cases and `TK-` tickets of the verified customer.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import (
    ASK_FOR_CONSENT,
    NO_LONGER_AWAITING,
    awaiting_consent,
    describe_confirmation,
)
from actions.common import VerifiedAccountAction
from actions.forms import FormSlotValidation
from actions.request import latest_request
from quickconnect.dates import format_day, resolve_date
from quickconnect.identifiers import CASE_PREFIX, TICKET_PREFIX, find_identifier, parse_amount
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import (
    CutoffError,
    CutoffReport,
    Diagnosis,
    FollowUp,
    TicketOpened,
    format_time,
    usd,
)

EMPATHY = "I understand how frustrating this can be"
PLAN_HINT = (
    'If paying it all at once is difficult, say "payment plan" and I\'ll spread it over '
    "monthly installments instead."
)
NO_PLAN = "none"  # plan_installments when there is no payment plan to set up
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
_COUNT = re.compile(r"\b(two|three|four|2|3|4)\b", re.IGNORECASE)
_INSTALLMENT_COUNT = re.compile(
    r"\b(two|three|four|2|3|4)\s*(-\s*)?(monthly\s+)?(installments?|instalments?|payments?|"
    r"months?|parts?|chunks?)\b",
    re.IGNORECASE,
)


# --- helpers -------------------------------------------------------------------------------------


def _day(value: datetime | date) -> str:
    return format_day(value.date() if isinstance(value, datetime) else value)


def _contact_text(customer: VerifiedCustomer, channel: str | None) -> str:
    if channel == "sms":
        return f"by text to {customer.masked_phone}"
    return f"by email to {customer.masked_email}"


def _follow_up_text(customer: VerifiedCustomer, follow_up: FollowUp | None) -> str:
    if follow_up is None:
        return ""
    return (
        f" I'll check in with you {_contact_text(customer, follow_up.channel)} around "
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
            f"{_day(found.since)} because {_bills_text(found)}. The overdue amount is "
            f"{usd(found.overdue_total)}."
        ]
        if report.payment is not None:
            if report.payment.kind == cutoffs.PAYMENT_LINK_KIND:
                lines.append(
                    "There's no payment method on your account, and for your security I never "
                    "take card details in chat."
                )
            lines += [report.payment.summary, PLAN_HINT, ASK_FOR_CONSENT]
        elif found.payment_plan is not None:
            lines.append(
                "Your payment plan is in place; your service comes back on as soon as its "
                "first installment is paid."
            )
        return "\n".join(lines)
    if found.reason == "terms_violation":
        lines = [
            f"{EMPATHY}, {name}. Your service was suspended on {_day(found.since)} for a breach "
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
        when = _day(found.disconnection_date) if found.disconnection_date else "soon"
        if found.service_status == "disconnected":
            status = f"and it was disconnected on {when}."
        else:
            status = f"and it's scheduled for {when}."
        lines = [
            f"I've checked your account, {name}: you asked us on {_day(found.since)} to "
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


# --- the cut-off report --------------------------------------------------------------------------


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


# --- payments ------------------------------------------------------------------------------------


class ActionProposePayment(VerifiedAccountAction):
    """`make_payment`: the overdue balance (or the amount named) with the method on file, or a
    secure payment link when there is none. Never asks for card numbers."""

    def name(self) -> str:
        return "action_propose_payment"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        request = latest_request(tracker, "make_payment")
        amount = parse_amount(request.entity("amount"))
        try:
            proposal = cutoffs.propose_payment(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                amount=amount,
            )
        except CutoffError as refusal:
            dispatcher.utter_message(text=str(refusal))
            return events + NO_LONGER_AWAITING
        lines = [f"Your overdue balance is {usd(proposal.overdue_total)}."]
        if proposal.kind == cutoffs.PAYMENT_LINK_KIND:
            lines.append(
                "There's no payment method on your account, and for your security I never take "
                "card details in chat."
            )
        lines += [proposal.summary]
        if proposal.amount == proposal.overdue_total:
            lines.append(PLAN_HINT)
        lines.append(ASK_FOR_CONSENT)
        dispatcher.utter_message(text="\n".join(lines))
        return events + awaiting_consent(proposal.change.change_id)


@describe_confirmation(cutoffs.PAYMENT_KIND)
def _paid(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    head = (
        f"Payment done: {usd(Decimal(str(result['amount'])))} with your {result['method']}, "
        f"reference {result['reference']}."
    )
    remaining = Decimal(str(result["remaining_overdue"]))
    if result.get("restored"):
        restored_at = datetime.fromisoformat(str(result["restored_at"]))
        follow = datetime.fromisoformat(str(result["follow_up_at"]))
        return (
            f"{head}\nGood news: your service is back on, restored at {format_time(restored_at)}."
            f" {cutoffs.RECONNECT_NOTE}\nI'll check in with you "
            f"{_contact_text(customer, result.get('follow_up_channel'))} around "
            f"{format_time(follow)} to make sure everything works."
        )
    if remaining > 0 and result.get("service_status") == "suspended":
        return (
            f"{head}\n{usd(remaining)} is still overdue, so your service stays suspended until "
            'that\'s paid. Say "make a payment" or "payment plan" whenever you\'re ready.'
        )
    return f"{head}\nYour overdue balance is now {usd(remaining)}."


@describe_confirmation(cutoffs.PAYMENT_LINK_KIND)
def _link_sent(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    expires = datetime.fromisoformat(str(result["expires_at"]))
    follow = datetime.fromisoformat(str(result["follow_up_at"]))
    return (
        f"Sent: a secure payment link for {usd(Decimal(str(result['amount'])))} is on its way "
        f"to {result['masked_email']}. It works until {format_time(expires)}. As soon as you've "
        "paid, your service is restored automatically, usually within a few minutes.\n"
        "If it's still unpaid, I'll remind you "
        f"{_contact_text(customer, result['follow_up_channel'])} around {format_time(follow)}."
    )


# --- payment plans -------------------------------------------------------------------------------


def parse_installments(text: str | None, *, strict: bool = False) -> int | None:
    """'3', 'three please', 'let's do 4 payments' -> 3 / 4; None when no 2-4 is named.
    `strict` (a request, not an answer) needs the unit: "3 installments", "2 months"."""
    if not text:
        return None
    match = _INSTALLMENT_COUNT.search(text) or (None if strict else _COUNT.search(text))
    return _COUNT_WORDS[match.group(1).lower()] if match else None


class ActionStartPaymentPlan(VerifiedAccountAction):
    """`ask_payment_plan`: the overdue balance and the installment options, with dates."""

    def name(self) -> str:
        return "action_start_payment_plan"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None), *NO_LONGER_AWAITING]
        try:
            overdue, options = cutoffs.payment_plan_options(session, customer.customer_id)
        except CutoffError as refusal:
            dispatcher.utter_message(text=str(refusal))
            return events + [SlotSet("plan_installments", NO_PLAN)]
        lines = [
            f"Your overdue balance is {usd(overdue)}. I can spread it over monthly "
            "installments, the first one today:"
        ]
        for option in options:
            schedule = ", ".join(
                f"{usd(i.amount)} on {format_day(i.due_date)}" for i in option.installments
            )
            lines.append(f"- {option.count} installments: {schedule}")
        lines.append(
            "Your service is restored as soon as the first installment is paid. There's no fee "
            "or interest for a payment plan."
        )
        dispatcher.utter_message(text="\n".join(lines))
        request = latest_request(tracker, "ask_payment_plan")
        chosen = parse_installments(request.text, strict=True)
        if chosen in cutoffs.PLAN_INSTALLMENT_CHOICES:
            return events + [SlotSet("plan_installments", str(chosen))]
        return events


class ValidatePaymentPlanForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_payment_plan_form"

    def validate_plan_installments(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value == NO_PLAN:
            return {"plan_installments": NO_PLAN}
        count = parse_installments(str(slot_value))
        if count not in cutoffs.PLAN_INSTALLMENT_CHOICES:
            dispatcher.utter_message(text="Sorry, a payment plan can have 2, 3 or 4 installments.")
            return {"plan_installments": None}
        return {"plan_installments": str(count)}


class ActionProposePaymentPlan(VerifiedAccountAction):
    """The chosen plan: the schedule, how the first installment is paid, then a yes."""

    def name(self) -> str:
        return "action_propose_payment_plan"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("plan_installments", None)]
        chosen = tracker.get_slot("plan_installments")
        if not chosen or chosen == NO_PLAN:
            return events + NO_LONGER_AWAITING  # already explained by action_start_payment_plan
        try:
            proposal = cutoffs.propose_payment_plan(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                installments=int(chosen),
            )
        except CutoffError as refusal:
            dispatcher.utter_message(text=str(refusal))
            return events + NO_LONGER_AWAITING
        dispatcher.utter_message(text=f"{proposal.summary}\n{ASK_FOR_CONSENT}")
        return events + awaiting_consent(proposal.change.change_id)


@describe_confirmation(cutoffs.PAYMENT_PLAN_KIND)
def _plan_set_up(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    schedule = ", ".join(
        f"{usd(Decimal(str(amount)))} on {format_day(date.fromisoformat(str(day)))}"
        for day, amount in result["installments"]
    )
    head = f"Your payment plan is set up: {schedule}."
    if result.get("restored"):
        restored_at = datetime.fromisoformat(str(result["restored_at"]))
        return (
            f"{head}\nThe first installment is paid with your {result['method']} (reference "
            f"{result['reference']}), and your service is back on, restored at "
            f"{format_time(restored_at)}. {cutoffs.RECONNECT_NOTE}\nI'll remind you before each "
            "of the other installments."
        )
    if result.get("link_sent"):
        return (
            f"{head}\nI've emailed you a secure payment link for the first installment; your "
            "service is restored as soon as it's paid. I'll remind you before each of the "
            "other installments."
        )
    return f"{head}\nI'll remind you before each installment."


# --- terms violation -----------------------------------------------------------------------------


@describe_confirmation(cutoffs.REINSTATEMENT_KIND)
def _review_requested(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    follow = datetime.fromisoformat(str(result["follow_up_at"]))
    case = result["case_number"]
    if result.get("agents_online"):
        who = (
            f"A member of our team will pick it up shortly (expected wait: about "
            f"{result.get('expected_wait_minutes') or 5} minutes)."
        )
    else:
        who = "No one from our team is online right now; they'll pick it up first thing."
    return (
        f"Thank you. I've opened case {case} for our team to review your account for "
        f"reinstatement. {who} After the review, your service is restored within 24 hours.\n"
        f"I'll check in with you {_contact_text(customer, result.get('follow_up_channel'))} "
        f"around {format_time(follow)}, and you can ask me about {case} at any time."
    )


# --- disconnection -------------------------------------------------------------------------------


class ActionProposeDisconnection(VerifiedAccountAction):
    """`request_disconnection`: confirm a request already on the account, or quote a new one
    (date, final bill, equipment return) and ask for a yes."""

    def name(self) -> str:
        return "action_propose_disconnection"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        date_text = latest_request(tracker, "request_disconnection").entity("date")
        today = date.today()
        requested = resolve_date(date_text, today) if date_text else None
        note = ""
        if date_text and requested is None:
            note = (
                f'I couldn\'t work out the date "{date_text}", so this is for the end of your '
                "billing cycle; tell me another date if you prefer.\n"
            )
        try:
            proposal = cutoffs.propose_disconnection(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                disconnection_date=requested,
            )
        except cutoffs.DisconnectionAlreadyRequested:
            found = cutoffs.diagnose(session, customer.customer_id)
            dispatcher.utter_message(
                text=explain_report(customer, CutoffReport(found)).replace(
                    "Nothing else is needed", "You don't need to ask again; nothing else is needed"
                )
            )
            return events + NO_LONGER_AWAITING
        except CutoffError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return events + NO_LONGER_AWAITING
        dispatcher.utter_message(
            text=f"I'm sorry to see you go, {customer.first_name}. {note}{proposal.summary}\n"
            f"{ASK_FOR_CONSENT}"
        )
        return events + awaiting_consent(proposal.change.change_id)


@describe_confirmation(cutoffs.DISCONNECTION_KIND)
def _disconnection_booked(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    day = date.fromisoformat(str(result["disconnection_date"]))
    return (
        f"Done: your service will be disconnected on {format_day(day)}. Your final bill will be "
        f"about {usd(Decimal(str(result['final_bill_amount'])))}. {result['equipment_return']}."
        f"\nI'll send you a reminder {_contact_text(customer, result.get('follow_up_channel'))} "
        "on the day. If you change your mind before then, just let us know."
    )


# --- follow-ups: cases and tickets ----------------------------------------------------------------


class ActionCheckCaseStatus(VerifiedAccountAction):
    """`check_case_status`: a `CS-` case or `TK-` ticket by number, or the open ones."""

    def name(self) -> str:
        return "action_check_case_status"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        request = latest_request(tracker, "check_case_status")
        text = request.text
        number = (
            request.entity("case_number")
            or request.entity("ticket_number")
            or find_identifier(text, CASE_PREFIX)
            or find_identifier(text, TICKET_PREFIX)
        )
        try:
            answer = cutoffs.check_case_status(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                number=number,
            )
        except CutoffError as refusal:
            dispatcher.utter_message(
                text=f"{refusal} Please check the number; case numbers look like CS-123456 and "
                "ticket numbers like TK-123456."
            )
            return events
        if not answer.items:
            dispatcher.utter_message(
                text="You have no open cases or technical tickets with us right now. If "
                "something isn't working, tell me and I'll look into it."
            )
            return events
        lines = [] if answer.asked_for else ["Here's what's open on your account:"]
        for item in answer.items:
            if item.kind == "ticket":
                line = (
                    f"Ticket {item.number} (opened {format_time(item.opened_at)}): {item.status}."
                    f" It's about: {item.about}."
                )
                if item.resolved_at:
                    line += f" Resolved at {format_time(item.resolved_at)}."
                elif item.estimated_resolution_at:
                    line += f" Estimated fix: {format_time(item.estimated_resolution_at)}."
            else:
                line = (
                    f"Case {item.number} (opened {format_time(item.opened_at)}) for "
                    f"{item.about}: {item.status}."
                )
                if item.resolved_at:
                    line += f" Resolved at {format_time(item.resolved_at)}."
                elif item.follow_up_channel:
                    line += (
                        " We'll follow up " f"{_contact_text(customer, item.follow_up_channel)}."
                    )
            lines.append(line)
        dispatcher.utter_message(text="\n".join(lines))
        return events
