"""The reply guard in the action server: every message any action dispatches.

Patched: `rasa_sdk.executor.ActionExecutor.run` (rasa-sdk 3.6), the one function that runs
every action the server serves (custom actions, `action_ask_*` questions, the forms'
`validate_*` actions) and returns its dispatcher's messages as `responses`. Each response is
checked here with `quickconnect.reply_guard`, where the action's name and the conversation id
are known: a defect is logged at ERROR with both, and in production the response is replaced
by the cleaned message (or the apology). With `QC_REPLY_GUARD=strict` (tests) it is sent on
unchanged, so the test clients see and fail on it. The Rasa server checks the same messages
again (`rasa_extensions/reply_guard.py`), and also the domain responses it renders itself.
Installed when the action server imports the `actions` package (`actions/__init__.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.executor import ActionExecutor

from quickconnect import reply_guard

logger = logging.getLogger(__name__)

_original_run = ActionExecutor.run


def guard_responses(responses: list[Any], conversation_id: str, action_name: str) -> int:
    """Check an action's responses (replaced in place in production); the number broken."""
    broken = 0
    for index, message in enumerate(responses):
        if not isinstance(message, dict):
            continue
        replacement = reply_guard.screen(message, conversation_id, action_name, logger)
        if replacement is not None:
            broken += 1
            responses[index] = replacement
    return broken


async def run(self: ActionExecutor, action_call: dict[str, Any]) -> dict[str, Any] | None:
    """rasa-sdk's `ActionExecutor.run`, with the action's messages passed through the guard."""
    result = await _original_run(self, action_call)
    if result and isinstance(result.get("responses"), list):
        sender = str((action_call.get("tracker") or {}).get("sender_id", "?"))
        guard_responses(result["responses"], sender, str(action_call.get("next_action")))
    return result


def install() -> None:
    """Make the action server guard every action's messages (idempotent)."""
    ActionExecutor.run = run  # type: ignore[method-assign]
