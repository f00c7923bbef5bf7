"""The speed-ups registry (rasa_extensions/speedups): every replacement of a Rasa internal is
listed once, installed by importing `rasa_extensions`, and none is with QC_SPEEDUPS=0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quickconnect.config import PROJECT_ROOT
from rasa_extensions import speedups

# What each speed-up patches, to check from a fresh interpreter whether it is in place.
PATCHED = {
    "action_schema": "rasa.core.actions.action:RemoteAction._validate_action_result",
    "endpoints": "rasa.utils.endpoints:EndpointConfig.session",
    "graph_runner": "rasa.core.processor:DaskGraphRunner",
    "nlu_worker": "rasa.core.processor:MessageProcessor.parse_message",
    "tf_inference": "rasa.utils.tensorflow.models:RasaModel._rasa_predict",
    "slot_copy": "rasa.shared.core.slots:Slot.__copy__",
}

PROBE = """
import importlib, json, sys
import rasa_extensions  # noqa: F401
patched = json.loads(sys.argv[1])
result = {}
for name, target in patched.items():
    module, attribute = target.split(":")
    obj = importlib.import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part, None)
    result[name] = (getattr(obj, "__module__", "") or "").startswith("rasa_extensions.speedups")
print(json.dumps(result))
"""


def _probe(switch: str | None) -> dict[str, bool]:
    env = {k: v for k, v in os.environ.items() if k != speedups.SWITCH}
    if switch is not None:
        env[speedups.SWITCH] = switch
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(PATCHED)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_module_in_the_package_is_registered_with_a_test_that_exists() -> None:
    folder = Path(speedups.__file__).parent
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules == {s.module for s in speedups.SPEEDUPS} == set(PATCHED)
    for speedup in speedups.SPEEDUPS:
        assert (PROJECT_ROOT / speedup.test).exists(), speedup.test


@pytest.mark.parametrize(("switch", "expected"), [(None, True), ("1", True), ("0", False)])
def test_the_switch_installs_all_or_none(switch: str | None, expected: bool) -> None:
    assert _probe(switch) == dict.fromkeys(PATCHED, expected)
