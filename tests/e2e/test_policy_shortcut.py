"""TED's shortcut (rasa_extensions/policies.py) never changes which action is chosen.

Every prediction point of every test story (tests/stories) is predicted twice with the trained
model, once with TED skipping decided predictions and once with TED always running; the
chosen action and the policy that chose it must be the same. The shortcut must also really
skip: most predictions in these flows are decided by a rule or a memorised story.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.core.test import _create_data_generator
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from ops.stack import DEFAULT_MODEL
from quickconnect.config import PROJECT_ROOT
from rasa_extensions import policies
from rasa_extensions.policies import DeferringTEDPolicy

pytestmark = pytest.mark.e2e

STORIES = PROJECT_ROOT / "tests" / "stories"


@pytest.fixture(scope="module")
def agent() -> Agent:
    if not Path(DEFAULT_MODEL).exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` first")
    return Agent.load(str(DEFAULT_MODEL))


def _prediction_points(agent: Agent) -> Iterator[tuple[str, DialogueStateTracker]]:
    """(story, tracker just before an action) for every action of every test story."""
    generator = _create_data_generator(str(STORIES), agent, use_conversation_test_files=True)
    slots = agent.domain.slots
    for story in generator.generate_story_trackers():
        events = list(story.events)
        partial = DialogueStateTracker.from_events(story.sender_id, events[:1], slots)
        for event in events[1:]:
            if isinstance(event, ActionExecuted) and event.action_name:
                yield story.sender_id, partial
            partial.update(event)


def _predict(agent: Agent, tracker: DialogueStateTracker, shortcut: bool) -> tuple[str, str]:
    DeferringTEDPolicy.shortcut_enabled = shortcut
    policies.forget()
    try:
        prediction = agent.processor._predict_next_with_tracker(tracker.copy())
    finally:
        DeferringTEDPolicy.shortcut_enabled = True
    action = agent.domain.action_names_or_texts[int(np.argmax(prediction.probabilities))]
    return action, prediction.policy_name or ""


def test_the_shortcut_chooses_the_same_actions_and_skips_most_ted_runs(agent: Agent) -> None:
    points = skipped = 0
    differences = []
    for story, tracker in _prediction_points(agent):
        without = _predict(agent, tracker, shortcut=False)
        before = DeferringTEDPolicy.skipped
        with_shortcut = _predict(agent, tracker, shortcut=True)
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
