"""Reads the parts of a customer's message the whole-message intent leaves out.

Two things customers write that one intent per message gets wrong (issue #26):

- A greeting, thanks or goodbye in front of a real request: "hey my internet's been dead
  since yesterday what's going on" is a cut-off report, not a greeting. When the top intent is
  `greet`, `thank` or `goodbye` and the message says more than that, the rest of the message
  is classified on its own and its intent wins.
- Two requests in one message: "cancel the music add-on and tell me why my bill is so high".
  The message is split into clauses; when a later clause asks for a different task, it is
  added as a `queued_task` entity (its value is the task's intent), which fills the
  `queued_task` slot. The first task runs as usual; `QueuedTaskPolicy` offers the second one
  when the first is done (rasa_extensions/policies.py).

Parts are classified by a logistic regression on the MiniLM sentence embedding alone (the
n-gram featurizers cannot be run again on a part of a message inside the graph). It trains
on the same examples in about a second. The pure text rules (what a greeting is, where a
message splits) live in quickconnect/nlp/message_parts.py and are tested there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from quickconnect.nlp.message_parts import (
    SMALL_TALK_INTENTS,
    TASK_INTENTS,
    clauses,
    without_small_talk,
)
from quickconnect.nlp.sentence_encoder import shared_encoder
from rasa_extensions.classifiers import dense_rows, softmax

logger = logging.getLogger(__name__)

QUEUED_TASK_ENTITY = "queued_task"
_WEIGHTS_FILE = "parts_model.npz"
_CLASSES_FILE = "classes.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class MessagePartsClassifier(GraphComponent, IntentClassifier):
    """Re-reads greetings with a request behind them, and queues a second request."""

    @classmethod
    def required_components(cls) -> list[type]:
        from rasa_extensions.featurizers import SentenceEmbeddingFeaturizer

        return [SentenceEmbeddingFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 10.0,
            "max_iter": 3000,
            # a part's intent must be at least this likely to replace a greeting
            "part_threshold": 0.5,
            # a later clause must be at least this likely to be queued as a second task
            "queue_threshold": 0.6,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: list[str] | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes = classes or []
        self.coef = coef
        self.intercept = intercept

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MessagePartsClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        dense = dense_rows(examples)
        if dense is None or len({e.get(INTENT) for e in examples}) < 3:
            logger.debug("No dense features or too few intents: parts are not classified.")
            return self._resource
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"])
        model.fit(dense, [e.get(INTENT) for e in examples])
        self.classes = [str(name) for name in model.classes_]
        self.coef = np.ascontiguousarray(model.coef_.T)
        self.intercept = model.intercept_
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / _WEIGHTS_FILE, coef=self.coef, intercept=self.intercept)
            (directory / _CLASSES_FILE).write_text(json.dumps(self.classes), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MessagePartsClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                weights = np.load(directory / _WEIGHTS_FILE)
                classes = json.loads((directory / _CLASSES_FILE).read_text(encoding="utf-8"))
                return cls(
                    config, model_storage, resource, classes, weights["coef"], weights["intercept"]
                )
        except (ValueError, FileNotFoundError):
            return cls(config, model_storage, resource)

    def classify(self, texts: list[str]) -> list[tuple[str, float]]:
        """The most likely intent of each text and its probability (dense model only)."""
        vectors = shared_encoder().encode(texts)
        probabilities = softmax(vectors.astype(np.float64) @ self.coef + self.intercept)
        best = probabilities.argmax(axis=1)
        return [(self.classes[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def process(self, messages: list[Message]) -> list[Message]:
        if not self.classes:
            return messages
        for message in messages:
            text = message.get(TEXT)
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if not text or not intent:
                continue
            if intent in SMALL_TALK_INTENTS:
                self._read_past_small_talk(message, str(text))
            self._queue_second_request(message, str(text))
        return messages

    def _read_past_small_talk(self, message: Message, text: str) -> None:
        rest = without_small_talk(text)
        if rest is None:
            return
        name, confidence = self.classify([rest])[0]
        if name in SMALL_TALK_INTENTS or confidence < self.config["part_threshold"]:
            return
        ranking = [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get(INTENT_NAME_KEY) != name
        ]
        top = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
        scale = (1.0 - confidence) / max(sum(e[PREDICTED_CONFIDENCE_KEY] for e in ranking), 1e-9)
        rest_ranking = [
            {
                INTENT_NAME_KEY: e[INTENT_NAME_KEY],
                PREDICTED_CONFIDENCE_KEY: e[PREDICTED_CONFIDENCE_KEY] * scale,
            }
            for e in ranking
        ]
        message.set(INTENT, top, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY, [top, *rest_ranking][: len(ranking) + 1], add_to_output=True
        )

    def _queue_second_request(self, message: Message, text: str) -> None:
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if intent not in TASK_INTENTS:
            return
        parts = clauses(text)
        if len(parts) < 2:
            return
        predictions = self.classify([part.text for part in parts])
        for part, (name, confidence) in zip(parts[1:], predictions[1:], strict=True):
            if (
                name in TASK_INTENTS
                and name != intent
                and confidence >= self.config["queue_threshold"]
            ):
                entities = list(message.get(ENTITIES) or [])
                entities.append(
                    {
                        "entity": QUEUED_TASK_ENTITY,
                        "value": name,
                        "start": part.start,
                        "end": part.end,
                        "confidence_entity": confidence,
                        "extractor": self.__class__.__name__,
                    }
                )
                message.set(ENTITIES, entities, add_to_output=True)
                return
