"""Corrections while a change waits for a yes: "actually make it 3 payments", "no, I meant
Cloud Vault".

Before this, such a message was read as a detail given out of the blue, and the customer's
next "yes" applied the change they had just corrected. Now the proposed change is cancelled
and the conversation goes back to where the corrected answer was given:

- When that answer was given to a form (installments, the device, the add-on ...), the turn
  that answered it and the correction turn are rewound (`UserUtteranceReverted` twice) and
  the correction is replayed as the answer: the form validates it and the flow quotes the
  change again, exactly as if the customer had answered that way the first time.
- Otherwise (the change was proposed straight after verification, from the opening
  request), the task is asked for again with the correction's details: its intent, the
  correction's entities in their slots.

Never rewound into verification: a correction is not an identity answer.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    EventType,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from actions.follow_ups import ask_for_task
from quickconnect.nlp.message_parts import TASK_INTENTS
from quickconnect.services import changes
from quickconnect.services.identity import VerifiedCustomer

VERIFICATION_FORM = "verification_form"
# "no, I meant ...", "actually ...": a "no" that carries a new answer is a correction.
_CORRECTION_WORDS = re.compile(
    r"\b(i meant|i mean|meant|actually|instead|rather|make it|change it to|not that|wrong one|"
    r"the other one)\b",
    re.IGNORECASE,
)


def is_correction(message: dict[str, Any]) -> bool:
    """Does this "no" also say what the customer wants instead?"""
    text = str(message.get("text") or "")
    return bool(_CORRECTION_WORDS.search(text) or message.get("entities"))


def _user_turns(events: list[dict[str, Any]]) -> list[int]:
    return [i for i, event in enumerate(events) if event.get("event") == "user"]


def loop_answered_by(events: list[dict[str, Any]], user_index: int) -> str | None:
    """The form that was active when the user message at `user_index` was sent."""
    for event in reversed(events[:user_index]):
        if event.get("event") == "active_loop":
            return event.get("name")
    return None


def last_task_intent(events: list[dict[str, Any]], before: int) -> str | None:
    for event in reversed(events[:before]):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name in TASK_INTENTS:
                return str(name)
    return None


_ENTITY_KEYS = ("entity", "value", "start", "end", "extractor", "confidence", "role", "group")


def _clean_entities(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's entities with only the fields a user event may carry."""
    cleaned = []
    for entity in message.get("entities") or []:
        kept = {k: entity[k] for k in _ENTITY_KEYS if entity.get(k) is not None}
        if isinstance(kept.get("extractor"), str) or "extractor" not in kept:
            cleaned.append(kept)
    return cleaned


def requested_before(events: list[dict[str, Any]], user_index: int) -> str | None:
    """The slot the form was asking for when the user message at `user_index` was sent."""
    for event in reversed(events[:user_index]):
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            return event.get("value")
    return None


def extracted(slot: str, message: dict[str, Any], domain: DomainDict) -> Any:
    """What Rasa's slot extraction would fill `slot` with from `message` (text and entity
    mappings; the replayed message is not run through extraction, so this stands in)."""
    for mapping in (domain.get("slots", {}).get(slot) or {}).get("mappings") or []:
        if mapping.get("type") == "from_text":
            return message.get("text")
        if mapping.get("type") == "from_entity":
            for entity in message.get("entities") or []:
                if entity.get("entity") == mapping.get("entity"):
                    return entity.get("value")
    return None


def correction_events(
    events: list[dict[str, Any]], message: dict[str, Any], domain: DomainDict
) -> list[EventType] | None:
    """The events that take the conversation back to the corrected answer, or None when
    there is nothing to go back to.

    Only the correction turn is rewound (Rasa folds a form's earlier turns into its last
    execution, so a second rewind would go back further than the corrected answer); the
    form is then re-opened at the question the corrected answer replied to, and the
    correction is replayed as the answer to it."""
    turns = _user_turns(events)
    if len(turns) < 2:
        return None
    correction, answered = turns[-1], turns[-2]
    entities = _clean_entities(message)
    cancelled: list[EventType] = [
        UserUtteranceReverted(),
        SlotSet("pending_change_id", None),
        SlotSet("awaiting_confirmation", False),
    ]
    form = loop_answered_by(events, answered)
    slot = requested_before(events, answered)
    if form and form != VERIFICATION_FORM and slot:
        value = extracted(slot, message, domain)
        replay = UserUttered(
            text=message.get("text"),
            parse_data={
                "intent": message.get("intent"),
                "entities": entities,
                "text": message.get("text"),
            },
        )
        return [
            *cancelled,
            SlotSet(slot, None),
            ActiveLoop(form),
            SlotSet("requested_slot", slot),
            ActionExecuted("action_listen"),
            replay,
            *([SlotSet(slot, value)] if value is not None else []),
        ]
    task = last_task_intent(events, correction)
    if not task:
        return None
    slots = domain.get("slots", {})
    return [
        *cancelled,
        *ask_for_task(task, str(message.get("text")), str(message.get("text")), entities, domain),
        *[SlotSet(e["entity"], e.get("value")) for e in entities if e["entity"] in slots],
    ]


class ActionCorrectPendingChange(VerifiedAccountAction):
    """A detail given while a change waits for a yes: cancel it and go back (see above)."""

    def name(self) -> str:
        return "action_correct_pending_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        return correct_pending_change(session, dispatcher, tracker, domain)


def correct_pending_change(
    session: Session, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[EventType]:
    """Cancel the proposed change and return the events that go back to the corrected answer
    (or, with nothing to go back to, say nothing was changed)."""
    change_id = tracker.get_slot("pending_change_id")
    if change_id:
        changes.cancel_change(session, conversation_id=tracker.sender_id, change_id=change_id)
    events = correction_events(tracker.events, tracker.latest_message, domain)
    if events is None:
        dispatcher.utter_message(
            text="I've cancelled that change, so nothing has been applied. "
            "Tell me what you'd like instead and I'll set it up again."
        )
        return [SlotSet("pending_change_id", None), SlotSet("awaiting_confirmation", False)]
    dispatcher.utter_message(text="No problem, let me change that.")
    return events
