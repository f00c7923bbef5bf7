"""The one way a conversation changes an account (spec: "Every change to an account").

A flow's action proposes a change (`quickconnect.services.changes.propose_change`), shows the
exact change and money involved, and sets `awaiting_confirmation`. Only an explicit yes then
runs `action_confirm_change`, which applies it through the service: consent stored with a
timestamp, one transaction, at most once (a repeated yes finds it already applied), logged,
summary in the outbox. A no, or `stop`, cancels it.

Flows register how a confirmed change is described to the customer with
`describe_confirmation(kind)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from actions.corrections import correct_pending_change, is_correction
from quickconnect.services import changes
from quickconnect.services.identity import VerifiedCustomer

ConfirmationText = Callable[[dict[str, Any], VerifiedCustomer], str]
_CONFIRMATION_TEXT: dict[str, ConfirmationText] = {}

ASK_FOR_CONSENT = (
    'Shall I go ahead? Please reply "yes" to confirm or "no" to leave things as they are.'
)


def describe_confirmation(kind: str) -> Callable[[ConfirmationText], ConfirmationText]:
    """Register the message a flow sends once its change of `kind` has been applied."""

    def register(fn: ConfirmationText) -> ConfirmationText:
        _CONFIRMATION_TEXT[kind] = fn
        return fn

    return register


def awaiting_consent(change_id: str) -> list[EventType]:
    """Events a flow returns after proposing a change and asking `ASK_FOR_CONSENT`."""
    return [SlotSet("pending_change_id", change_id), SlotSet("awaiting_confirmation", True)]


NO_LONGER_AWAITING: list[EventType] = [
    SlotSet("pending_change_id", None),
    SlotSet("awaiting_confirmation", False),
]


def _default_confirmation(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    summary = result.get("summary") or "Your change"
    return f"Done. {summary}"


class ActionConfirmChange(VerifiedAccountAction):
    """The customer said yes to the change they were shown."""

    def name(self) -> str:
        return "action_confirm_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        change_id = tracker.get_slot("pending_change_id")
        view = changes.get_change(session, conversation_id=tracker.sender_id, change_id=change_id)
        if view is None:
            dispatcher.utter_message(text="There's no change waiting for your confirmation.")
            return list(NO_LONGER_AWAITING)
        try:
            # A savepoint: if the change is refused half-way (e.g. its quote went stale),
            # nothing of it (not even the consent record) is kept.
            with session.begin_nested():
                outcome = changes.confirm_change(
                    session,
                    conversation_id=tracker.sender_id,
                    change_id=change_id,
                    consent_text=f"Customer replied \"{tracker.latest_message.get('text', '')}\""
                    f" to: {view.summary}",
                )
        except ValueError as refusal:  # business rules refuse with a customer-facing reason
            dispatcher.utter_message(text=f"I couldn't make that change: {refusal}")
            return list(NO_LONGER_AWAITING)
        if outcome.status == "applied":
            describe = _CONFIRMATION_TEXT.get(view.kind, _default_confirmation)
            text = describe(outcome.result or {}, customer)
            if customer.masked_email:
                text += f"\nI've emailed a summary to {customer.masked_email}."
            dispatcher.utter_message(text=text)
        elif outcome.status == "already_applied":
            dispatcher.utter_message(
                text="That change is already done; I haven't applied it twice."
            )
        else:
            dispatcher.utter_message(
                text="That change is no longer waiting for confirmation, so I haven't applied it."
            )
        return list(NO_LONGER_AWAITING)


class ActionDeclineChange(VerifiedAccountAction):
    """The customer said no (or stop) to the change they were shown: nothing is applied."""

    def name(self) -> str:
        return "action_decline_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        if is_correction(tracker.latest_message):
            # "no, I meant Cloud Vault": not a plain no, the customer wants something else
            return correct_pending_change(session, dispatcher, tracker, domain)
        change_id = tracker.get_slot("pending_change_id")
        if change_id:
            changes.cancel_change(session, conversation_id=tracker.sender_id, change_id=change_id)
        dispatcher.utter_message(
            text="No problem, I haven't changed anything on your account. "
            "Is there anything else I can help with?"
        )
        return list(NO_LONGER_AWAITING)
