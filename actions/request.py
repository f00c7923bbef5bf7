"""The customer's request a flow is serving, found in the conversation: it may have been said
turns ago (before verification, say), so it is the latest message with the flow's intent, not
simply the latest message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker


@dataclass(frozen=True)
class Request:
    text: str = ""
    entities: tuple[dict[str, Any], ...] = ()

    def entity(self, name: str) -> str | None:
        """The first non-empty value the message has for entity `name`."""
        for entity in self.entities:
            if entity.get("entity") == name and entity.get("value"):
                return str(entity["value"])
        return None


def latest_request(tracker: Tracker, *intents: str) -> Request:
    """The customer's latest message with one of `intents` (empty when there is none)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            parsed = event.get("parse_data") or {}
            if (parsed.get("intent") or {}).get("name") in intents:
                return Request(event.get("text") or "", tuple(parsed.get("entities") or ()))
    return Request()
