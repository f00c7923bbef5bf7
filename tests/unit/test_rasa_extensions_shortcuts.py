"""When TED and the response selector may skip their models (rasa_extensions), without a model.

The end-to-end check that the chosen actions do not change is tests/e2e/test_policy_shortcut.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from rasa_extensions import policies
from rasa_extensions.selectors import needs_model


def _tracker(*events: Any) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("unit", [ActionExecuted("action_listen"), *events])


def _prediction(confidences: list[float]) -> PolicyPrediction:
    return PolicyPrediction(confidences, "RulePolicy", policy_priority=6)


@pytest.fixture(autouse=True)
def _no_note() -> None:
    policies.forget()


def test_a_certain_prediction_marks_this_tracker_at_this_length_only() -> None:
    tracker = _tracker(UserUttered("hi", {"name": "greet"}))
    assert not policies.is_decided(tracker)
    policies.note_prediction(tracker, _prediction([0.0, 1.0, 0.0]))
    assert policies.is_decided(tracker)
    assert not policies.is_decided(tracker.copy())  # another tracker object
    tracker.update(ActionExecuted("utter_greet"))
    assert not policies.is_decided(tracker)  # the conversation moved on


def test_an_uncertain_prediction_does_not_decide() -> None:
    tracker = _tracker(UserUttered("hmm", {"name": "inform"}))
    policies.note_prediction(tracker, _prediction([0.3, 0.0, 0.0]))  # RulePolicy abstaining
    assert not policies.is_decided(tracker)
    policies.note_prediction(tracker, _prediction([0.0, 0.99, 0.0]))
    assert not policies.is_decided(tracker)


def test_nothing_is_decided_right_after_a_rejected_action() -> None:
    """The ensemble zeroes the rejected action in every prediction: TED's may be what's left."""
    tracker = _tracker(
        UserUttered("no", {"name": "deny"}),
        ActionExecutionRejected("verification_form"),
    )
    policies.note_prediction(tracker, _prediction([0.0, 1.0]))
    assert not policies.is_decided(tracker)
    tracker.update(ActionExecuted("action_deactivate_loop"))
    tracker.update(SlotSet("requested_slot", None))
    policies.note_prediction(tracker, _prediction([0.0, 1.0]))
    assert policies.is_decided(tracker)


def test_the_selector_model_is_needed_only_for_its_retrieval_intent() -> None:
    faq = Message(data={"text": "is there a fee", "intent": {"name": "faq", "confidence": 0.9}})
    other = Message(data={"text": "hello", "intent": {"name": "greet", "confidence": 0.9}})
    unclassified = Message(data={"text": "hello"})
    assert needs_model(faq, "faq")
    assert not needs_model(other, "faq")
    assert not needs_model(unclassified, "faq")
    assert needs_model(other, None)  # a selector without a retrieval intent serves them all
