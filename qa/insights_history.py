"""Synthetic conversation histories for the insights (issue #31): tracker rows as Rasa's SQL
tracker store writes them, and the account records the same chats would leave.

Why synthetic: the 100k-conversation volume test cannot drive 100k chats through the model
on two cores; what it measures is the indexer and the overview queries, which read rows.
Each scripted conversation says what happened (which flow, how far, a fallback, a handoff),
so a test derives the expected figures from the scripts, never from the code under test.
The live figures are checked separately on chats driven through the real stack
(tests/browser/test_lead_insights_browser.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from quickconnect.db.models import Case, PendingChange, VerificationAttempt, VerificationLockout
from quickconnect.insights.flows import CONFIRM_ACTION, FLOW_BY_NAME, FLOWS
from quickconnect.insights.tracker import EVENTS

# One pending_changes.kind per flow (the applied step); the flows' specs allow more.
EXAMPLE_KIND = {
    "plan_change": "plan_change",
    "device_protection": "device_protection_enrol",
    "account_recovery": "contact_update",
    "subscriptions": "subscription_add",
    "service_cutoffs": "payment_plan",
}
REASONS = ("customer_request", "verification_failed", "repeated_misunderstanding")


@dataclass(frozen=True)
class Script:
    """What happens in one synthetic conversation."""

    conversation_id: str
    started_at: datetime
    flow: str | None = None
    reach: int = 0  # furthest step of STEPS (0 started .. 4 applied) when flow is set
    fallback: bool = False
    handoff_reason: str | None = None
    verify_failed: bool = False
    handling_seconds: int = 300


def _user(text: str, intent: str, confidence: float, at: float) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": at,
        "metadata": {},
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [],
            "text": text,
            "message_id": None,
            "metadata": {},
            "intent_ranking": [{"name": intent, "confidence": confidence}],
        },
        "input_channel": "webchat",
        "message_id": None,
    }


def _action(name: str, at: float) -> dict[str, Any]:
    return {
        "event": "action",
        "timestamp": at,
        "metadata": {},
        "name": name,
        "policy": "RulePolicy",
        "confidence": 1.0,
        "action_text": None,
        "hide_rule_turn": False,
    }


def _bot(text: str, at: float) -> dict[str, Any]:
    return {"event": "bot", "timestamp": at, "metadata": {}, "text": text, "data": {}}


def events(script: Script) -> list[dict[str, Any]]:
    """The tracker events of a scripted conversation, one second apart."""
    clock = iter(range(10_000))
    t0 = script.started_at.timestamp()

    def at() -> float:
        return t0 + next(clock)

    out: list[dict[str, Any]] = [
        _action("action_session_start", at()),
        {"event": "session_started", "timestamp": at(), "metadata": {}},
        _action("action_listen", at()),
        _user("hi there", "greet", 0.97, at()),
        _bot("Hi! How can I help?", at()),
        _action("action_listen", at()),
    ]
    if script.fallback:
        out += [
            _user("the blue thing blinks twice", "nlu_fallback", 0.21, at()),
            _action("action_default_fallback", at()),
            _bot("Sorry, I didn't get that.", at()),
            _action("action_listen", at()),
        ]
    if script.flow is not None:
        spec = FLOW_BY_NAME[script.flow]
        form = sorted(spec.forms)[0] if spec.forms else None
        out += [
            _user(f"I want help with {spec.label}", sorted(spec.intents)[0], 0.91, at()),
            _action(sorted(spec.start_actions)[0], at()),
        ]
        if form:
            out.append({"event": "active_loop", "timestamp": at(), "name": form})
        if script.verify_failed:
            out.append(
                {
                    "event": "slot",
                    "timestamp": at(),
                    "name": "verification_status",
                    "value": "failed",
                }
            )
        if script.reach >= 1:
            out.append(
                {
                    "event": "slot",
                    "timestamp": at(),
                    "name": "verification_status",
                    "value": "verified",
                }
            )
        if form:
            out.append({"event": "active_loop", "timestamp": at(), "name": None})
        if script.reach >= 2:
            out += [_action(sorted(spec.propose_actions)[0], at()), _action("action_listen", at())]
        if script.reach >= 3:
            out += [_user("yes please", "affirm", 0.99, at()), _action(CONFIRM_ACTION, at())]
        out.append(_action("action_listen", at()))
    if script.handoff_reason is not None:
        out += [
            _user("let me talk to a person", "request_human", 0.95, at()),
            _action("action_handoff", at()),
            {"event": "pause", "timestamp": at()},
        ]
    return out


def tracker_rows(script: Script) -> Iterator[dict[str, Any]]:
    """`events` rows as Rasa's SQLTrackerStore.save writes them."""
    for event in events(script):
        yield {
            "sender_id": script.conversation_id,
            "type_name": event["event"],
            "timestamp": event["timestamp"],
            "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": event.get("name"),
            "data": json.dumps(event),
        }


def scripts(
    count: int, *, start: datetime, days: int, seed: int = 31, prefix: str = "syn"
) -> list[Script]:
    """A varied history of `count` conversations spread over `days` days."""
    rng = random.Random(seed)
    names = [flow.name for flow in FLOWS]
    result = []
    for n in range(count):
        flow = rng.choice([*names, None])
        result.append(
            Script(
                conversation_id=f"{prefix}-{seed}-{n:07d}",
                started_at=start + timedelta(seconds=rng.randrange(days * 86400)),
                flow=flow,
                reach=rng.choice((0, 1, 1, 2, 3, 4, 4)) if flow else 0,
                fallback=rng.random() < 0.2,
                handoff_reason=rng.choice(REASONS) if rng.random() < 0.15 else None,
                verify_failed=rng.random() < 0.1,
                handling_seconds=rng.randrange(60, 1800),
            )
        )
    return result


def write(
    tracker: Connection,
    accounts: Connection,
    history: Sequence[Script],
    *,
    customer_id: int,
    case_offset: int = 0,
    batch: int = 2000,
) -> None:
    """Write the scripts' tracker rows and account records (cases, changes, verification)."""
    for start in range(0, len(history), batch):
        part = history[start : start + batch]
        tracker.execute(insert(EVENTS), [row for s in part for row in tracker_rows(s)])
        cases, changes, attempts, lockouts = [], [], [], []
        for number, s in enumerate(part, start=start + case_offset):
            t = s.started_at
            if s.handoff_reason is not None:
                taken = t + timedelta(seconds=60)
                cases.append(
                    {
                        "case_number": f"CS-{900000 - number:06d}"[:9],
                        "customer_id": customer_id if s.reach >= 1 else None,
                        "conversation_id": s.conversation_id,
                        "reason": s.handoff_reason,
                        "summary": "synthetic",
                        "status": "resolved",
                        "chat_state": "bot",
                        "created_at": t,
                        "queued_at": t,
                        "assigned_at": taken,
                        "resolved_at": taken + timedelta(seconds=s.handling_seconds),
                        "resolution": "resolved",
                    }
                )
            if s.flow is not None and s.reach >= 4:
                changes.append(
                    {
                        "id": f"{s.conversation_id[-24:]}-{number:011d}"[:36],
                        "conversation_id": s.conversation_id,
                        "customer_id": customer_id,
                        "kind": EXAMPLE_KIND[s.flow],
                        "params": {},
                        "summary": "synthetic",
                        "status": "applied",
                        "created_at": t,
                        "applied_at": t + timedelta(seconds=30),
                    }
                )
            if s.flow is not None and s.verify_failed:
                attempts.append(_attempt(s, customer_id, False))
            if s.flow is not None and s.reach >= 1:
                attempts.append(_attempt(s, customer_id, True))
            if s.flow is not None and s.verify_failed and s.reach == 0:
                lockouts.append(
                    {
                        "customer_id": customer_id,
                        "locked_at": t,
                        "locked_until": t + timedelta(minutes=30),
                        "failures": 5,
                    }
                )
        for model, rows in (
            (Case, cases),
            (PendingChange, changes),
            (VerificationAttempt, attempts),
            (VerificationLockout, lockouts),
        ):
            if rows:
                accounts.execute(insert(model), rows)


def _attempt(s: Script, customer_id: int, success: bool) -> dict[str, Any]:
    return {
        "conversation_id": s.conversation_id,
        "customer_id": customer_id,
        "stage": "verify",
        "identifier_tried": "QC-100001",
        "factor": "zip" if success else None,
        "success": success,
        "client_key": None,
        "created_at": s.started_at + timedelta(seconds=5 if success else 3),
    }
