"""Start and stop the real action server and Rasa server as child processes.

One implementation serves `make run`, the end-to-end tests and the benchmark, so what the
tests exercise is exactly what a developer runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from quickconnect.config import PROJECT_ROOT, Settings

VENV_BIN = Path(sys.executable).parent
# QC_MODEL_PATH lets a developer or a test run serve another trained model (e.g. one trained
# on a subset of the data while a flow is being built); `make run` uses the project model.
DEFAULT_MODEL = Path(
    os.environ.get("QC_MODEL_PATH") or PROJECT_ROOT / "models" / "quickconnect.tar.gz"
)


def free_port() -> int:
    """A TCP port nobody listens on right now (for tests that run servers side by side)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# What every Rasa process this project starts gets (servers here, the benchmark's own ones).
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",  # the kernels the model was trained with (Makefile)
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
}


# TensorFlow's thread pools in a Rasa process that serves (Rasa reads both at start-up; not
# for training). A message is one small batch for DIET (and for TED when it predicts), too
# small to gain from TensorFlow's default of a pool as large as the machine: on these 2-core
# machines one thread each cut the Rasa server's CPU per message by about a tenth under
# `make bench`, with a lower p95 in every pair measured (docs/benchmark.md). Values in the
# environment or .env win.
SERVING_TF_THREADS = {
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
}


# Both servers (values in the environment or .env win; docs/benchmark.md, 2026-12-04):
# - OPENBLAS_NUM_THREADS=1: NumPy's OpenBLAS (the sentence encoder's matrix products) keeps
#   a second thread per core that spins between calls; at a person's pace it burnt most of a
#   core. One conversation at a time, 0.15 s apart, the Rasa server's CPU per message went
#   from 140.7 to 34.2 ms; a message is too small for the second thread to help.
# - MALLOC_ARENA_MAX=2: glibc gives every thread that allocates an arena of its own (up to 8
#   per core), each keeping freed memory; two took the Rasa server from 1396 to 1293 MB
#   after the same 90 turns.
SERVING_ENV = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


def server_environment(settings: Settings, *, rasa: bool = True) -> dict[str, str]:
    """Environment for a server: the settings made explicit, plus quiet defaults.

    `rasa=False` is the action server's: without TensorFlow's thread settings, because the
    `rasa` command imports TensorFlow at start-up when they are set (370 MB it never uses).
    """
    if rasa:
        env = {**SERVING_ENV, **SERVING_TF_THREADS, **os.environ}
    else:
        env = {**SERVING_ENV}
        env.update({k: v for k, v in os.environ.items() if k not in SERVING_TF_THREADS})
    env.update(QUIET_ENV)
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "TRACKER_STORE_URL": settings.tracker_store_url,
            "LOCK_STORE_URL": settings.lock_store_url,
            "ACTION_SERVER_PORT": str(settings.action_server_port),
            "ACTION_ENDPOINT_URL": settings.action_endpoint_url,
            "RASA_PORT": str(settings.rasa_port),
            "TRUSTED_PROXIES": settings.trusted_proxies,
            "PUBLIC_BASE_URL": settings.public_url,
            "LIVE_RELAY_URL": settings.live_relay_url,
            "LIVE_RELAY_CHANNEL": settings.live_relay_channel,
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return env


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (local URL)
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Stack:
    """The two servers of one assistant instance."""

    settings: Settings
    model_path: Path = DEFAULT_MODEL
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.rasa_host}:{self.settings.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.action_server_port}"

    def _spawn(self, name: str, args: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (owned by the child)
        self.processes[name] = subprocess.Popen(
            args,
            cwd=PROJECT_ROOT,
            env=server_environment(self.settings, rasa=name == "rasa"),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, we stop the children
        )

    def start_actions(self) -> None:
        self._spawn(
            "actions",
            [
                str(VENV_BIN / "rasa"), "run", "actions",
                "--actions", "actions",
                "--port", str(self.settings.action_server_port),
            ],
        )  # fmt: skip

    def start_rasa(self) -> None:
        if not self.model_path.exists():
            raise FileNotFoundError(f"No trained model at {self.model_path}: run `make train`")
        self._spawn(
            "rasa",
            [
                str(VENV_BIN / "rasa"), "run",
                "--model", str(self.model_path),
                "--endpoints", "endpoints.yml",
                "--credentials", "credentials.yml",
                "--interface", self.settings.rasa_host,
                "--port", str(self.settings.rasa_port),
            ],
        )  # fmt: skip

    def start_worker(self) -> None:
        """The outbox worker: sends queued emails and SMS, runs the scheduled jobs."""
        self._spawn("worker", [str(VENV_BIN / "python"), "-m", "quickconnect.outbox", "run"])

    def start(self, timeout: float = 180.0) -> Stack:
        self.start_actions()
        self.start_rasa()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Block until both servers answer, or raise with the tail of their logs."""
        checks = {
            "actions": f"{self.action_url}/health",
            "rasa": f"{self.rasa_url}/webhooks/rest/",
        }
        deadline = time.monotonic() + timeout
        pending = {k: v for k, v in checks.items() if k in self.processes}
        while pending and time.monotonic() < deadline:
            for name, url in list(pending.items()):
                proc = self.processes[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited early:\n{self.log_tail(name)}")
                if _http_ok(url):
                    del pending[name]
            time.sleep(0.5)
        if pending:
            tails = "\n".join(self.log_tail(n) for n in pending)
            raise TimeoutError(f"Servers not ready after {timeout:.0f}s: {list(pending)}\n{tails}")

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return f"(no log for {name})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_one(self, name: str, timeout: float = 15.0) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_one(name)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
