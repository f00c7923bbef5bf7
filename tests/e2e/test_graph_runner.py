"""The graph runner without Dask (rasa_extensions/speedups/graph_runner.py) gives Dask's results.

The trained model is loaded the way the Rasa server loads it (with `SequentialGraphRunner`);
every test-story prediction point and every dev-set sentence is then run through both
`SequentialGraphRunner.run` and the stock `DaskGraphRunner.run` on the same nodes, and the
outputs must be equal.
"""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, RESPONSE_SELECTOR

from qa.nlu_eval import load_rasa_yaml
from quickconnect.config import PROJECT_ROOT
from rasa_extensions import policies
from rasa_extensions.speedups.graph_runner import SequentialGraphRunner
from tests.e2e.replay import prediction_points

pytestmark = pytest.mark.e2e

MESSAGE, TRACKER = "__message__", "__tracker__"  # the predict graph's two run inputs
PARSE_KEYS = (INTENT, INTENT_RANKING_KEY, ENTITIES, RESPONSE_SELECTOR)


def both(runner: SequentialGraphRunner, **run: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    policies.forget()
    sequential = SequentialGraphRunner.run(runner, **run)
    policies.forget()
    dask = DaskGraphRunner.run(runner, **run)
    return sequential, dask


def test_the_server_loads_its_model_with_the_sequential_runner(agent: Agent) -> None:
    assert type(agent.processor.graph_runner) is SequentialGraphRunner


def test_every_test_story_prediction_is_the_same_as_with_dask(agent: Agent) -> None:
    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.core_target
    differences, points = [], 0
    for story, tracker in prediction_points(agent):
        sequential, dask = both(runner, inputs={TRACKER: tracker}, targets=[target])
        points += 1
        assert set(sequential) == set(dask) == {target}
        if sequential[target] != dask[target]:
            differences.append((story, len(tracker.events)))
    assert points > 700, points  # the test stories were replayed (787 points in 90 stories)
    assert not differences, differences[:3]


def test_every_dev_sentence_parses_the_same_as_with_dask(agent: Agent) -> None:
    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.nlu_target
    texts = [example.text for example in load_rasa_yaml(PROJECT_ROOT / "tests/nlu/dev_set.yml")]
    texts += ["QC-100001", "alice.martin@example.com", "yes", "hi"]
    assert len(texts) > 90
    intents = set()
    for text in texts:
        sequential, dask = both(runner, inputs={MESSAGE: [UserMessage(text)]}, targets=[target])
        (got,), (expected,) = sequential[target], dask[target]
        got_parse = {key: got.get(key) for key in PARSE_KEYS}
        assert got_parse == {key: expected.get(key) for key in PARSE_KEYS}, text
        intents.add(got_parse[INTENT]["name"])
    assert len(intents) > 15  # many intents were predicted, so the check is not vacuous


def test_the_plan_is_worked_out_once_and_puts_every_node_after_its_needs(agent: Agent) -> None:
    runner = agent.processor.graph_runner
    targets = [agent.processor.model_metadata.core_target]
    steps = runner.plan(targets)
    assert runner.plan(list(targets)) is steps
    placed: set[str] = set()
    for name, _, needs in steps:
        assert all(need in placed or need == TRACKER for need in needs), (name, needs)
        placed.add(name)
    assert placed == set(runner._graph_schema.minimal_graph_schema(targets).nodes)


def test_an_input_named_like_a_node_is_refused_as_dask_refuses_it(agent: Agent) -> None:
    runner = agent.processor.graph_runner
    target = agent.processor.model_metadata.core_target
    node = runner.plan([target])[0][0]
    for run in (SequentialGraphRunner.run, DaskGraphRunner.run):
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            run(runner, inputs={"something": node}, targets=[target])
