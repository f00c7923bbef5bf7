"""A turn whose custom action failed ends there, listening, so the conversation goes on.

Rasa 3.6 (`MessageProcessor._run_action`) logs a custom action that raised (action server
down, killed in the middle of a call, timed out, answering 500), drops its events and
predicts the next action. After such a failure the policies predict the fallback, itself a
custom action here (`action_default_fallback`), which fails the same way, nine times, until
the circuit breaker stops the turn, with no `action_listen`. The circuit breaker counts the
actions since the last `action_listen`, so from then on it trips before the first
prediction of every turn: the conversation never gets an answer again, even once the action
server is back (found by tests/faults/test_crashes.py: every later message got the
channel's apology).

Here the first failed custom action ends the turn: an `action_listen` is recorded, the
channel's no-reply guard apologises (the action's unit of work rolled back, so nothing was
applied), and the next message is predicted as usual from the slots the conversation had.
An action rejected on purpose (`ActionExecutionRejection`, e.g. a form slot refused) is not a
failure and keeps Rasa's behaviour.

A call to the action server also gives up after `ACTION_TIMEOUT_S` instead of Rasa's 300 s
(`DEFAULT_REQUEST_TIMEOUT`), so a stalled action server costs the customer seconds, not
minutes: every action bounds its own work well below it (PostgreSQL connect 5 s and
statement 5 s, SQLite busy 5 s; docs/architecture.md).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

import rasa.core.actions.action as rasa_actions
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted

logger = logging.getLogger(__name__)

ACTION_TIMEOUT_S = float(os.environ.get("ACTION_TIMEOUT_S", "30"))

# Set while `_run_action` runs an action: True once a custom action call inside it failed
# (a form runs its validate_* action as a nested RemoteAction, in the same task).
_failed: ContextVar[bool | None] = ContextVar("qc_custom_action_failed", default=None)


def _noting_failures(run: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(run)
    async def run_noting_failures(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except Exception:
            if _failed.get() is not None:
                _failed.set(True)
            raise

    run_noting_failures.__qc_noting_failures__ = True  # type: ignore[attr-defined]
    return run_noting_failures


def _ending_turn_on_failure(run_action: Callable[..., Awaitable[bool]]) -> Callable[..., Any]:
    @functools.wraps(run_action)
    async def run_action_ending_turn(
        self: MessageProcessor, action: Any, tracker: Any, *args: Any, **kwargs: Any
    ) -> bool:
        token = _failed.set(False)
        try:
            another = await run_action(self, action, tracker, *args, **kwargs)
            failed = bool(_failed.get())
        finally:
            _failed.reset(token)
        if failed and another:
            logger.warning(
                "Custom action %r failed for %s: the turn ends here, listening.",
                action.name(),
                tracker.sender_id,
            )
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            return False
        return another

    return run_action_ending_turn


def install() -> None:
    """Patch Rasa's processor and remote action (idempotent)."""
    rasa_actions.DEFAULT_REQUEST_TIMEOUT = ACTION_TIMEOUT_S  # read by RemoteAction.run
    if not getattr(RemoteAction.run, "__qc_noting_failures__", False):
        RemoteAction.run = _noting_failures(RemoteAction.run)  # type: ignore[method-assign]
        MessageProcessor._run_action = _ending_turn_on_failure(  # type: ignore[method-assign]
            MessageProcessor._run_action
        )
