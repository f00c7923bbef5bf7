"""The rule index (rasa_extensions/policies.py, `RuleIndex`) finds the same rules as RulePolicy.

Every prediction point of every test story is predicted with the trained model; at each rule
lookup the indexed search and RulePolicy's own search over all keys must return the same keys.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy

from rasa_extensions.policies import DecidingRulePolicy, RuleIndex
from tests.e2e.replay import predict, prediction_points

pytestmark = pytest.mark.e2e


def test_indexed_rule_lookup_finds_the_same_keys_as_rasas(
    agent: Agent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    indexed = DecidingRulePolicy._get_possible_keys
    lookups = matched = 0
    differences = []

    def compare(self: DecidingRulePolicy, lookup: dict[str, Any], states: list[Any]) -> set:
        nonlocal lookups, matched
        found = indexed(self, lookup, states)
        stock = RulePolicy._get_possible_keys(self, lookup, states)
        lookups += 1
        matched += bool(stock)
        if found != stock:
            differences.append((states[-1:], sorted(found ^ stock)[:2]))
        return found

    monkeypatch.setattr(DecidingRulePolicy, "_get_possible_keys", compare)
    for _, tracker in prediction_points(agent):
        predict(agent, tracker, shortcut=True)
    assert lookups > 500, lookups  # the stories were replayed through the rule policy
    assert matched > 300, matched  # and rules did apply, so the comparison is not vacuous
    assert not differences, differences[:3]


def test_the_index_skips_only_rules_after_another_action() -> None:
    listen = {"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}
    after_form = {"prev_action": {"action_name": "verification_form"}}
    keys = {
        '[{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]': "a",
        '[{"prev_action": {"action_name": "verification_form"}}]': "b",
        '[{"user": {"intent": "greet"}}]': "c",  # names no previous action: always a candidate
        "[]": "d",
    }
    index = RuleIndex(keys)
    first, second, third, fourth = keys
    assert index.candidates(listen) == {first, third, fourth}
    assert index.candidates(after_form) == {second, third, fourth}
    assert index.candidates({}) == {third, fourth}
