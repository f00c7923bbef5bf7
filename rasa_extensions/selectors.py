"""A ResponseSelector that runs only for messages classified as its retrieval intent.

Rasa's ResponseSelector picks the FAQ answer (`faq/<key>`) with a second neural model, and
runs it on every message although its choice is used only when the intent classifier said
`faq`: the rules answer a `faq` intent with `utter_faq`, and the full retrieval intent is
read only for retrieval intents. Here the model runs for `faq` messages only; other messages
still get `response_selector.all_retrieval_intents`, so the parse result keeps its shape.
The pipeline order in config.yml (the intent classifier before this) makes the intent available.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME, RESPONSE_SELECTOR_RETRIEVAL_INTENTS
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


def needs_model(message: Message, retrieval_intent: str | None) -> bool:
    """Will this message's answer be read? Only if it was classified as the retrieval intent."""
    if not retrieval_intent:  # a selector for every retrieval intent: always needed
        return True
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == retrieval_intent


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RetrievalIntentResponseSelector(ResponseSelector):
    """ResponseSelector that skips its model unless the message's intent is its own."""

    def process(self, messages: list[Message]) -> list[Message]:
        needed = []
        for message in messages:
            if needs_model(message, self.retrieval_intent):
                needed.append(message)
            else:
                properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME, {})
                properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.all_retrieval_intents
                message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        if needed:
            super().process(needed)
        return messages
