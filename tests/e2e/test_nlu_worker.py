"""Messages are parsed in the NLU worker thread (rasa_extensions/speedups/nlu_worker.py),
with Rasa's result.

The trained model is loaded as the Rasa server loads it; `parse_message` must give the same
parse as Rasa's own graph call, run in the worker, and leave the event loop free meanwhile.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_extensions.speedups.nlu_worker import THREAD_NAME

pytestmark = pytest.mark.e2e

TEXTS = [
    "hi",
    "I want to switch to Unlimited Plus",
    "QC-100001",
    "alice.martin@example.com",
    "what does the device protection cover?",
    "yes",
]
PARSE_KEYS = ("intent", "intent_ranking", "entities", "response_selector", "text")


def test_parses_run_in_the_worker_and_match_rasas_own_graph_call(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor = agent.processor
    graph_call = processor._parse_message_with_graph
    threads: list[str] = []

    def recording(*args: Any) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return graph_call(*args)

    monkeypatch.setattr(processor, "_parse_message_with_graph", recording)

    async def parse_all() -> list[dict[str, Any]]:
        return [await processor.parse_message(UserMessage(text)) for text in TEXTS]

    parsed = asyncio.run(parse_all())
    assert len(threads) == len(TEXTS)
    assert all(name.startswith(THREAD_NAME) for name in threads), threads
    for text, parse in zip(TEXTS, parsed, strict=True):
        expected = graph_call(UserMessage(text), DialogueStateTracker.from_events("t", []))
        processor._update_full_retrieval_intent(expected)  # as Rasa's parse_message does
        assert {k: parse.get(k) for k in PARSE_KEYS} == {k: expected.get(k) for k in PARSE_KEYS}
    assert parsed[1]["intent"]["name"] == "change_plan"
    assert parsed[2]["entities"][0]["entity"] == "account_number"
    assert parsed[4]["intent"]["full_retrieval_intent_name"].startswith("faq/")


def test_the_event_loop_runs_other_work_while_a_message_is_parsed(agent: Agent) -> None:
    async def ticks_during_parse() -> int:
        ticks, parsing = 0, True

        async def ticker() -> None:
            nonlocal ticks
            while parsing:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        await agent.processor.parse_message(UserMessage("I want to switch to Unlimited Plus"))
        parsing = False
        await task
        return ticks

    # Parsed on the loop (Rasa's own method), the ticker could not run before the parse ended.
    assert asyncio.run(ticks_during_parse()) > 1
