"""The NLU test set's coverage and independence, and the evaluation's scoring rules."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from qa.nlu_eval import (
    EXTERNAL_DIR,
    OPENINGS_SET,
    PROJECT_SET,
    Example,
    Gate,
    Prediction,
    label_counts,
    label_of,
    load_rasa_yaml,
    load_tsv,
    per_intent_scores,
    render_report,
    score_label,
    summarise,
)
from quickconnect.config import PROJECT_ROOT

SPEC = PROJECT_ROOT.parent / "shared" / "spec.md"
GENERAL = [
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human", "help",
    "stop", "inform", "out_of_scope",
]  # fmt: skip
GUIDES = [
    "enroll_device_protection", "manage_device_protection", "file_claim", "check_claim_status",
    "reset_password", "unlock_account", "recovery_email_missing", "update_security_questions",
    "update_contact_info", "forgot_recovery_contact", "add_subscription", "modify_subscription",
    "cancel_subscription", "list_subscriptions", "report_service_cutoff", "make_payment",
    "ask_payment_plan", "request_disconnection", "change_plan", "ask_plan_options",
    "check_current_plan", "check_case_status",
]  # fmt: skip
FAQ_KEYS = [
    "protection_coverage", "activation_time", "subscription_fees", "manage_online",
    "plan_change_fee", "plan_change_frequency", "revert_plan",
]  # fmt: skip
EVERY_LABEL = GENERAL + GUIDES + [f"faq/{key}" for key in FAQ_KEYS]


def test_the_label_list_matches_the_spec() -> None:
    if not SPEC.exists():
        pytest.skip("the shared spec is not next to the project")
    spec = SPEC.read_text()
    named = set(re.findall(r"`([a-z_]+(?:/[a-z_]+)?)`", spec))
    for label in EVERY_LABEL:
        assert label in named, label


def test_the_test_set_has_at_least_8_lines_for_every_intent_and_faq_key() -> None:
    counts = label_counts(load_rasa_yaml(PROJECT_SET))
    short = {label: counts.get(label, 0) for label in EVERY_LABEL if counts.get(label, 0) < 8}
    assert not short, short
    assert set(counts) <= set(EVERY_LABEL), set(counts) - set(EVERY_LABEL)


def _training_texts() -> set[str]:
    texts: set[str] = set()
    for path in Path(PROJECT_ROOT / "data").rglob("*.yml"):
        data = yaml.safe_load(path.read_text()) or {}
        for item in data.get("nlu", []) or []:
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    plain = re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", line[2:])
                    texts.add(plain.strip().lower())
    return texts


def _loose_key(text: str) -> str:
    """Case, punctuation and spacing don't make a different sentence."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def test_no_test_line_is_also_a_training_line() -> None:
    training = {_loose_key(text) for text in _training_texts()}
    overlap = [e.text for e in load_rasa_yaml(PROJECT_SET) if _loose_key(e.text) in training]
    assert not overlap, f"test lines found in data/ (remove them from one side): {overlap}"


def test_no_opening_message_is_a_training_line() -> None:
    training = {_loose_key(text) for text in _training_texts()}
    overlap = Counter(e.label for e in load_tsv(OPENINGS_SET) if _loose_key(e.text) in training)
    assert not overlap, f"{sum(overlap.values())} opening lines are in data/, by intent: {overlap}"


def test_the_openings_set_has_150_lines_of_known_labels() -> None:
    examples = load_tsv(OPENINGS_SET)
    assert len(examples) >= 150
    assert {e.label for e in examples} <= set(EVERY_LABEL)


@pytest.mark.parametrize("name", ["clean", "loose"])
def test_no_external_test_line_is_a_training_line(name: str) -> None:
    """The external sets (../shared/eval, test-only) must never be trained on, not even by
    chance: a short line like "hello there" written for data/ counts too. Only the count is
    shown, so fixing the data does not mean reading the test lines."""
    path = EXTERNAL_DIR / f"{name}.tsv"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    training = {_loose_key(text) for text in _training_texts()}
    overlap = Counter(e.label for e in load_tsv(path) if _loose_key(e.text) in training)
    assert not overlap, f"{sum(overlap.values())} {name} lines are in data/, by intent: {overlap}"


def test_entity_annotations_are_stripped(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n  - intent: inform\n    examples: |\n'
        "      - my account is [QC-123456](account_number)\n"
        '      - email [a@b.co]{"entity": "email"} please\n'
    )
    assert [e.text for e in load_rasa_yaml(path)] == [
        "my account is QC-123456",
        "email a@b.co please",
    ]


def test_faq_predictions_need_the_right_response_key() -> None:
    parse = {
        "intent": {"name": "faq", "confidence": 0.9},
        "response_selector": {
            "faq": {"response": {"intent_response_key": "faq/revert_plan", "confidence": 0.8}}
        },
    }
    assert label_of(parse) == ("faq/revert_plan", 0.9)
    assert label_of({"intent": {"name": "greet", "confidence": 1.0}}) == ("greet", 1.0)
    assert label_of({"intent": None}) == ("nlu_fallback", 0.0)


def test_fallback_is_right_for_out_of_scope_and_wrong_for_the_rest() -> None:
    assert score_label("out_of_scope", "nlu_fallback") == "out_of_scope"
    assert score_label("greet", "nlu_fallback") == "nlu_fallback"


def _prediction(gold: str, raw: str) -> Prediction:
    return Prediction(Example(f"{gold} line", gold), score_label(gold, raw), raw, 0.5)


def test_summary_figures() -> None:
    predictions = [
        _prediction("greet", "greet"),
        _prediction("greet", "nlu_fallback"),
        _prediction("thank", "thank"),
        _prediction("thank", "greet"),
        _prediction("out_of_scope", "nlu_fallback"),
        _prediction("out_of_scope", "help"),
    ]
    result = summarise("unit", "memory", predictions)
    assert result.lines == 6
    assert result.accuracy == pytest.approx(3 / 6)
    assert result.in_scope_lines == 4
    assert result.in_scope_fallback_rate == pytest.approx(1 / 4)
    assert result.out_of_scope_accuracy == pytest.approx(1 / 2)
    greet = next(s for s in result.per_intent if s.label == "greet")
    assert (greet.precision, greet.recall, greet.support) == (pytest.approx(0.5), 0.5, 2)
    assert len(result.errors) == 3
    report = render_report([result], PROJECT_SET, [Gate("unit", "accuracy", 0.9, True)])
    assert "| greet | 0.50 | 0.50 | 0.50 | 2 |" in report
    assert "greet -> nlu_fallback: 1" in report


def test_per_intent_scores_without_predictions_of_a_label() -> None:
    (score,) = per_intent_scores(["a", "a"], ["b", "b"])
    assert (score.precision, score.recall, score.f1) == (0.0, 0.0, 0.0)


def test_gates() -> None:
    result = summarise("project", "memory", [_prediction("greet", "greet")])
    assert Gate("project", "accuracy", 0.95, True).check(result)[0]
    assert Gate("project", "in_scope_fallback_rate", 0.03, False).check(result)[0]
    failing = summarise("project", "memory", [_prediction("greet", "nlu_fallback")])
    ok, text = Gate("project", "in_scope_fallback_rate", 0.03, False).check(failing)
    assert not ok and "target < 0.03" in text
