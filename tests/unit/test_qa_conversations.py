"""The conversation test runner's format, validation and matching (no servers needed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from qa.conversations import (
    DEFAULT_DIR,
    BotCheck,
    DbCheck,
    SpecError,
    TurnResult,
    Vocabulary,
    apply_events,
    check_bot,
    check_db,
    check_turn,
    format_transcript,
    load_all,
    parse_conversations,
    values_equal,
)

FILE = Path("tests/conversations/example.yml")


def parse(text: str) -> list:
    return parse_conversations(yaml.safe_load(text), FILE)


VALID = """
conversations:
  - name: plan change
    description: the happy path
    turns:
      - user: "I want to switch to Unlimited Plus"
        intent: change_plan
        bot:
          - action: verification_form
          - not_action: action_handoff
          - text: "account number"
          - not_text: "Done"
          - regex: "QC-\\\\d{6}"
        active_loop: verification_form
      - user: "yes"
        slots: {awaiting_confirmation: false}
        active_loop: null
        db:
          - sql: "SELECT name FROM service_plans"
            rows: [["Unlimited Plus"]]
          - sql: "SELECT id FROM consent_records WHERE conversation_id = :conversation_id"
            count: 1
"""


def test_a_valid_file_is_parsed_into_turns_and_checks() -> None:
    (conversation,) = parse(VALID)
    assert conversation.name == "plan change"
    first, second = conversation.turns
    assert first.intent == "change_plan"
    assert [c.kind for c in first.bot] == ["action", "not_action", "text", "not_text", "regex"]
    assert first.active_loop == "verification_form"
    assert second.active_loop is None
    assert second.slots == {"awaiting_confirmation": False}
    assert second.db[0].rows == [["Unlimited Plus"]] and second.db[1].count == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conversations: []", "non-empty list"),
        ("convos: []", "unknown key 'convos' (did you mean 'conversations'?)"),
        (
            "conversations:\n  - name: a\n    turn:\n      - user: hi\n",
            "conversation 'a': unknown key 'turn' (did you mean 'turns'?)",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - usr: hi\n",
            "conversation 'a': turn 1: unknown key 'usr' (did you mean 'user'?)",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        bot:\n"
            "          - acton: utter_greet\n",
            "turn 1: bot item 1: unknown key 'acton' (did you mean 'action'?)",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        bot:\n"
            "          - action: a\n            text: b\n",
            "each item is one `key: value`",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        db:\n"
            "          - sql: SELECT 1\n            rows: [[1]]\n            count: 1\n",
            "exactly one of `rows:` and `count:`",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        db:\n"
            "          - sql: DELETE FROM customers\n            count: 0\n",
            "only SELECT queries",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n        bot:\n"
            "          - regex: '(unclosed'\n",
            "invalid regex",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - bot: []\n",
            "turn 1: `user:` is missing",
        ),
        (
            "conversations:\n  - name: a\n    turns:\n      - user: hi\n"
            "  - name: a\n    turns:\n      - user: hi\n",
            "'a' is used twice",
        ),
    ],
)
def test_format_errors_name_the_file_the_conversation_and_the_problem(
    text: str, message: str
) -> None:
    with pytest.raises(SpecError) as raised:
        parse(text)
    assert "tests/conversations/example.yml" in str(raised.value)
    assert message in str(raised.value)


def test_names_are_checked_against_the_domain() -> None:
    vocabulary = Vocabulary.from_domain()
    (conversation,) = parse(
        """
conversations:
  - name: typos
    turns:
      - user: hi
        intent: gret
        bot:
          - action: utter_gret
          - action: utter_faq/plan_change_fee   # retrieval responses are fine
          - action: utter_faq
        slots: {verification_stauts: verified}
        active_loop: verificaton_form
"""
    )
    problems = "\n".join(vocabulary.problems(conversation))
    assert "unknown action or response 'utter_gret' (did you mean 'utter_greet'?)" in problems
    assert "unknown intent 'gret' (did you mean 'greet'?)" in problems
    assert "unknown slot 'verification_stauts'" in problems
    assert "unknown form 'verificaton_form'" in problems
    assert "utter_faq" not in problems


def test_every_conversation_file_in_the_project_is_valid() -> None:
    conversations = load_all([DEFAULT_DIR], Vocabulary.from_domain())
    names = {c.file.name for c in conversations}
    assert {"verification.yml", "plan_change.yml", "conversation_mechanics.yml"} <= names


EVENTS = [
    {"event": "action", "name": "action_listen"},
    {
        "event": "user",
        "text": "is there a fee?",
        "parse_data": {
            "intent": {
                "name": "faq",
                "confidence": 0.97,
                "full_retrieval_intent_name": "faq/plan_change_fee",
            }
        },
    },
    {"event": "action", "name": "utter_faq"},
    {"event": "bot", "text": "No fee.", "metadata": {"utter_action": "utter_faq/plan_change_fee"}},
    {"event": "action", "name": "verification_form"},
    {"event": "bot", "text": "Your account number?", "metadata": {}},
    {"event": "action", "name": "action_listen"},
]


def turn_result() -> TurnResult:
    result = TurnResult(
        user="is there a fee?",
        messages=[
            {"text": "No fee."},
            {"text": "Would you like a person?", "buttons": [{"title": "Yes please"}]},
        ],
    )
    apply_events(result, EVENTS)
    return result


def test_events_give_actions_responses_and_the_intent() -> None:
    result = turn_result()
    assert result.intent == "faq" and result.full_intent == "faq/plan_change_fee"
    assert result.ran() == ["utter_faq", "verification_form", "utter_faq/plan_change_fee"]


@pytest.mark.parametrize(
    ("check", "passes"),
    [
        (BotCheck("action", "verification_form"), True),
        (BotCheck("action", "utter_faq/plan_change_fee"), True),
        (BotCheck("action", "action_handoff"), False),
        (BotCheck("not_action", "action_handoff"), True),
        (BotCheck("not_action", "utter_faq"), False),
        (BotCheck("text", "NO FEE"), True),  # case-insensitive
        (BotCheck("text", "yes please"), True),  # button titles are part of the message
        (BotCheck("text", "Done"), False),
        (BotCheck("not_text", "done"), True),
        (BotCheck("not_text", "no fee"), False),
        (BotCheck("regex", r"person\?"), True),
        (BotCheck("regex", r"CS-\d{6}"), False),
    ],
)
def test_bot_checks(check: BotCheck, passes: bool) -> None:
    assert (check_bot(check, turn_result()) is None) is passes


def test_a_failed_action_check_lists_what_ran() -> None:
    problem = check_bot(BotCheck("action", "action_handoff"), turn_result())
    assert problem is not None and "ran: utter_faq, verification_form" in problem


@pytest.mark.parametrize(
    ("expected", "actual", "equal"),
    [
        ("15.00", Decimal("15.00"), True),
        ("15.00", 15.0, True),  # SQLite hands back floats
        (15, Decimal("15.00"), True),
        (True, 1, True),
        (False, 0, True),
        (True, True, True),
        (None, None, True),
        (None, "x", False),
        ("Basic 5GB", "Basic 5GB", True),
        ("basic 5gb", "Basic 5GB", False),  # database values compare exactly
        ("2026-11-24", __import__("datetime").date(2026, 11, 24), True),
    ],
)
def test_values_compare_across_backends(expected: object, actual: object, equal: bool) -> None:
    assert values_equal(expected, actual) is equal


def test_db_checks_rows_count_and_broken_sql() -> None:
    rows = [("Unlimited Plus", Decimal("70.00"))]
    assert check_db(DbCheck("SELECT", rows=[["Unlimited Plus", "70.00"]]), lambda _: rows) is None
    assert check_db(DbCheck("SELECT", count=1), lambda _: rows) is None
    problem = check_db(DbCheck("SELECT x", rows=[["Basic 5GB", 45]]), lambda _: rows)
    assert (
        problem
        and "expected rows [['Basic 5GB', 45]], got [['Unlimited Plus', '70.00']]" in problem
    )

    def broken(_sql: str) -> list:
        raise RuntimeError("no such table: nope")

    problem = check_db(DbCheck("SELECT * FROM nope", count=0), broken)
    assert problem and "no such table: nope" in problem


def test_a_failing_turn_reports_every_problem_and_the_transcript_shows_the_turn() -> None:
    (conversation,) = parse(VALID)
    result = turn_result()
    failures = check_turn(conversation.turns[0], result, lambda _: [])
    assert any(
        "expected intent 'change_plan', NLU gave 'faq/plan_change_fee'" in f for f in failures
    )
    assert any("expected a bot message containing 'account number'" in f for f in failures)
    transcript = format_transcript([result])
    assert "[1] user: is there a fee?" in transcript
    assert "intent: faq/plan_change_fee (confidence 0.97)" in transcript
    assert "ran: utter_faq, verification_form, utter_faq/plan_change_fee" in transcript
    assert "bot: No fee." in transcript
