"""TED's shortcut (rasa_extensions/policies.py) never changes which action is chosen.

Every prediction point of every test story (tests/stories) is predicted twice with the trained
model, once with TED skipping decided predictions and once with TED always running; the
chosen action and the policy that chose it must be the same. The shortcut must also really
skip: most predictions in these flows are decided by a rule or a memorised story.
"""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.agent import Agent

from rasa_extensions.policies import DeferringTEDPolicy
from tests.e2e.replay import predict, prediction_points

pytestmark = pytest.mark.e2e


def test_the_shortcut_chooses_the_same_actions_and_skips_most_ted_runs(agent: Agent) -> None:
    points = skipped = 0
    differences = []
    for story, tracker in prediction_points(agent):
        without = predict(agent, tracker, shortcut=False)
        before = DeferringTEDPolicy.skipped
        with_shortcut = predict(agent, tracker, shortcut=True)
        skipped += DeferringTEDPolicy.skipped - before
        points += 1
        if with_shortcut != without:
            differences.append((story, len(tracker.events), without, with_shortcut))
        if DeferringTEDPolicy.skipped > before:
            assert "TED" not in with_shortcut[1]  # a skipped TED cannot be the chosen policy
    assert points > 300, points  # the test stories were found and replayed
    assert not differences, differences[:5]
    # In these form- and rule-driven flows most predictions are decided by a rule or a story.
    assert skipped / points > 0.8, (skipped, points)


def test_the_response_selector_answers_faq_messages_only(agent: Agent) -> None:
    """FAQ questions still get their answer key; other messages skip the selector's model."""
    faq = asyncio.run(agent.parse_message("is there a fee for changing my plan?"))
    assert faq["intent"]["name"] == "faq"
    assert faq["response_selector"]["faq"]["response"]["intent_response_key"].startswith("faq/")
    other = asyncio.run(agent.parse_message("I want to switch to Unlimited Plus"))
    assert other["intent"]["name"] == "change_plan"
    assert other["response_selector"] == {"all_retrieval_intents": ["faq"]}
