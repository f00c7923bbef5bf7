"""Two "yes" for the same pending change at the same moment: applied exactly once.

Through Rasa the lock store (in memory, or Redis) queues a conversation's messages, so the
second yes finds the change done. Straight at the action server, with Rasa's lock out of the
way, the database has to decide: the pending change's row lock and compare-and-set
(`services.changes.confirm_change`), or SQLite's one writer.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.faults.conftest import FaultStack, account_state, one_change_later

pytestmark = pytest.mark.faults

PLAN_CHANGES = {  # a different account per case and stack run (the stacks are shared)
    "rasa": ("QC-100008", "Osaka", "Everyday 20GB"),
    "actions": ("QC-100002", "Porto", "Unlimited Plus"),
}


def _quoted(fault_stack: FaultStack, case: str) -> tuple[Any, dict[str, Any], str]:
    account, factor, plan = PLAN_CHANGES[case]
    chat = fault_stack.chat(f"double-yes-{case}")
    chat.text(f"I want to switch to {plan}")
    chat.text(account)
    assert "Shall I go ahead?" in chat.text(factor)
    return chat, account_state(fault_stack, account), plan


def _at_once(n: int, fn: Any) -> list[Any]:
    """Run `fn()` in `n` threads released together."""
    barrier = threading.Barrier(n, timeout=30)

    def run() -> Any:
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(n) as pool:
        return [f.result(timeout=120) for f in [pool.submit(run) for _ in range(n)]]


def test_two_yes_through_rasa_apply_once(fstack: FaultStack) -> None:
    chat, before, plan = _quoted(fstack, "rasa")
    replies = _at_once(2, lambda: chat.text("yes"))
    assert all(replies), replies
    assert sum("Done" in r for r in replies) == 1, replies
    assert account_state(fstack, PLAN_CHANGES["rasa"][0]) == one_change_later(before, plan)
    assert fstack.slots(chat.sender)["awaiting_confirmation"] is False


def _action_call(fault_stack: FaultStack, sender: str, text: str) -> dict[str, Any]:
    """The request Rasa would send to run action_confirm_change on this conversation now."""
    slots = fault_stack.slots(sender)
    events = fault_stack.events(sender)
    last_user = next(e for e in reversed(events) if e.get("event") == "user")
    latest = {**last_user.get("parse_data", {}), "text": text}
    return {
        "next_action": "action_confirm_change",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_four_yes_straight_at_the_action_server_apply_once(fstack: FaultStack) -> None:
    chat, before, plan = _quoted(fstack, "actions")
    body = json.dumps(_action_call(fstack, chat.sender, "yes")).encode()

    def call() -> str:
        request = urllib.request.Request(
            f"{fstack.stack.action_url}/webhook",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 (local)
            answer = json.loads(resp.read())
        return "\n".join(r.get("text") or "" for r in answer.get("responses", []))

    replies = _at_once(4, call)
    assert sum("Done" in r for r in replies) == 1, replies
    assert all("Done" in r or "haven't applied it twice" in r for r in replies), replies
    assert account_state(fstack, PLAN_CHANGES["actions"][0]) == one_change_later(before, plan)
