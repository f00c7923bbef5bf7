"""Where the reply guard hooks into the two servers, with Rasa's and rasa-sdk's own objects.

- Rasa server: `MessageProcessor._log_action_on_tracker` (rasa_extensions/reply_guard.py):
  the events an action returns, which are both stored and sent to the channel.
- Action server: `ActionExecutor.run` (actions/reply_guard.py): every action's responses.
Production cleans and logs; `QC_REPLY_GUARD=strict` sends unchanged and logs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, Event, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

import actions  # noqa: F401 (installs the action server's guard, as `rasa run actions` does)
import rasa_extensions  # noqa: F401 (installs the Rasa server's guard, as `rasa run` does)
from actions import reply_guard as sdk_guard
from quickconnect.reply_guard import APOLOGY, ENV_VAR, STRICT
from rasa_extensions import reply_guard as rasa_guard

BROKEN = "I can't find an active device protection plan None on your account."
REPAIRED = "I can't find an active device protection plan on your account."


def _chain(fn: object) -> list[object]:
    """A patched function and those it wraps (`__wrapped__`), outermost first."""
    chain = []
    while fn is not None:
        chain.append(fn)
        fn = getattr(fn, "__wrapped__", None)
    return chain


def test_both_servers_have_the_guard_installed() -> None:
    assert MessageProcessor._log_action_on_tracker is rasa_guard.log_action_on_tracker
    # the action server's executor: client context (actions/client_context.py) around the guard
    assert sdk_guard.run in _chain(ActionExecutor.run)
    assert getattr(ActionExecutor.run, "_qc_client_context", False)


def _events() -> list[Event]:
    return [
        SlotSet("protection_plan_number", None),
        BotUttered(BROKEN, {"buttons": [{"title": "None", "payload": "x"}]}, {"a": 1}),
        BotUttered("All good here.", {}),
        BotUttered("{question}", {"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
    ]


def test_rasa_server_cleans_in_production_and_logs_the_conversation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    events = _events()
    with caplog.at_level(logging.ERROR, logger=rasa_guard.__name__):
        assert rasa_guard.guard_events(events, "conv-7", "validate_dp_claim_form") == 2
    assert isinstance(events[0], SlotSet)
    assert events[1].text == REPAIRED
    assert events[1].data == {"buttons": []}
    assert events[1].metadata == {"a": 1}
    assert events[2].text == "All good here."
    assert events[3].text == APOLOGY
    assert events[3].data == {"buttons": []}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert "conversation conv-7, action validate_dp_claim_form: Python None: 'None'" in errors[0]


def test_rasa_server_sends_unchanged_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, STRICT)
    events = _events()
    assert rasa_guard.guard_events(events, "conv-8", "utter_x") == 2
    assert [e.text for e in events[1:]] == [BROKEN, "All good here.", "{question}"]


def _executor() -> ActionExecutor:
    """A real rasa-sdk executor with one function action (not an `Action` subclass, which
    the project's action registry would then serve)."""

    def broken_action(
        dispatcher: CollectingDispatcher, tracker: Any, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=BROKEN)
        dispatcher.utter_message(response="utter_greet")
        return []

    executor = ActionExecutor()
    executor.register_function("action_broken", broken_action)
    return executor


def _call() -> dict[str, Any]:
    tracker = {"sender_id": "conv-9", "slots": {}, "events": [], "latest_message": {}}
    return {"next_action": "action_broken", "tracker": tracker, "domain": {}}


def test_action_server_cleans_every_action_in_production(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with caplog.at_level(logging.ERROR, logger=sdk_guard.__name__):
        result = asyncio.run(_executor().run(_call()))
    assert result is not None
    texts = [r.get("text") for r in result["responses"]]
    assert texts == [REPAIRED, None]  # a domain response is rendered (and guarded) by Rasa
    [error] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "conversation conv-9, action action_broken" in error


def test_action_server_sends_unchanged_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, STRICT)
    result = asyncio.run(_executor().run(_call()))
    assert result is not None
    assert result["responses"][0]["text"] == BROKEN
