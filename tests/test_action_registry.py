"""The action server serves exactly the custom actions the domain declares."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from quickconnect.config import PROJECT_ROOT


def _domain_custom_actions() -> set[str]:
    domain = yaml.safe_load(Path(PROJECT_ROOT / "domain.yml").read_text())
    return {a for a in domain["actions"] if not a.startswith("utter_")}


def test_every_domain_action_is_registered_by_the_action_server() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    missing = _domain_custom_actions() - registered
    assert not missing, f"declared in domain.yml but not served: {sorted(missing)}"


def test_the_action_server_serves_nothing_the_domain_does_not_know() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    # action_default_fallback overrides a Rasa default action, so it is not in the domain list.
    unknown = set(executor.actions) - _domain_custom_actions() - {"action_default_fallback"}
    assert not unknown, f"served but missing from domain.yml: {sorted(unknown)}"
