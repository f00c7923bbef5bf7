"""Short follow-up questions, and the second request of a two-request message.

- `action_answer_follow_up`: "how long will it take", "why?", "and the other one?" are read
  against the bot's previous replies (quickconnect/services/follow_ups.py).
- `action_offer_queued_task`: the message parts classifier (rasa_extensions/message_parts.py)
  fills `queued_task` with a second task the customer asked for; once the first task is
  done, the policies run this action (rasa_extensions/queued_task.py), which offers it.
- `action_start_queued_task` / `action_drop_queued_task`: the customer's yes starts the task
  exactly as if they had asked for it now; a no drops it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SlotSet, UserUttered
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from quickconnect.services.follow_ups import answer_follow_up, offer_text, task_description


def bot_replies_before_latest_message(tracker: Tracker) -> list[str]:
    """The texts the bot sent between the customer's previous message and the latest one."""
    texts: list[str] = []
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                break
        elif event.get("event") == "bot" and users_seen == 1 and event.get("text"):
            texts.append(str(event["text"]))
    return list(reversed(texts))


def ask_for_task(
    task: str, text: str, parse_text: str, entities: list[dict[str, Any]], domain: DomainDict
) -> list[EventType]:
    """Events that make the conversation go on as if the customer had just asked for `task`:
    the `pending_task` slot its intent fills (when the task needs verification), then a user
    turn with that intent, after a listen as every user turn is."""
    pending = (domain.get("slots", {}).get("pending_task") or {}).get("values") or []
    parse: dict[str, Any] = {
        "intent": {"name": task, "confidence": 1.0},
        "entities": entities,
        "text": parse_text,
    }
    return [
        *([SlotSet("pending_task", task)] if task in pending else []),
        ActionExecuted("action_listen"),
        UserUttered(text=text, parse_data=parse),
    ]


class ActionAnswerFollowUp(Action):
    def name(self) -> str:
        return "action_answer_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = str(tracker.latest_message.get("text") or "")
        dispatcher.utter_message(
            text=answer_follow_up(question, bot_replies_before_latest_message(tracker))
        )
        return []


class ActionOfferQueuedTask(Action):
    def name(self) -> str:
        return "action_offer_queued_task"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        task = tracker.get_slot("queued_task")
        if not task:
            return []
        dispatcher.utter_message(text=offer_text(str(task)))
        return [SlotSet("queued_task_offered", True)]


class ActionStartQueuedTask(Action):
    def name(self) -> str:
        return "action_start_queued_task"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        task = tracker.get_slot("queued_task")
        events: list[EventType] = [
            SlotSet("queued_task", None),
            SlotSet("queued_task_offered", False),
        ]
        if not task:
            return events
        return [
            *events,
            *ask_for_task(str(task), f"/{task}", task_description(str(task)), [], domain),
        ]


class ActionDropQueuedTask(Action):
    def name(self) -> str:
        return "action_drop_queued_task"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_queued_task_dropped")
        return [SlotSet("queued_task", None), SlotSet("queued_task_offered", False)]
