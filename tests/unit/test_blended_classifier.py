"""The logistic regression intent classifier, alone and blended with DIET
(rasa_extensions/classifiers.py), on hand-made sparse and dense features.

What the blend does to real test sets is measured by `make eval` (README, NLU evaluation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from rasa_extensions.classifiers import BlendedLinearIntentClassifier, blend, sentence_features

# a toy vocabulary: columns 0-1 say "plan", 2-3 say "claim", 4-5 say "bye"
ROWS = {
    "change_plan": [[2, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0]],
    "file_claim": [[0, 0, 1, 1, 0, 0], [0, 0, 1, 0, 0, 0], [1, 0, 0, 3, 0, 0]],
    "goodbye": [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 1, 0]],
}


def _message(counts: list[int], intent: str | None = None) -> Message:
    message = Message({TEXT: "x", INTENT: intent} if intent else {TEXT: "x"})
    message.add_features(
        Features(sp.csr_matrix([counts]), FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer")
    )
    return message


def _training_data() -> TrainingData:
    return TrainingData([_message(row, intent) for intent, rows in ROWS.items() for row in rows])


def _component(tmp_path: Path, **config: float) -> tuple[BlendedLinearIntentClassifier, ...]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blend")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = BlendedLinearIntentClassifier.create(config, storage, resource, context)
    trained.train(_training_data())
    loaded = BlendedLinearIntentClassifier.load(config, storage, resource, context)
    return trained, loaded


def test_blend_is_the_weighted_mean_of_both_rankings_and_keeps_intents_diet_left_out() -> None:
    neural = [{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}]
    linear = {"a": 0.1, "b": 0.3, "c": 0.6}
    ranking = blend(neural, linear, neural_weight=0.5, length=10)
    assert [(r["name"], round(r["confidence"], 6)) for r in ranking] == [
        ("a", 0.45),
        ("c", 0.3),
        ("b", 0.25),
    ]
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert [r["name"] for r in blend(neural, linear, neural_weight=0.9, length=2)] == ["a", "b"]


def test_features_are_binary_and_unit_length() -> None:
    features = sentence_features([_message([2, 0, 3, 0, 0, 0]), _message([0, 0, 0, 0, 0, 1])])
    assert features.toarray() == pytest.approx(
        np.array([[2**-0.5, 0, 2**-0.5, 0, 0, 0], [0, 0, 0, 0, 0, 1]])
    )


def test_the_saved_model_gives_what_scikit_learn_gives(tmp_path: Path) -> None:
    trained, loaded = _component(tmp_path, C=10.0)
    rows = [row for rows in ROWS.values() for row in rows]
    labels = [intent for intent, rows in ROWS.items() for _ in rows]
    binary = (np.array(rows) > 0).astype(float)
    reference = LogisticRegression(C=10.0, max_iter=5000).fit(normalize(binary), labels)
    probe = [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 1, 0]]
    expected = reference.predict_proba(normalize((np.array(probe) > 0).astype(float)))
    assert loaded.classes == list(reference.classes_)
    for component in (trained, loaded):
        got = component.probabilities([_message(row) for row in probe])
        assert got == pytest.approx(expected, abs=1e-6)


def test_process_rewrites_intent_and_ranking_from_the_blend(tmp_path: Path) -> None:
    _, component = _component(tmp_path, C=10.0, neural_weight=0.5)
    message = _message([0, 0, 1, 1, 0, 0])  # plainly "claim" words
    # DIET leaning a little the wrong way: the linear model outvotes it
    message.set(INTENT, {"name": "change_plan", "confidence": 0.55})
    message.set(
        INTENT_RANKING_KEY,
        [{"name": "change_plan", "confidence": 0.55}, {"name": "file_claim", "confidence": 0.45}],
    )
    component.process([message])
    ranking = message.get(INTENT_RANKING_KEY)
    assert message.get(INTENT)["name"] == ranking[0]["name"] == "file_claim"
    assert message.get(INTENT)["confidence"] == ranking[0]["confidence"] > 0.5
    assert [r["name"] for r in ranking] == ["file_claim", "change_plan", "goodbye"]
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_a_message_without_features_keeps_diets_answer(tmp_path: Path) -> None:
    _, component = _component(tmp_path)
    message = Message({TEXT: ""})
    diet = {"name": "goodbye", "confidence": 0.7}
    message.set(INTENT, diet)
    component.process([message])
    assert message.get(INTENT) == diet


def test_training_leaves_the_examples_intents_alone(tmp_path: Path) -> None:
    _, component = _component(tmp_path)
    data = _training_data()
    component.process_training_data(data)
    assert [m.get(INTENT) for m in data.training_examples] == [
        intent for intent, rows in ROWS.items() for _ in rows
    ]


def test_without_a_trained_model_diets_ranking_passes_unchanged(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    component = BlendedLinearIntentClassifier.load({}, storage, Resource("none"), context)
    message = _message([1, 0, 0, 0, 0, 0])
    message.set(INTENT, {"name": "change_plan", "confidence": 0.9})
    component.process([message])
    assert message.get(INTENT) == {"name": "change_plan", "confidence": 0.9}


def _split_message(counts: list[int], intent: str | None = None) -> Message:
    """Like `_message`, but as two featurizers' sentence features (columns 0-3 and 4-5) plus
    per-token sequence features, as the real pipeline gives them."""
    message = Message({TEXT: "x", INTENT: intent} if intent else {TEXT: "x"})
    words, chars = counts[:4], counts[4:]
    message.add_features(Features(sp.coo_matrix([words, words]), "sequence", TEXT, "words"))
    message.add_features(Features(sp.coo_matrix([words]), FEATURE_TYPE_SENTENCE, TEXT, "words"))
    message.add_features(Features(sp.coo_matrix([chars]), FEATURE_TYPE_SENTENCE, TEXT, "chars"))
    return message


def test_process_scores_each_message_as_the_feature_matrix_does(tmp_path: Path) -> None:
    # `process` reads the set columns of each featurizer's sentence features; `probabilities`
    # builds the combined matrix as training did. Both must give the same distribution.
    storage = LocalModelStorage(tmp_path)
    resource = Resource("blend")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {"C": 10.0, "neural_weight": 0.0}
    component = BlendedLinearIntentClassifier.create(config, storage, resource, context)
    examples = [_split_message(row, intent) for intent, rows in ROWS.items() for row in rows]
    component.train(TrainingData(examples))
    probes = [[1, 1, 0, 0, 0, 0], [0, 0, 1, 0, 1, 0], [3, 0, 0, 0, 0, 2], [0] * 6]
    for probe in probes:
        expected = component.probabilities([_split_message(probe)])[0]
        message = _split_message(probe)
        component.process([message])  # neural_weight 0: the ranking is the linear model's
        got = {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}
        assert [got[name] for name in component.classes] == pytest.approx(expected, abs=1e-12)


# dense "meaning" vectors: the sparse rows of these two intents are the same words, only the
# dense part tells them apart (as an embedding does for two phrasings with shared words)
DENSE = {"change_plan": [1.0, 0.0], "file_claim": [0.0, 1.0]}


def _dense_message(counts: list[int], dense: list[float], intent: str | None = None) -> Message:
    message = _split_message(counts, intent)
    vector = np.array([dense], dtype=np.float32)
    message.add_features(Features(vector, FEATURE_TYPE_SENTENCE, TEXT, "embedding"))
    return message


def _dense_examples() -> list[Message]:
    return [_dense_message([1, 1, 0, 0, 1, 0], DENSE[intent], intent) for intent in DENSE]


def test_dense_sentence_features_join_the_sparse_row(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("dense")
    context = ExecutionContext(GraphSchema({}), "test")
    config = {"C": 10.0, "dense_weight": 2.0}
    trained = BlendedLinearIntentClassifier.create(config, storage, resource, context)
    trained.train(TrainingData(_dense_examples()))
    assert trained.dense_width == 2
    loaded = BlendedLinearIntentClassifier.load(config, storage, resource, context)
    assert loaded.dense_width == 2
    # what scikit-learn gives on [unit sparse row | 2 x dense]
    sparse = normalize(np.array([[1.0, 1, 0, 0, 1, 0]] * 2))
    dense = 2.0 * np.array([DENSE[m.get(INTENT)] for m in _dense_examples()])
    labels = [m.get(INTENT) for m in _dense_examples()]
    reference = LogisticRegression(C=10.0, max_iter=5000).fit(np.hstack([sparse, dense]), labels)
    probe_row = np.hstack(
        [normalize(np.array([[1.0, 1, 0, 0, 1, 0]])), 2.0 * np.array([[0.2, 0.9]])]
    )
    expected = reference.predict_proba(probe_row)[0]
    for component in (trained, loaded):
        probe = _dense_message([1, 1, 0, 0, 1, 0], [0.2, 0.9])
        assert component.probabilities([probe])[0] == pytest.approx(expected, abs=1e-6)
        component.process([probe])  # no DIET ranking in the message: the linear one alone
        assert probe.get(INTENT)["name"] == "file_claim"
        ranking = {r["name"]: r["confidence"] for r in probe.get(INTENT_RANKING_KEY)}
        assert [ranking[name] for name in component.classes] == pytest.approx(expected, abs=1e-6)


def test_a_dense_model_leaves_a_message_without_dense_features_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("dense")
    context = ExecutionContext(GraphSchema({}), "test")
    component = BlendedLinearIntentClassifier.create({}, storage, resource, context)
    component.train(TrainingData(_dense_examples()))
    message = _split_message([1, 1, 0, 0, 1, 0])
    component.process([message])
    assert message.get(INTENT) is None
