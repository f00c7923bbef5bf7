"""Validate action-server responses with a validator compiled once, not once per call.

Rasa 3.6 checks every action-server response with `jsonschema.validate(result, schema)`.
That function first validates the *schema itself* against the JSON Schema meta-schema
(draft 2020-12, whose `$dynamicRef`s are slow to follow), on every call. Profiling the Rasa
server under `make bench` (py-spy) put 27% of its CPU in that meta-schema check alone, for a
schema that never changes. Here the validator is built once; the response is checked against
the same schema with the same `ValidationError` (and the same help text) as before.

Installed by `install()`, which `rasa_extensions/__init__.py` calls, so every Rasa server
process that loads this project's channel or lock store gets it.
"""

from __future__ import annotations

import functools
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


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Drop-in for `RemoteAction._validate_action_result` (same errors, same message)."""
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
