"""Parse messages in one worker thread, so the event loop goes on with other conversations.

Rasa 3.6's `MessageProcessor.parse_message` runs the NLU pipeline (spaCy, the featurizers,
DIET, the intent blend, the response selector) on the server's event loop, and nothing else
runs there until it returns. A good part of that time is TensorFlow executing DIET's graph,
which releases the GIL, so the loop could meanwhile run the dialogue of other conversations
on the second core. Here `parse_message` hands `_parse_message_with_graph` to a single worker
thread and awaits it; the rest is Rasa's method unchanged.

One worker parses one message at a time, so the NLU components are never run concurrently
with themselves; the tracker it reads belongs to a conversation whose lock the caller holds.
Installed by `install()`, which the registry
(`rasa_extensions/speedups/__init__.py`) calls.
"""

from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor, structlogger
from rasa.shared.core.trackers import DialogueStateTracker

THREAD_NAME = "nlu"
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=THREAD_NAME)


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa 3.6's `MessageProcessor.parse_message`, with the graph run in the worker."""
    if self.http_interpreter:
        parse_data = await self.http_interpreter.parse(message)
    else:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        parse_data = await asyncio.get_running_loop().run_in_executor(
            _worker, self._parse_message_with_graph, message, tracker, only_output_properties
        )

    self._update_full_retrieval_intent(parse_data)
    structlogger.debug(
        "processor.message.parse",
        parse_data_text=copy.deepcopy(parse_data["text"]),
        parse_data_intent=parse_data["intent"],
        parse_data_entities=copy.deepcopy(parse_data["entities"]),
    )
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    """Make every `MessageProcessor` parse in the worker thread (idempotent)."""
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
