"""Replacements of Rasa 3.6 internals made for speed, in one place, behind one switch.

These are what an upgrade of Rasa breaks first: each stands in for a named Rasa function of
3.6.21 and must give that function's result (a test per replacement proves it; the table in
docs/architecture.md, "Speed-ups", lists each one, what it replaces, what it saves and its
test). `install_all()` installs every one in `SPEEDUPS`; `QC_SPEEDUPS=0` in the environment
installs none, so the assistant runs on Rasa's own code: CI runs the live conversations that
way too (`make test-conversations-nospeedups`), which checks a Rasa upgrade fast.

The project's own components (channels, stores, classifier, policies, the reply guard) are
not speed-ups and live beside this package in `rasa_extensions/`.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SWITCH = "QC_SPEEDUPS"


@dataclass(frozen=True)
class Speedup:
    module: str  # rasa_extensions.speedups.<module>, which has install()
    replaces: str  # the Rasa 3.6.21 function it stands in for
    test: str  # the test that compares it with Rasa's own result


SPEEDUPS: tuple[Speedup, ...] = (
    Speedup(
        "action_schema",
        "rasa.core.actions.action.RemoteAction._validate_action_result",
        "tests/unit/test_action_schema.py",
    ),
    Speedup(
        "endpoints",
        "rasa.utils.endpoints.EndpointConfig.session",
        "tests/unit/test_endpoints.py",
    ),
    Speedup(
        "graph_runner",
        "rasa.engine.runner.dask.DaskGraphRunner (as rasa.core.processor uses it)",
        "tests/e2e/test_graph_runner.py",
    ),
    Speedup(
        "nlu_worker",
        "rasa.core.processor.MessageProcessor.parse_message",
        "tests/e2e/test_nlu_worker.py",
    ),
    Speedup(
        "tf_inference",
        "rasa.utils.tensorflow.models.RasaModel._rasa_predict",
        "tests/e2e/test_tf_inference.py",
    ),
    Speedup(
        "slot_copy",
        "copy.copy of rasa.shared.core.slots.Slot (the generic protocol)",
        "tests/unit/test_slot_copy.py",
    ),
)


def enabled() -> bool:
    """False when QC_SPEEDUPS says off (0, false, no, off)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def install_all() -> list[str]:
    """Install every speed-up (unless switched off); the names of those installed."""
    if not enabled():
        logger.info("%s=0: running on Rasa's own code, no speed-ups installed", SWITCH)
        return []
    installed = []
    for speedup in SPEEDUPS:
        importlib.import_module(f"{__name__}.{speedup.module}").install()
        installed.append(speedup.module)
    return installed
