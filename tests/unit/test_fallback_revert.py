"""The dialogue's core fallback (actions/conversation.py) never reverts a turn that actions
already answered."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionDefaultFallback, answered_this_turn


def _user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_a_fallback_after_actions_answered_the_turn_reverts_nothing() -> None:
    """The core fallback after actions ran must not revert their events (a verification reset
    for another client's message among them)."""
    events = [
        _user("which plan am I on?", "check_current_plan"),
        {"event": "action", "name": "verification_form"},
        {"event": "action", "name": "action_show_current_plan"},
        {"event": "slot", "name": "verification_status", "value": "unverified"},
    ]
    tracker = Tracker("t", {}, events[0]["parse_data"], events, False, None, {}, "action_listen")
    assert answered_this_turn(tracker)
    dispatcher = CollectingDispatcher()
    assert ActionDefaultFallback().run(dispatcher, tracker, {}) == [
        {"event": "followup", "timestamp": None, "name": "action_listen"}
    ]
    assert dispatcher.messages == []
    fresh = Tracker("t", {}, events[0]["parse_data"], events[:1], False, None, {}, "action_listen")
    assert not answered_this_turn(fresh)
    assert ActionDefaultFallback().run(dispatcher, fresh, {}) == [
        {"event": "rewind", "timestamp": None}
    ]
