"""Validate action-server responses with a validator compiled once, not once per call.

Rasa 3.6 checks every action-server response with `jsonschema.validate(result, schema)`.
That function first validates the *schema itself* against the JSON Schema meta-schema
(draft 2020-12, whose `$dynamicRef`s are slow to follow), on every call. Profiling the Rasa
server under `make bench` (py-spy) put 27% of its CPU in that meta-schema check alone, for a
schema that never changes. Here the validator is built once; the response is checked against
the same schema with the same `ValidationError` (and the same help text) as before.

The events list is checked against a `oneOf` of 23 event schemas, told apart by their
`event` constant; `jsonschema` tries all 23 for every event and builds an error for each
miss: 0.73 ms for a response of 4 events and a text, against 0.06 ms this way (2026-11-24).
A valid response is now recognised by checking each event only against the schema its
`event` names, which accepts exactly what the `oneOf` accepts: the other 22 fail on their
constant. Anything that check does not accept goes through the full validation, so an
invalid response fails with the same error as before.

Installed by `install()`, which the registry
(`rasa_extensions/speedups/__init__.py`) calls, so every Rasa server
process that loads this project's channel or lock store gets it.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def response_validator() -> Validator:
    """The validator for `RemoteAction.action_response_format_spec()`, checked once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@functools.lru_cache(maxsize=1)
def _validators_by_event() -> tuple[Validator, dict[str, Validator]] | None:
    """(the response schema without the events' `oneOf`, a validator per event name), or
    None if the schema is not the shape this shortcut relies on (then: full check always)."""
    schema = RemoteAction.action_response_format_spec()
    items = schema.get("properties", {}).get("events", {}).get("items", {})
    alternatives = items.get("oneOf")
    if "$ref" in json.dumps(schema) or not isinstance(alternatives, list):
        return None
    cls = validator_for(schema)
    by_event: dict[str, Validator] = {}
    for alternative in alternatives:
        name = alternative.get("properties", {}).get("event", {}).get("const")
        if not isinstance(name, str) or name in by_event:
            return None
        by_event[name] = cls(alternative)
    if "event" not in items.get("required", []):
        return None
    outer = copy.deepcopy(schema)
    outer["properties"]["events"]["items"] = {k: v for k, v in items.items() if k != "oneOf"}
    return cls(outer), by_event


def clearly_valid(result: Any) -> bool:
    """True only for a response the full schema accepts (False: ask the full check)."""
    validators = _validators_by_event()
    if validators is None:
        return False
    outer, by_event = validators
    if not outer.is_valid(result):
        return False
    events = result.get("events") if isinstance(result, dict) else None
    for event in events if isinstance(events, list) else []:
        name = event.get("event") if isinstance(event, dict) else None
        check = by_event.get(name) if isinstance(name, str) else None
        if check is None or not check.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Drop-in for `RemoteAction._validate_action_result` (same errors, same message)."""
    if clearly_valid(result):
        return True
    try:
        response_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


def install() -> None:
    """Replace Rasa's per-call schema check (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
