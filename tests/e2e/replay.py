"""Replaying the test stories' prediction points with the trained model (policy tests)."""

from __future__ import annotations

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

STORIES = PROJECT_ROOT / "tests" / "stories"


def load_agent() -> Agent:
    if not Path(DEFAULT_MODEL).exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` first")
    return Agent.load(str(DEFAULT_MODEL))


def prediction_points(agent: Agent) -> Iterator[tuple[str, DialogueStateTracker]]:
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


def predict(agent: Agent, tracker: DialogueStateTracker, shortcut: bool) -> tuple[str, str]:
    DeferringTEDPolicy.shortcut_enabled = shortcut
    policies.forget()
    try:
        prediction = agent.processor._predict_next_with_tracker(tracker.copy())
    finally:
        DeferringTEDPolicy.shortcut_enabled = True
    action = agent.domain.action_names_or_texts[int(np.argmax(prediction.probabilities))]
    return action, prediction.policy_name or ""
