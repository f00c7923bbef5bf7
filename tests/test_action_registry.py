"""The action server serves exactly the custom actions the domain declares."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.forms import ValidationAction
from rasa_sdk.interfaces import Action as SdkAction

from actions.device_protection import PROTECTABLE_TYPES
from quickconnect.config import PROJECT_ROOT
from quickconnect.services.account_recovery import SECURITY_QUESTIONS
from quickconnect.services.service_cutoffs import PLAN_INSTALLMENT_CHOICES


def _action_server() -> ActionExecutor:
    """The action server's registry, loaded the way `rasa run actions` loads it."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def _domain_custom_actions() -> set[str]:
    domain = yaml.safe_load(Path(PROJECT_ROOT / "domain.yml").read_text())
    return {a for a in domain["actions"] if not a.startswith("utter_")}


def test_every_domain_action_is_registered_by_the_action_server() -> None:
    executor = _action_server()
    registered = set(executor.actions)
    missing = _domain_custom_actions() - registered
    assert not missing, f"declared in domain.yml but not served: {sorted(missing)}"


def test_the_action_server_serves_nothing_the_domain_does_not_know() -> None:
    executor = _action_server()
    # action_default_fallback overrides a Rasa default action, so it is not in the domain list.
    unknown = set(executor.actions) - _domain_custom_actions() - {"action_default_fallback"}
    assert not unknown, f"served but missing from domain.yml: {sorted(unknown)}"


def test_every_form_slot_has_exactly_one_question() -> None:
    # A form asks with `action_ask_<slot>` (composed from data) or `utter_ask_<slot>` (fixed
    # text in the domain); with neither the form would stall, with both one is dead code.
    domain = yaml.safe_load(Path(PROJECT_ROOT / "domain.yml").read_text())
    for form, spec in domain["forms"].items():
        for slot in spec["required_slots"]:
            asks = [
                name
                for name in (f"action_ask_{form}_{slot}", f"action_ask_{slot}")
                if name in domain["actions"]
            ] + [
                name
                for name in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}")
                if name in domain["responses"]
            ]
            assert len(asks) == 1, f"{form}.{slot} is asked by {asks or 'nothing'}"


def _buttons(response: str) -> list[dict[str, str]]:
    domain = yaml.safe_load(Path(PROJECT_ROOT / "domain.yml").read_text())
    (variant,) = domain["responses"][response]
    return variant["buttons"]


def test_fixed_questions_offer_the_choices_the_code_accepts() -> None:
    # These questions live in the domain; their buttons must follow the lists in the code.
    assert _buttons("utter_ask_dp_new_device_type") == [
        {"title": t.capitalize(), "payload": f"a {t}"} for t in PROTECTABLE_TYPES
    ]
    assert _buttons("utter_ask_plan_installments") == [
        {"title": f"{n} installments", "payload": f"{n} installments"}
        for n in PLAN_INSTALLMENT_CHOICES
    ]
    assert _buttons("utter_ask_new_security_question") == [
        {"title": q, "payload": str(n)} for n, q in enumerate(SECURITY_QUESTIONS, start=1)
    ]


def test_the_domain_goes_only_to_the_actions_that_read_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # endpoints.yml enables selective domain: Rasa sends the domain (22 KB of JSON) only to
    # the actions it marks as needing it. rasa-sdk's form validators read the form's
    # required slots and slot mappings from it; every other action gets an empty domain.
    # endpoints.yml names its URLs by environment variable; only the action endpoint is read.
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_STORE_URL", "sqlite:///unused.db")
    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint is not None
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = DialogueStateTracker.from_events("selective-domain", [])
    executor = _action_server()
    served: dict[str, SdkAction] = {
        name: executor.actions[name].__self__  # type: ignore[attr-defined]
        for name in executor.actions
    }

    sent_domain = {
        name: "domain" in RemoteAction(name, endpoint)._action_call_format(tracker, domain)
        for name in served
    }
    reads_domain = {name for name, action in served.items() if isinstance(action, ValidationAction)}
    assert reads_domain, "no form validators found"
    assert {name for name, sent in sent_domain.items() if sent} == reads_domain
