"""What one conversation's tracker events say, for the lead: pure functions, no database.

Why separate: the indexer (database in, rows out) and the transcript view both read events
the same way, and these rules (what is a fallback, when a flow starts, how far it got) are
easiest to check on a list of plain event dicts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from quickconnect.insights.flows import (
    CONFIRM_ACTION,
    FALLBACK_ACTION,
    FALLBACK_INTENT,
    FLOWS,
    HANDOFF_ACTION,
    STEPS,
)

_FLOW_OF_INTENT = {intent: flow.name for flow in FLOWS for intent in flow.intents}
_FLOW_OF_START = {action: flow.name for flow in FLOWS for action in flow.start_actions}
_FLOW_OF_FORM = {form: flow.name for flow in FLOWS for form in flow.forms}
_FLOW_OF_PROPOSAL = {action: flow.name for flow in FLOWS for action in flow.propose_actions}


def low_confidence_threshold() -> float:
    """Below this intent confidence a message counts as 'low confidence' and goes to the NLU
    inbox (QC_INBOX_CONFIDENCE, default 0.5; the FallbackClassifier itself stops at 0.35)."""
    try:
        return float(os.environ.get("QC_INBOX_CONFIDENCE") or 0.5)
    except ValueError:
        return 0.5


@dataclass
class UserMessage:
    """A customer message with what NLU made of it (None: written unparsed, to an agent)."""

    event_id: int
    at: datetime
    text: str
    intent: str | None
    confidence: float | None
    fallback: bool = False  # the bot did not understand this turn


@dataclass
class FlowProgress:
    flow: str
    started_at: datetime
    step: int = 0  # index into STEPS; 'applied' is set from the account database


@dataclass
class Summary:
    conversation_id: str
    started_at: datetime
    last_event_at: datetime
    channel: str | None = None
    messages: list[UserMessage] = field(default_factory=list)
    verified: bool = False
    verification_failed: bool = False
    handoff_action: bool = False
    flows: dict[str, FlowProgress] = field(default_factory=dict)

    @property
    def user_messages(self) -> int:
        return len(self.messages)

    @property
    def fallbacks(self) -> int:
        return sum(1 for m in self.messages if m.fallback)

    def low_confidence(self, threshold: float) -> int:
        return sum(
            1 for m in self.messages if m.confidence is not None and m.confidence < threshold
        )

    @property
    def min_confidence(self) -> float | None:
        values = [m.confidence for m in self.messages if m.confidence is not None]
        return min(values) if values else None

    @property
    def last_intent(self) -> str | None:
        for message in reversed(self.messages):
            if message.intent:
                return message.intent
        return None


def _at(timestamp: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(timestamp), UTC)
    except (TypeError, ValueError):
        return datetime.fromtimestamp(0, UTC)


def summarise(conversation_id: str, rows: list[tuple[int, dict[str, Any]]]) -> Summary | None:
    """Summarise (event id, event dict) rows in order; None for a conversation with no events."""
    if not rows:
        return None
    first, last = _at(rows[0][1].get("timestamp")), _at(rows[-1][1].get("timestamp"))
    summary = Summary(conversation_id, first, last)
    proposed_flow: str | None = None
    last_message: UserMessage | None = None

    def start(flow: str, at: datetime) -> FlowProgress:
        return summary.flows.setdefault(flow, FlowProgress(flow, at))

    for event_id, event in rows:
        kind = event.get("event")
        at = _at(event.get("timestamp"))
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name")
            confidence = (parse.get("intent") or {}).get("confidence")
            last_message = UserMessage(
                event_id,
                at,
                str(event.get("text") or ""),
                intent,
                float(confidence) if isinstance(confidence, int | float) else None,
                fallback=intent == FALLBACK_INTENT,
            )
            summary.messages.append(last_message)
            summary.channel = summary.channel or event.get("input_channel")
            if intent in _FLOW_OF_INTENT:
                start(_FLOW_OF_INTENT[intent], at)
        elif kind == "action":
            name = event.get("name")
            if name in _FLOW_OF_START:
                start(_FLOW_OF_START[name], at)
            elif name in _FLOW_OF_PROPOSAL:
                progress = start(_FLOW_OF_PROPOSAL[name], at)
                progress.step = max(progress.step, STEPS.index("proposed"))
                proposed_flow = progress.flow
            elif name == CONFIRM_ACTION and proposed_flow in summary.flows:
                progress = summary.flows[proposed_flow]
                progress.step = max(progress.step, STEPS.index("confirmed"))
            elif name == FALLBACK_ACTION and last_message is not None:
                last_message.fallback = True
            elif name == HANDOFF_ACTION:
                summary.handoff_action = True
        elif kind == "active_loop":
            name = event.get("name")
            if name in _FLOW_OF_FORM:
                start(_FLOW_OF_FORM[name], at)
        elif kind == "slot" and event.get("name") == "verification_status":
            if event.get("value") == "verified":
                summary.verified = True
            elif event.get("value") == "failed":
                summary.verification_failed = True
    if summary.verified:  # verified before or during the flow: the step is passed
        for progress in summary.flows.values():
            progress.step = max(progress.step, STEPS.index("verified"))
    return summary
