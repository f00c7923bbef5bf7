"""The models' graphs called directly (rasa_extensions/speedups/tf_inference.py) give
Rasa's outputs.

The trained model is loaded as the Rasa server loads it. Every batch that the FAQ response
selector (DIET2BOW) and TED are asked to predict (config.yml runs no DIET classifier since
2026-12-04), for dev-set sentences (FAQs among them) and
test-story prediction points, is run through both Rasa's own `_rasa_predict` and
`rasa_predict`, and the outputs must be identical, array for array.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.utils.tensorflow.models import RasaModel

from qa.nlu_eval import load_rasa_yaml
from quickconnect.config import PROJECT_ROOT
from rasa_extensions.speedups import tf_inference
from tests.e2e.replay import predict, prediction_points

pytestmark = pytest.mark.e2e


def assert_same(ours: Any, rasas: Any, where: str) -> None:
    assert type(ours) is type(rasas), where
    if isinstance(rasas, dict):
        assert ours.keys() == rasas.keys(), where
        for key in rasas:
            assert_same(ours[key], rasas[key], f"{where}.{key}")
    elif isinstance(rasas, np.ndarray):
        assert ours.dtype == rasas.dtype and np.array_equal(ours, rasas), where
    else:
        assert ours == rasas, where


@pytest.fixture(scope="module")
def batches(agent: Agent) -> list[tuple[RasaModel, Sequence[np.ndarray]]]:
    """Every (model, batch) predicted while parsing dev sentences and replaying stories."""
    recorded: list[tuple[RasaModel, Sequence[np.ndarray]]] = []

    def recording(model: RasaModel, batch_in: Sequence[np.ndarray]) -> dict[str, Any]:
        recorded.append((model, batch_in))
        return tf_inference.rasa_predict(model, batch_in)

    examples = load_rasa_yaml(PROJECT_ROOT / "tests/nlu/dev_set.yml")
    faq = [e.text for e in examples if e.label.startswith("faq")][:20]
    others = [e.text for e in examples if not e.label.startswith("faq")][::10]
    original = RasaModel._rasa_predict
    RasaModel._rasa_predict = recording  # type: ignore[method-assign]
    try:
        for text in faq + others:
            agent.processor._parse_message_with_graph(UserMessage(text), None)
        for _, tracker in itertools.islice(prediction_points(agent), 0, None, 10):
            predict(agent, tracker, shortcut=False)  # TED predicts at every point
    finally:
        RasaModel._rasa_predict = original  # type: ignore[method-assign]
    return recorded


def test_the_server_predicts_through_the_direct_call(agent: Agent) -> None:
    assert RasaModel._rasa_predict is tf_inference.rasa_predict


def test_every_model_gives_rasas_outputs(
    batches: list[tuple[RasaModel, Sequence[np.ndarray]]],
) -> None:
    models = {type(model).__name__ for model, _ in batches}
    assert {"DIET2BOW", "TED"} <= models, models
    for number, (model, batch_in) in enumerate(batches):
        rasas = tf_inference._rasa_predict(model, batch_in)
        ours = tf_inference.rasa_predict(model, batch_in)
        assert_same(ours, rasas, f"call {number} ({type(model).__name__})")
