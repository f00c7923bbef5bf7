"""Where a correction takes the conversation back to (actions/corrections.py), on event lists
shaped like the tracker's."""

from __future__ import annotations

from typing import Any

from actions.corrections import correction_events, is_correction

DOMAIN: dict[str, Any] = {
    "slots": {
        "pending_task": {"values": ["cancel_subscription"]},
        "service_name": {"mappings": [{"type": "from_entity", "entity": "service_name"}]},
        "plan_installments": {"mappings": [{"type": "from_text"}]},
    }
}


def _user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def _loop(name: str | None) -> dict[str, Any]:
    return {"event": "active_loop", "name": name}


def test_a_no_with_a_new_answer_is_a_correction_and_a_plain_no_is_not() -> None:
    assert is_correction({"text": "no, I meant the iPad", "entities": []})
    assert is_correction({"text": "no", "entities": [{"entity": "service_name", "value": "x"}]})
    assert not is_correction({"text": "no thanks", "entities": []})


def test_an_answer_given_to_a_form_is_rewound_and_the_correction_replayed() -> None:
    events = [
        _user("can I pay in installments", "ask_payment_plan"),
        _loop("verification_form"),
        _user("QC-100004", "inform"),
        _user("Lagos", "inform"),
        _loop("payment_plan_form"),
        {"event": "slot", "name": "requested_slot", "value": "plan_installments"},
        _user("2 installments", "inform"),
        _loop(None),
        _user("actually make it 3 payments", "inform"),
    ]
    message = {"text": "actually make it 3 payments", "intent": {"name": "inform"}}
    got = correction_events(events, message, DOMAIN)
    kinds = [e["event"] for e in got]
    assert kinds.count("rewind") == 1  # only the correction turn is rewound
    assert {"event": "active_loop", "name": "payment_plan_form"}.items() <= got[
        kinds.index("active_loop")
    ].items()
    replay = kinds.index("user")
    assert got[replay]["text"] == "actually make it 3 payments"
    assert got[replay - 1]["name"] == "action_listen"
    # the answer is filled as slot extraction would, after the replayed message
    assert got[replay + 1]["name"] == "plan_installments"
    assert got[replay + 1]["value"] == "actually make it 3 payments"


def test_never_rewound_into_verification_the_task_is_asked_for_again() -> None:
    events = [
        _user("cancel StreamMax", "cancel_subscription"),
        _loop("verification_form"),
        _user("QC-100008", "inform"),
        _user("Osaka", "inform"),
        _loop(None),
        _user("no, I meant Cloud Vault", "deny"),
    ]
    entity = {"entity": "service_name", "value": "Cloud Vault"}
    message = {"text": "no, I meant Cloud Vault", "intent": {"name": "deny"}, "entities": [entity]}
    got = correction_events(events, message, DOMAIN)
    assert got[0]["event"] == "rewind" and [e["event"] for e in got].count("rewind") == 1
    slots = {e["name"]: e["value"] for e in got if e["event"] == "slot"}
    assert slots["pending_task"] == "cancel_subscription"
    assert slots["service_name"] == "Cloud Vault"
    assert slots["awaiting_confirmation"] is False
    replay = next(e for e in got if e["event"] == "user")
    assert replay["parse_data"]["intent"]["name"] == "cancel_subscription"
    # the new add-on fills its slot after the replayed request, as slot extraction would
    assert got.index(replay) < max(i for i, e in enumerate(got) if e.get("name") == "service_name")


def test_nothing_to_go_back_to() -> None:
    assert correction_events([_user("3", "inform")], {"text": "3"}, DOMAIN) is None
