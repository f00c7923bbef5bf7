"""An intent classifier: a logistic regression on the sparse and dense sentence features,
optionally blended with DIET's ranking.

DIET is a neural network: trained again with another `random_seed`, or on another CPU with
the same seed, it gives a different model, and on this project's data those draws moved the
project test set between 0.929 and 0.966 accuracy (docs/nlu-experiments.md). A multinomial
logistic regression on the sparse sentence features DIET already gets (word and character
n-gram counts) has one optimum whatever the seed or CPU, but alone it reads unseen phrasings
less well. Averaging the two rankings keeps DIET's reach and damps its draw-to-draw swings.

Dense sentence features (rasa_extensions/featurizers.py: a MiniLM sentence embedding) join the
sparse row, scaled by `dense_weight`. With them the linear model alone beat the DIET blend on
every test set (docs/nlu-experiments.md, 2026-12-03) and trains in seconds instead of DIET's
15 minutes, so config.yml no longer runs DIET: with no DIET ranking in the message, the linear
ranking is used alone.

Place it after the featurizers (and DIETClassifier, if any) and before the response selector
and the FallbackClassifier: it writes `intent` and `intent_ranking`, which those read.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

Ranking = list[dict[str, Any]]

_WEIGHTS_FILE = "linear_model.npz"
_CLASSES_FILE = "classes.json"


def unit_rows(matrices: list[Any]) -> sp.csr_matrix:
    """One row per sentence-feature matrix, each count set to 1, rows scaled to unit length (a
    word said twice is no stronger evidence, and long lines do not dominate)."""
    rows = []
    for matrix in matrices:
        row = sp.csr_matrix(matrix, dtype=np.float64)
        row.data[:] = 1.0
        norm = np.sqrt(row.multiply(row).sum())
        rows.append(row / norm if norm else row)
    return sp.vstack(rows).tocsr()


def sentence_features(messages: list[Message]) -> sp.csr_matrix:
    """`unit_rows` of the messages' sparse sentence features (all featurizers combined)."""
    matrices = []
    for message in messages:
        _, sentence = message.get_sparse_features(TEXT)
        if sentence is None:
            raise ValueError("no sparse sentence features: put the featurizers first")
        matrices.append(sentence.features)
    return unit_rows(matrices)


def dense_sentence(message: Message) -> np.ndarray | None:
    """The message's dense sentence features, concatenated in `message.features` order; None
    when no dense featurizer ran."""
    parts = [
        np.asarray(feature.features, dtype=np.float64).reshape(-1)
        for feature in message.features
        if feature.attribute == TEXT
        and feature.type == FEATURE_TYPE_SENTENCE
        and feature.is_dense()
    ]
    return np.concatenate(parts) if parts else None


def dense_rows(messages: list[Message]) -> np.ndarray | None:
    """`dense_sentence` of every message as one matrix; None when there are none."""
    rows = [dense_sentence(message) for message in messages]
    if any(row is None for row in rows):
        return None
    return np.vstack(rows)


def active_columns(message: Message) -> np.ndarray | None:
    """The columns `sentence_features` would set for `message`, without building the matrix.

    Rasa's `get_sparse_features` also stacks every featurizer's per-token matrices and copies
    each matrix it combines; at serve time that was most of this component's time. Here the
    sentence features are read in the same order Rasa combines them (`message.features`), and
    each featurizer's columns are shifted by the widths before it. None: no sparse sentence
    features.
    """
    columns = []
    offset = 0
    for feature in message.features:
        if (
            feature.attribute == TEXT
            and feature.type == FEATURE_TYPE_SENTENCE
            and feature.is_sparse()
        ):
            matrix = feature.features.tocoo()
            columns.append(matrix.col.astype(np.int64) + offset)
            offset += matrix.shape[1]
    if not columns:
        return None
    return np.unique(np.concatenate(columns))


def _feature_major(coef: np.ndarray | None) -> np.ndarray | None:
    """The weights as one contiguous (features x classes) array. `coef.T` is a strided view,
    and scipy copied all of it at every product."""
    return None if coef is None else np.ascontiguousarray(coef.T)


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def blend(neural: Ranking, linear: dict[str, float], neural_weight: float, length: int) -> Ranking:
    """Weighted mean of two intent distributions, best first, cut to `length` entries.

    DIET's ranking lists only its top intents (renormalised); an intent it does not list
    counts as 0 there, so the blend still sums to 1."""
    total = {name: (1.0 - neural_weight) * confidence for name, confidence in linear.items()}
    for entry in neural:
        name = entry[INTENT_NAME_KEY]
        total[name] = total.get(name, 0.0) + neural_weight * float(entry[PREDICTED_CONFIDENCE_KEY])
    ranked = sorted(total.items(), key=lambda item: -item[1])[:length]
    return [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: conf} for name, conf in ranked]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedLinearIntentClassifier(GraphComponent, IntentClassifier):
    """Averages DIET's intent ranking with a logistic regression's (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        # Not DIETClassifier: in Rasa's training graph the classifiers do not feed each other,
        # so only the featurizers count as "before". config.yml puts DIET first.
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # inverse regularisation strength of the logistic regression
            "C": 100.0,
            "max_iter": 5000,
            # share of DIET in the blend; the rest is the linear model's (a message without a
            # DIET ranking, as when config.yml runs no DIET, gets the linear ranking alone)
            "neural_weight": 0.5,
            # scale of the dense sentence features against the unit-length sparse row
            "dense_weight": 1.0,
            "ranking_length": 10,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: list[str] | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
        dense_width: int = 0,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes = classes or []
        self.intercept = intercept
        self._weights = _feature_major(coef)
        # the last `dense_width` weight rows belong to the dense features
        self.dense_width = dense_width

    @property
    def coef(self) -> np.ndarray | None:
        """scikit-learn's (classes x features) view of the weights, as saved."""
        return None if self._weights is None else self._weights.T

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BlendedLinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.debug("Fewer than two intents: the linear model is not trained.")
            return self._resource
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        model.fit(self._features(examples), [e.get(INTENT) for e in examples])
        self.classes = [str(name) for name in model.classes_]
        coef, intercept = model.coef_, model.intercept_
        if coef.shape[0] == 1:
            # two intents: scikit-learn keeps one logit z for the second class; the softmax of
            # (-z/2, z/2) is the same sigmoid, in the shape the scoring code expects
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.concatenate([-intercept / 2, intercept / 2])
        self.intercept = intercept
        self._weights = _feature_major(coef)
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / _WEIGHTS_FILE,
                coef=self.coef,
                intercept=self.intercept,
                dense_width=np.array(self.dense_width),
            )
            (directory / _CLASSES_FILE).write_text(json.dumps(self.classes), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BlendedLinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                weights = np.load(directory / _WEIGHTS_FILE)
                classes = json.loads((directory / _CLASSES_FILE).read_text(encoding="utf-8"))
                dense_width = int(weights["dense_width"]) if "dense_width" in weights else 0
                return cls(
                    config,
                    model_storage,
                    resource,
                    classes,
                    weights["coef"],
                    weights["intercept"],
                    dense_width,
                )
        except (ValueError, FileNotFoundError):
            logger.debug("No trained linear model: DIET's ranking is passed on unchanged.")
            return cls(config, model_storage, resource)

    def _features(self, messages: list[Message]) -> sp.csr_matrix:
        """The training matrix: sparse unit rows, then the dense rows times `dense_weight`.
        Sets `dense_width` (0 when no dense featurizer ran)."""
        sparse = sentence_features(messages)
        dense = dense_rows(messages)
        self.dense_width = 0 if dense is None else dense.shape[1]
        if dense is None:
            return sparse
        scaled = sp.csr_matrix(dense * float(self.config["dense_weight"]))
        return sp.hstack([sparse, scaled]).tocsr()

    def probabilities(self, messages: list[Message]) -> np.ndarray:
        """The linear model's distribution over `self.classes`, one row per message."""
        sparse = sentence_features(messages)
        if self.dense_width:
            dense = dense_rows(messages)
            if dense is None:
                raise ValueError("the model was trained with dense features; none were given")
            sparse = sp.hstack([sparse, sp.csr_matrix(dense * float(self.config["dense_weight"]))])
        return self._distribution(sp.csr_matrix(sparse))

    def _distribution(self, features: sp.csr_matrix) -> np.ndarray:
        return softmax(np.asarray(features @ self._weights) + self.intercept)

    def _message_distribution(
        self, columns: np.ndarray, dense: np.ndarray | None = None
    ) -> np.ndarray:
        """`_distribution` of one message's row, given its set sparse columns and its dense
        features: the sparse part is 1/sqrt(n) at each of its n columns, so its product with
        the weights is the mean of those weight rows times sqrt(n)."""
        scores = self.intercept.copy()
        if len(columns):
            scores = scores + self._weights[columns].sum(axis=0) / np.sqrt(len(columns))
        if self.dense_width and dense is not None:
            block = self._weights[-self.dense_width :]
            scores = scores + (dense * float(self.config["dense_weight"])) @ block
        return softmax(scores[np.newaxis, :])[0]

    def process(self, messages: list[Message]) -> list[Message]:
        if self._weights is None:
            return messages
        # A message without text (or features) keeps whatever DIET said. This runs for every
        # message the server parses, so it reads the set columns (`active_columns`) instead
        # of building the matrix `probabilities` uses; a test checks the two agree.
        weight = float(self.config["neural_weight"])
        length = int(self.config["ranking_length"])
        for message in messages:
            columns = active_columns(message)
            if columns is None:
                continue
            dense = dense_sentence(message) if self.dense_width else None
            if self.dense_width and dense is None:
                continue
            row = self._message_distribution(columns, dense)
            neural = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get(INTENT_NAME_KEY) is not None
            ]
            linear = dict(zip(self.classes, row.tolist(), strict=True))
            ranking = blend(neural, linear, weight if neural else 0.0, length)
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves the training examples' own intents alone (later components train on them)."""
        return training_data
