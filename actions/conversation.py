"""Conversation mechanics shared by every flow: not understanding, offering a person, stopping."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# After this many messages in a row the bot could not help with, it offers a person.
MISUNDERSTOOD_BEFORE_OFFERING_A_PERSON = 2
# Intents that mean "the bot could not help with that message".
NOT_UNDERSTOOD_INTENTS = {"nlu_fallback", "out_of_scope"}

OUT_OF_SCOPE = (
    "Sorry, that's not something I can help with here. I can help with your QuickConnect "
    'plan, add-ons, device protection, account access and service. Type "help" to see more.'
)
MISUNDERSTOOD = (
    "Sorry, I didn't quite get that. Could you say it another way? For example: "
    '"which plan am I on" or "I can\'t log in". Type "help" for the full list.'
)
NOT_EXPECTED_HERE = (
    "Sorry, I'm not sure what that refers to here. What would you like to do? "
    'Type "help" to see what I can help with.'
)
OFFER_A_PERSON = (
    "I'm having trouble helping with this, sorry. Would you like me to bring in a person?"
)
OFFER_BUTTONS = [
    {"title": "Yes, connect me to a person", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]
TASK_STOPPED = (
    "No problem, I've stopped that. Nothing on your account was changed. "
    "Is there anything else I can help with?"
)


def misunderstood_in_a_row(tracker: Tracker) -> int:
    """Count the latest consecutive customer messages the bot could not help with."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in NOT_UNDERSTOOD_INTENTS:
            break
        count += 1
    return count


# Run by Rasa around every customer message; not a reply to it.
_NOT_A_REPLY = frozenset(
    {"action_listen", "action_extract_slots", "action_session_start", "action_default_fallback"}
)


def answered_this_turn(tracker: Tracker) -> bool:
    """Did actions already run (or the bot speak) since the customer's latest message?"""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return False
        if kind == "bot" or (kind == "action" and event.get("name") not in _NOT_A_REPLY):
            return True
    return False


class ActionDefaultFallback(Action):
    """Replaces Rasa's default fallback: explain or ask to rephrase, then offer a person.

    Runs for unclassifiable messages (`nlu_fallback`) and out-of-scope requests, and as the
    dialogue's core fallback when an understood message fits nowhere (a "yes" with nothing
    to confirm). In that last case the message is reverted, as Rasa's own fallback does, so
    the conversation state stays as it was and the bot waits for the next message; unless
    actions already answered it this turn (the policies found no next step after them): then
    nothing is said and nothing reverted (the bot just waits), for a revert would undo what
    they did, such as the reset of a verification another client had made.
    """

    def name(self) -> str:
        return "action_default_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent not in NOT_UNDERSTOOD_INTENTS:
            if answered_this_turn(tracker):
                return [FollowupAction("action_listen")]
            dispatcher.utter_message(text=NOT_EXPECTED_HERE)
            return [UserUtteranceReverted()]
        if misunderstood_in_a_row(tracker) >= MISUNDERSTOOD_BEFORE_OFFERING_A_PERSON:
            dispatcher.utter_message(text=OFFER_A_PERSON, buttons=OFFER_BUTTONS)
            return [SlotSet("human_offered", True)]
        if intent == "out_of_scope":
            dispatcher.utter_message(text=OUT_OF_SCOPE)
        else:
            dispatcher.utter_message(text=MISUNDERSTOOD)
        return [SlotSet("human_offered", False)]


class ActionDeclineHuman(Action):
    """The customer said no to a person: show what the bot can do instead."""

    def name(self) -> str:
        return "action_decline_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text="Okay, let's keep going.")
        dispatcher.utter_message(response="utter_help")
        return [SlotSet("human_offered", False)]


class ActionStopTask(Action):
    """`stop` abandons whatever form is running; nothing is applied."""

    def name(self) -> str:
        return "action_stop_task"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("pending_task", None),
        ]
        if tracker.get_slot("verification_status") != "verified":
            # A half-finished verification starts from scratch next time.
            events += [
                SlotSet("account_number", None),
                SlotSet("verification_answer", None),
                SlotSet("security_question", None),
            ]
        dispatcher.utter_message(text=TASK_STOPPED)
        return events
