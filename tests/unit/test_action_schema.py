"""Action-server responses: the per-event shortcut accepts exactly what Rasa's schema accepts.

rasa_extensions/speedups/action_schema.py checks each event against the one schema its `event` names
instead of Rasa's `oneOf` of all 23; anything it does not accept gets Rasa's full check.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)

from rasa_extensions.speedups import action_schema

VALID_RESPONSES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {},
    {"responses": [{"text": "Done", "buttons": [{"title": "ok", "payload": "/affirm"}]}]},
    {
        "events": [
            e.as_dict()
            for e in (
                SlotSet("account_number", "QC-100001"),
                SlotSet("verification_status", None),
                ActiveLoop("verification_form"),
                ActiveLoop(None),
                FollowupAction("action_listen"),
                BotUttered("hi", {"buttons": []}),
                ActionExecuted("utter_greet"),
                UserUttered("hi", {"name": "greet", "confidence": 1.0}),
                SessionStarted(),
                Restarted(),
            )
        ],
        "responses": [{"text": "Thanks"}],
    },
]
INVALID_RESPONSES: list[Any] = [
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "slot without its event key"}]},
    {"events": [{"event": "slot", "name": 5, "value": 1}]},  # a slot name must be a string
    {"events": [{"event": 7}]},
    {"events": ["slot"]},
    {"events": {"event": "slot"}},
    {"events": [{"event": "action", "name": ["a list"]}]},
    {"responses": "text"},
    [],
]


def _full_check_error(result: Any) -> str | None:
    try:
        action_schema.response_validator().validate(result)
    except ValidationError as error:
        return error.message
    return None


@pytest.mark.parametrize("result", VALID_RESPONSES)
def test_valid_responses_are_recognised_without_the_full_check(result: dict[str, Any]) -> None:
    assert _full_check_error(result) is None
    assert action_schema.clearly_valid(result)
    assert action_schema.validate_action_result(None, result)  # type: ignore[arg-type]


@pytest.mark.parametrize("result", INVALID_RESPONSES)
def test_invalid_responses_fail_with_rasas_own_error(result: Any) -> None:
    expected = _full_check_error(result)
    assert expected is not None
    assert not action_schema.clearly_valid(result)
    with pytest.raises(ValidationError) as raised:
        action_schema.validate_action_result(None, result)  # type: ignore[arg-type]
    assert raised.value.message.startswith(expected)
    assert "Failed to validate Action server response" in raised.value.message


def test_every_event_type_in_rasas_schema_has_its_own_check() -> None:
    schema = RemoteAction.action_response_format_spec()
    names = {
        alternative["properties"]["event"]["const"]
        for alternative in schema["properties"]["events"]["items"]["oneOf"]
    }
    validators = action_schema._validators_by_event()
    assert validators is not None  # the shortcut is on for Rasa 3.6's schema
    assert set(validators[1]) == names
