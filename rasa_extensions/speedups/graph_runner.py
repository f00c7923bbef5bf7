"""Run the model's graph in a fixed order computed once, instead of scheduling it with Dask.

Rasa 3.6 runs the predict graph through `DaskGraphRunner` for every message it parses and for
every action it predicts: each run builds the minimal schema for the targets, builds a Dask
graph from it, and lets Dask's synchronous scheduler order the graph (`dask.order`), count
dependencies and wrap every node in a future. The graph never changes while the server runs,
so that work is the same every time: under the benchmark's load it was about 13% of the Rasa
server's busy samples (py-spy, 2026-11-25 AMD EPYC machine).

`SequentialGraphRunner` works out, once per set of targets, the same nodes the minimal schema
holds, in an order where every node comes after the nodes it needs, and then calls the nodes
in that order with the same arguments Dask would pass them: each needed node's
`(name, output)` tuple, `(name, value)` for a run input, and the bare name for anything that
nothing provides (GraphNode then logs it, as it does under Dask). Results and errors are the
ones `DaskGraphRunner.run` returns and raises (`tests/e2e/test_graph_runner.py` compares both
on the test stories and test sentences). Installed by `install()`, which the
registry (`rasa_extensions/speedups/__init__.py`) calls, for the model the Rasa server
loads; training keeps Dask.
"""

from __future__ import annotations

from typing import Any

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphNode, GraphNodeHook, GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.storage import ModelStorage

# One step of a plan: the node's name, the node, and the names of what it needs, in the order
# of `SchemaNode.needs` (the order Dask passes them in).
Step = tuple[str, GraphNode, tuple[str, ...]]


class SequentialGraphRunner(DaskGraphRunner):
    """`DaskGraphRunner` with each target set's execution order worked out once."""

    def __init__(
        self,
        graph_schema: GraphSchema,
        model_storage: ModelStorage,
        execution_context: ExecutionContext,
        hooks: list[GraphNodeHook] | None = None,
    ) -> None:
        super().__init__(graph_schema, model_storage, execution_context, hooks)
        # targets -> (the plan's steps, the names of its nodes)
        self._plans: dict[tuple[str, ...], tuple[list[Step], frozenset[str]]] = {}

    def plan(self, targets: list[str]) -> list[Step]:
        """The minimal schema's nodes for `targets`, each after everything it needs."""
        return self._planned(targets)[0]

    def _planned(self, targets: list[str]) -> tuple[list[Step], frozenset[str]]:
        key = tuple(targets)
        planned = self._plans.get(key)
        if planned is None:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            order: list[str] = []
            placed: set[str] = set()

            def place(name: str) -> None:
                if name in placed or name not in schema.nodes:
                    return  # already placed, or a run input (placeholder)
                placed.add(name)
                for needed in schema.nodes[name].needs.values():
                    place(needed)
                order.append(name)

            for target in targets:
                place(target)
            steps = [
                (name, self._instantiated_nodes[name], tuple(schema.nodes[name].needs.values()))
                for name in order
            ]
            planned = self._plans[key] = (steps, frozenset(order))
        return planned

    def run(
        self,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        """Runs the graph (see `GraphRunner.run`): the results Dask would give."""
        run_targets = targets if targets else self._graph_schema.target_names
        steps, node_names = self._planned(run_targets)
        inputs = inputs or {}
        if node_names.intersection(inputs):
            # An input that replaces a node changes what the graph needs: leave it to Dask.
            return super().run(inputs, targets)

        values: dict[str, Any] = {}
        for input_name, input_value in inputs.items():
            if isinstance(input_value, str) and input_value in node_names:
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            values[input_name] = (input_name, input_value)

        try:
            for name, node, needs in steps:
                values[name] = node(*[values.get(needed, needed) for needed in needs])
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values.get(target, target) for target in run_targets)


def install() -> None:
    """Make the Rasa server load its model with `SequentialGraphRunner` (idempotent)."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
