"""The guide's "verify customer identity" step, for customers who forgot a factor.

Verification itself is `actions/verification.py`; this module only answers "I don't remember
my security answer / my recovery email" while the customer verifies.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionOfferAlternativeFactors(Action):
    """ "I don't remember my security answer / my recovery email": verification only needs ONE
    factor, so offer the others (the guide's "verify through alternative questions").

    During verification the customer's original task is kept (e.g. the password reset they
    asked for); the new request only becomes the task when nothing else was pending.
    """

    def name(self) -> str:
        return "action_offer_alternative_factors"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("verification_status") == "verified":
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        forgot = "the answer to your security question"
        others = "your registered email address or the amount of your last bill"
        if intent == "forgot_recovery_contact":
            forgot = "the email or phone number on the account"
            others = "your account number with your last bill amount or your security answer"
        dispatcher.utter_message(
            text=f"No problem if you don't remember {forgot}. I only need one detail to confirm "
            f"it's you, so you can use {others} instead. Once you're verified I'll help you "
            "update it."
        )
        if tracker.active_loop.get("name") != "verification_form":
            return []
        previous = _pending_task_before_latest_message(tracker)
        return [SlotSet("pending_task", previous)] if previous else []


def _pending_task_before_latest_message(tracker: Tracker) -> str | None:
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest_user = True
        elif (
            seen_latest_user
            and event.get("event") == "slot"
            and event.get("name") == ("pending_task")
        ):
            return event.get("value")
    return None
