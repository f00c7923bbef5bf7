"""The reply guard in the Rasa server: every bot message of every action, on every channel.

Patched: `rasa.core.processor.MessageProcessor._log_action_on_tracker` (Rasa 3.6). Every
action the processor runs, whatever produced its messages (a domain response with slot
templating, a form's question, a form validation's or a custom action's messages from the
action server, a retrieval/FAQ answer, Rasa's default actions), returns its `BotUttered`
events to `_run_action`, which logs them on the tracker here and then sends the same list to
the output channel (`execute_side_effects`). Checking the events in that list before they
are logged covers the stored transcript (web chat history, agent console) and what every
channel sends, in one place. Agent messages typed in the console are a person's words and
never pass through an action, so they are not checked.

A defect (`quickconnect.reply_guard.find_defects`) is logged at ERROR with the conversation
id, the action and the text. In production the event is replaced by the cleaned message (or
the apology); with `QC_REPLY_GUARD=strict` (tests) it is sent unchanged so the test clients,
which run the same check on every reply, fail on it with the text the customer would have
seen. Installed by `install()`, which `rasa_extensions/__init__.py` calls.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.actions.action import Action
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker

from quickconnect import reply_guard

logger = logging.getLogger(__name__)

_original_log_action_on_tracker = MessageProcessor._log_action_on_tracker


def _as_message(event: BotUttered) -> dict[str, Any]:
    return {"text": event.text, **(event.data or {})}


def guard_events(events: list[Event], conversation_id: str, action_name: str) -> int:
    """Check the bot messages in `events` (replaced in place in production); the number of
    messages with a defect."""
    broken = 0
    for index, event in enumerate(events):
        if not isinstance(event, BotUttered):
            continue
        safe = reply_guard.screen(_as_message(event), conversation_id, action_name, logger)
        if safe is None:
            continue
        broken += 1
        if reply_guard.mode() == reply_guard.STRICT:
            continue  # sent unchanged: the test clients fail on it
        text = safe.pop("text", None)
        events[index] = BotUttered(
            text=text,
            data={k: v for k, v in safe.items() if k in (event.data or {})},
            metadata=event.metadata,
            timestamp=event.timestamp,
        )
    return broken


def log_action_on_tracker(
    self: MessageProcessor,
    tracker: DialogueStateTracker,
    action: Action,
    events: list[Event] | None,
    prediction: PolicyPrediction,
) -> None:
    """Rasa's `_log_action_on_tracker`, after the action's bot messages passed the guard."""
    if events:
        guard_events(events, tracker.sender_id, action.name())
    _original_log_action_on_tracker(self, tracker, action, events, prediction)


def install() -> None:
    """Make every `MessageProcessor` guard the messages of every action (idempotent)."""
    MessageProcessor._log_action_on_tracker = log_action_on_tracker  # type: ignore[method-assign]
