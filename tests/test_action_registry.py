"""The action server serves exactly the custom actions the domain declares."""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

from actions.device_protection import PROTECTABLE_TYPES
from quickconnect.config import PROJECT_ROOT
from quickconnect.services.account_recovery import SECURITY_QUESTIONS
from quickconnect.services.service_cutoffs import PLAN_INSTALLMENT_CHOICES


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
