"""The guide's solution for non-payment: pay now with the method on file, or a secure link.

`make_payment` proposes the overdue balance (or the amount named) and waits for a yes
(actions/changes.py); card numbers are never asked for in chat.
"""

from __future__ import annotations

from datetime import datetime
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
from actions.request import latest_request
from actions.service_cutoffs.common import NO_METHOD_ON_FILE, PLAN_HINT, contact_text
from quickconnect.identifiers import parse_amount
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import CutoffError, format_time, usd


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
            lines.append(NO_METHOD_ON_FILE)
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
            f"{contact_text(customer, result.get('follow_up_channel'))} around "
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
        f"{contact_text(customer, result['follow_up_channel'])} around {format_time(follow)}."
    )
