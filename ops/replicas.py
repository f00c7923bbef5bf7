"""Two Rasa servers and two action servers behind HAProxy on one machine.

The production shape (docker-compose.yml, deploy/k8s/) on local ports: every replica on the
same PostgreSQL (account database, tracker store) and Redis (lock store, the web chat's live
pushes), HAProxy in front with the very configuration the compose file uses
(deploy/haproxy/haproxy.cfg), round robin, WebSockets passed through. The Rasa servers reach
the action servers through HAProxy too. `make test-replicas` (tests/replicas/) runs on it.

The Rasa servers start one after the other: each takes about 1.3 GB and both cores while it
loads its model, and two loading at once take longer than one after the other.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from ops.stack import DEFAULT_MODEL, Stack, free_port
from quickconnect.config import PROJECT_ROOT, Settings

HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"
REPLICAS = 2  # the configuration names two servers per backend


def haproxy_binary() -> str:
    """Debian's HAProxy (`apt-get install haproxy`; .ci/run installs it when missing)."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise FileNotFoundError("HAProxy is not installed: apt-get install -y haproxy")
    return found


def served_by(url: str, timeout: float = 5.0) -> str | None:
    """Which replica HAProxy sent a GET to (its X-Served-By header); None if none answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (local URL)
            return resp.headers.get("X-Served-By") if resp.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class ReplicaSet:
    """HAProxy, then two action servers, then two Rasa servers, all on `settings`' stores."""

    settings: Settings  # the shared stores and options; ports are chosen here
    log_dir: Path
    model_path: Path = DEFAULT_MODEL
    rasa: list[Stack] = field(default_factory=list)
    actions: list[Stack] = field(default_factory=list)
    lb_port: int = 0
    lb_actions_port: int = 0
    haproxy: subprocess.Popen[bytes] | None = None

    @property
    def lb_url(self) -> str:
        return f"http://127.0.0.1:{self.lb_port}"

    def _haproxy_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("QC_")}
        env.update(
            {
                "QC_LB_RASA_BIND": f"127.0.0.1:{self.lb_port}",
                "QC_LB_ACTIONS_BIND": f"127.0.0.1:{self.lb_actions_port}",
                "QC_RASA_1": f"127.0.0.1:{self.rasa[0].settings.rasa_port}",
                "QC_RASA_2": f"127.0.0.1:{self.rasa[1].settings.rasa_port}",
                "QC_ACTIONS_1": f"127.0.0.1:{self.actions[0].settings.action_server_port}",
                "QC_ACTIONS_2": f"127.0.0.1:{self.actions[1].settings.action_server_port}",
            }
        )
        return env

    def start(self, timeout: float = 240.0) -> ReplicaSet:
        self.lb_port, self.lb_actions_port = free_port(), free_port()
        base = replace(
            self.settings,
            rasa_host="127.0.0.1",
            public_base_url=self.settings.public_base_url or self.lb_url,
        )
        for n in range(1, REPLICAS + 1):
            self.actions.append(
                Stack(
                    replace(base, action_server_port=free_port()),
                    model_path=self.model_path,
                    log_dir=self.log_dir / f"actions-{n}",
                )
            )
            # a Rasa server calls the action servers through the balancer
            self.rasa.append(
                Stack(
                    replace(base, rasa_port=free_port(), action_server_port=self.lb_actions_port),
                    model_path=self.model_path,
                    log_dir=self.log_dir / f"rasa-{n}",
                )
            )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "haproxy.log", "ab")  # noqa: SIM115 (owned by the child)
        self.haproxy = subprocess.Popen(
            [haproxy_binary(), "-db", "-f", str(HAPROXY_CONFIG)],
            env=self._haproxy_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            for stack in self.actions:  # small and quick: both at once
                stack.start_actions()
            for stack in self.actions:
                stack.wait_ready(timeout)
            for stack in self.rasa:  # one model load at a time
                stack.start_rasa()
                stack.wait_ready(timeout)
            self.wait_balanced(timeout=60)
        except BaseException:
            self.stop()
            raise
        return self

    def wait_balanced(self, timeout: float) -> None:
        """Until HAProxy's health checks have both Rasa servers and both action servers up."""
        want = {
            f"{self.lb_url}/webhooks/rest/": {"rasa-1", "rasa-2"},
            f"http://127.0.0.1:{self.lb_actions_port}/health": {"actions-1", "actions-2"},
        }
        deadline = time.monotonic() + timeout
        seen: dict[str, set[str]] = {url: set() for url in want}
        while time.monotonic() < deadline:
            if self.haproxy is not None and self.haproxy.poll() is not None:
                raise RuntimeError(f"HAProxy exited:\n{self.log_tail()}")
            for url in want:
                name = served_by(url)
                if name:
                    seen[url].add(name)
            if all(seen[url] >= names for url, names in want.items()):
                return
            time.sleep(0.3)
        raise TimeoutError(f"HAProxy did not balance over every replica: {seen}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        path = self.log_dir / "haproxy.log"
        if not path.exists():
            return "(no HAProxy log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def haproxy_log(self) -> str:
        path = self.log_dir / "haproxy.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for stack in [*self.rasa, *self.actions]:
            stack.stop()
        if self.haproxy is not None and self.haproxy.poll() is None:
            os.killpg(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.haproxy.pid, signal.SIGKILL)
                self.haproxy.wait()
        self.haproxy = None
