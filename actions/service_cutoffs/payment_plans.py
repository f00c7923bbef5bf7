"""The guide's other solution for non-payment: a payment plan of monthly installments.

`ask_payment_plan` shows the options with their dates; `payment_plan_form` asks how many
installments (2 to 4); the plan is proposed and waits for a yes (actions/changes.py).
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
from quickconnect.dates import format_day
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import CutoffError, format_time, usd

NO_PLAN = "none"  # plan_installments when there is no payment plan to set up
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
_COUNT = re.compile(r"\b(two|three|four|2|3|4)\b", re.IGNORECASE)
_INSTALLMENT_COUNT = re.compile(
    r"\b(two|three|four|2|3|4)\s*(-\s*)?(monthly\s+)?(installments?|instalments?|payments?|"
    r"months?|parts?|chunks?)\b",
    re.IGNORECASE,
)


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
