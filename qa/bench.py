"""Benchmark: concurrent simulated customers through the REST channel, against two floors.

    python -m qa.bench                      # full run: 10 customers, results/bench/
    python -m qa.bench --smoke              # CI: 2 customers, 1 round, QuickConnect only
    python -m qa.bench --backend postgres   # production stores: PostgreSQL and Redis locks

What it measures, all on this machine in one run, one phase after the other (so the phases
do not compete for the CPU):
1. QuickConnect: the real action server + Rasa server (`ops.stack`), on scratch SQLite
   databases (the embedded default) or, with `--backend postgres`, on a scratch PostgreSQL
   database for the account data and the tracker store with Redis locks (production's stores).
   N customers at once, each a multi-turn conversation with verification and a plan change
   that is checked in the database afterwards; `--rounds` rounds, the account database reset
   to the seed between rounds. Turn latency p50/p95/p99, messages per second, errors, peak
   RSS of both server process trees. Then the same customers at a person's pace (`--think`,
   default 1 to 3 s between a reply and the next message; `--no-paced` skips it): the
   latency customers see when ten chat at once, against the saturation figure above.
2. The floor: the same model on a separate, bench-only Rasa server with the HTTP API enabled
   (127.0.0.1, free port, JWT in the Authorization header), `/model/parse` alone with the same
   customer texts and concurrency: NLU without dialogue, actions or database.
3. The baseline: a bare `rasa init --no-prompt` assistant (trained once, cached under
   var/bench/), served with the REST channel and driven with the same concurrency and the same
   number of turns per conversation; the throughput ratio QuickConnect / baseline is reported.
4. The time of a full `rasa train` of the project (`--force`, into a temporary folder; the
   project model is not touched).

Every request goes to 127.0.0.1, with a timeout, and the number of requests is bounded by
customers x rounds x turns. Results: results/bench/report.md and bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.stack import QUIET_ENV, SERVING_ENV, SERVING_TF_THREADS
from quickconnect.config import PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "results" / "bench"
BACKENDS = ("sqlite", "postgres")
# Lock store of the postgres backend (a database number of its own, as the e2e tests use).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
STORES = {
    "sqlite": "SQLite files for the account database and the tracker store, in-memory locks",
    "postgres": "PostgreSQL for the account database and the tracker store, Redis locks",
}
BASELINE_DIR = PROJECT_ROOT / "var" / "bench" / "rasa_init"
VENV_BIN = Path(sys.executable).parent
TARGET_P95_MS = 300.0
TARGET_RATIO = 0.70  # throughput within 30% of the bare rasa init assistant
# The paced phase: seconds a simulated customer takes to read a reply and type the next message.
DEFAULT_THINK_S = (1.0, 3.0)


@dataclass(frozen=True)
class Customer:
    """A demo account, how it verifies, and the plan it moves to (README demo customers)."""

    account: str
    factor: str
    target_plan: str

    def turns(self) -> list[tuple[str, str | None]]:
        """(message, text the reply must contain or None) for one conversation."""
        return [
            ("hi", None),
            (f"I want to switch to {self.target_plan}", "account number"),
            (self.account, None),
            (self.factor, "Shall I go ahead?"),
            ("yes", "Done"),
            ("thanks", None),
        ]


# One per demo account: every one can change plan now (checked by the conversation tests'
# set-up); a round never has two customers on the same account.
CUSTOMERS = (
    Customer("QC-100001", "alice.martin@example.com", "Unlimited Plus"),
    Customer("QC-100002", "Porto", "Unlimited Plus"),
    Customer("QC-100003", "Mochi", "Basic 5GB"),
    Customer("QC-100004", "Lagos", "Unlimited Plus"),
    Customer("QC-100005", "Pamuk", "Unlimited Plus"),
    Customer("QC-100006", "Beirut", "Family Share"),
    Customer("QC-100007", "grace.kim@example.com", "Basic 5GB"),
    Customer("QC-100008", "Osaka", "Everyday 20GB"),
    Customer("QC-100009", "Tico", "Unlimited Plus"),
    Customer("QC-100010", "Bergen", "Everyday 20GB"),
)
# The bare rasa init assistant (moodbot): as many turns per conversation as ours.
BASELINE_TURNS = ["hello", "I am sad", "yes", "I'm great", "are you a bot?", "bye"]
ACTIVE_PLAN_SQL = """
    SELECT p.name FROM account_plans ap JOIN service_plans p ON p.id = ap.plan_id
    JOIN customers c ON c.id = ap.customer_id
    WHERE c.account_number = :account AND ap.status = 'active'
"""


# --------------------------------------------------------------------------------------------
# Measurements (pure helpers, unit-tested)
# --------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class LoadResult:
    """One load phase: latencies of every request, errors, wall time of the active phase."""

    name: str
    concurrency: int
    rounds: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: dict[str, float] = field(default_factory=dict)
    by_turn_ms: dict[int, list[float]] = field(default_factory=dict)  # turn index -> latencies
    # CPU seconds used during the timed rounds: per server process tree, and "machine" (all
    # cores, every process: the servers, the databases, this load generator)
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def summary(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "name": self.name,
            "concurrency": self.concurrency,
            "rounds": self.rounds,
            "requests": self.requests,
            "errors": len(self.errors),
            "p50_ms": round(percentile(lat, 50), 1),
            "p95_ms": round(percentile(lat, 95), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else 0.0,
            "messages_per_second": round(self.requests / self.seconds, 2) if self.seconds else 0,
            "seconds": round(self.seconds, 2),
            "peak_rss_mb": self.peak_rss_mb,
            "cpu_ms_per_message": {
                k: round(v * 1000 / self.requests, 1) for k, v in self.cpu_seconds.items()
            }
            if self.requests
            else {},
            "cores_busy": {k: round(v / self.seconds, 2) for k, v in self.cpu_seconds.items()}
            if self.seconds
            else {},
            "p50_by_turn_ms": [
                round(percentile(self.by_turn_ms[index], 50), 1)
                for index in sorted(self.by_turn_ms)
            ],
            "first_errors": self.errors[:10],
        }


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        if current not in found:
            found.append(current)
            stack.extend(_children(current))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process tree (all threads), in seconds (Linux /proc)."""
    ticks = 0
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time all cores spent busy (not idle or waiting for I/O), in seconds (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def cpu_now(pids: dict[str, int]) -> dict[str, float]:
    """`tree_cpu_seconds` of each named process tree, and "machine"."""
    return {
        **{name: tree_cpu_seconds(pid) for name, pid in pids.items()},
        "machine": machine_cpu_seconds(),
    }


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (Linux /proc)."""
    total_kb = 0
    for member in _tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb / 1024


class PeakMemory:
    """Samples the RSS of named process trees in a thread; `peaks` holds the maxima (MB)."""

    def __init__(self, pids: dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peaks: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.peaks[name] = max(self.peaks[name], round(tree_rss_mb(pid), 1))

    def __enter__(self) -> PeakMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def speed_probe_ms(repeats: int = 5) -> float:
    """Median time of a fixed pure-Python workload on one core, in ms.

    Machines of the same kind here differ a lot from day to day (the same model trained in 9
    minutes on one and 20 on another), and the Rasa server's speed is one core's speed, so
    the report carries this figure to make runs on different machines comparable.
    """
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i % 7
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def machine() -> dict[str, Any]:
    """Cores, RAM, CPU model, load, one core's speed: the machine the numbers were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "cpu": cpu,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "speed_probe_ms": speed_probe_ms(),
        "python": platform.python_version(),
        "rasa": version("rasa"),
        "os": platform.platform(),
    }


# --------------------------------------------------------------------------------------------
# Load generation
# --------------------------------------------------------------------------------------------


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
        return json.loads(response.read())


def _reply_text(reply: Any) -> str:
    if isinstance(reply, list):
        return "\n".join(str(m.get("text") or "") for m in reply if isinstance(m, dict))
    return ""


Script = list[tuple[str, str | None]]


def drive(
    name: str,
    url: str,
    scripts: Sequence[Script],
    *,
    rounds: int,
    body: Callable[[str, str], dict[str, Any]],
    headers: dict[str, str] | None = None,
    check: Callable[[Any, str | None], str | None] | None = None,
    between_rounds: Callable[[], None] | None = None,
    after_round: Callable[[list[str]], list[str]] | None = None,
    warmup_rounds: int = 1,
    timeout: float = 30.0,
    cpu_pids: dict[str, int] | None = None,
    think_s: tuple[float, float] | None = None,
) -> LoadResult:
    """Run `len(scripts)` simulated customers at once, `rounds` times.

    Each customer sends its script's messages one after the other with its own conversation
    id per round: at once when a reply arrives (no think time), or, with `think_s=(low,
    high)`, after a pause drawn uniformly from that range in seconds, as a person reading and
    typing would (seeded by the conversation id; latency is timed from send to reply only).
    `check(reply, expected)` returns an error text or None.
    `between_rounds` runs before every round (not timed), `after_round(senders)` after it
    (not timed) and returns more errors (e.g. database checks). The first `warmup_rounds`
    rounds are run the same way but not counted (a fresh server's first turns are slow).
    The CPU time of the `cpu_pids` process trees and of the machine is summed over the timed
    rounds.
    """
    result = LoadResult(name, len(scripts), rounds)
    scratch = LoadResult(name, len(scripts), warmup_rounds)
    lock = threading.Lock()

    def customer(script: Script, sender: str, into: LoadResult) -> None:
        pauses = random.Random(sender)
        for index, (text, expected) in enumerate(script):
            if think_s and index:
                time.sleep(pauses.uniform(*think_s))
            started = time.perf_counter()
            try:
                reply = _post(url, body(sender, text), headers or {}, timeout)
                problem = check(reply, expected) if check else None
            except (urllib.error.URLError, OSError, ValueError) as error:
                reply, problem = None, f"{error.__class__.__name__}: {error}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                into.latencies_ms.append(elapsed)
                into.by_turn_ms.setdefault(index, []).append(elapsed)
                if problem:
                    into.errors.append(f"{sender} {text!r}: {problem}")

    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        for round_number in range(warmup_rounds + rounds):
            into = scratch if round_number < warmup_rounds else result
            if between_rounds:
                between_rounds()
            senders = [
                f"bench-{round_number}-{i}-{uuid.uuid4().hex[:6]}" for i in range(len(scripts))
            ]
            cpu_before = cpu_now(cpu_pids or {})
            started = time.perf_counter()
            futures = [
                pool.submit(customer, script, sender, into)
                for script, sender in zip(scripts, senders, strict=True)
            ]
            for future in futures:
                future.result()
            into.seconds += time.perf_counter() - started
            for key, value in cpu_now(cpu_pids or {}).items():
                into.cpu_seconds[key] = into.cpu_seconds.get(key, 0.0) + value - cpu_before[key]
            if after_round:
                into.errors.extend(after_round(senders))
    if scratch.errors:  # a warm-up that fails says something too
        result.errors.extend(f"(warm-up) {e}" for e in scratch.errors)
    return result


def rest_body(sender: str, text: str) -> dict[str, Any]:
    return {"sender": sender, "message": text}


def parse_body(_sender: str, text: str) -> dict[str, Any]:
    return {"text": text}


def check_rest_reply(reply: Any, expected: str | None) -> str | None:
    """The REST channel must answer with messages, and contain `expected` when given."""
    if not isinstance(reply, list) or not reply:
        return f"no bot message: {reply!r}"
    if expected and expected.lower() not in _reply_text(reply).lower():
        return f"expected {expected!r} in the reply, got {_reply_text(reply)[:160]!r}"
    return None


def check_parse_reply(reply: Any, _expected: str | None) -> str | None:
    if not isinstance(reply, dict) or "intent" not in reply:
        return f"not a parse result: {str(reply)[:160]!r}"
    return None


# --------------------------------------------------------------------------------------------
# Servers for the floor and the baseline
# --------------------------------------------------------------------------------------------


@contextmanager
def rasa_server(
    args: list[str], cwd: Path, health_url: str, log: Path, timeout: float = 300.0
) -> Iterator[subprocess.Popen[bytes]]:
    """A `rasa run ...` process of the bench's own (stopped on exit, its group killed)."""
    from qa.live import wait_for_http

    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / "rasa"), "run", *args],
            cwd=cwd,
            env={
                **SERVING_ENV,
                **SERVING_TF_THREADS,
                **os.environ,
                **QUIET_ENV,
                "PYTHONPATH": str(PROJECT_ROOT),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                raise RuntimeError(f"rasa exited early ({' '.join(args)}):\n{tail}")
            try:
                wait_for_http(health_url, timeout=min(5.0, max(0.5, deadline - time.monotonic())))
                break
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def ensure_baseline(folder: Path, log: Path) -> tuple[Path, float | None]:
    """The bare `rasa init` assistant, trained once and cached; (model, training seconds)."""
    models = sorted((folder / "models").glob("*.tar.gz")) if folder.exists() else []
    if models:
        return models[-1], None
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.monotonic()
    with log.open("ab") as out:
        subprocess.run(
            [str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(folder)],
            cwd=folder,
            env={**os.environ, **QUIET_ENV},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=1800,
        )
    seconds = time.monotonic() - started
    models = sorted((folder / "models").glob("*.tar.gz"))
    if not models:
        raise RuntimeError(f"`rasa init` produced no model in {folder}/models (see {log})")
    return models[-1], seconds


def time_full_training(log: Path) -> float:
    """Seconds of a full `rasa train --force` of the project, into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="qa_bench_train_") as out_dir, log.open("ab") as out:
        started = time.monotonic()
        subprocess.run(
            [
                str(VENV_BIN / "rasa"), "train", "--force",
                "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
                "--out", out_dir, "--fixed-model-name", "bench",
            ],
            cwd=PROJECT_ROOT,
            env={**os.environ, **QUIET_ENV, "PYTHONPATH": str(PROJECT_ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=3600,
        )  # fmt: skip
        return time.monotonic() - started


def _jwt(secret: str) -> str:
    import jwt

    return str(jwt.encode({"user": {"username": "bench", "role": "admin"}}, secret, "HS256"))


# --------------------------------------------------------------------------------------------
# The phases
# --------------------------------------------------------------------------------------------


def bench_quickconnect(
    customers: Sequence[Customer],
    rounds: int,
    model: Path | None,
    credentials: Path | None,
    backend: str = "sqlite",
    paced_think_s: tuple[float, float] | None = None,
) -> dict[str, LoadResult]:
    """The QuickConnect phase with no think time ("quickconnect"), then, with
    `paced_think_s`, the same customers at a person's pace ("quickconnect_paced"), on one
    stack and one database (reset before every round)."""
    from qa.live import AccountDatabase, scratch_stack

    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL) if backend == "postgres" else ""
    with scratch_stack(backend, model=model, credentials=credentials, redis_url=redis_url) as (
        endpoints,
        stack,
    ):
        database = AccountDatabase(endpoints.database_url)

        def verify_changes(_senders: list[str]) -> list[str]:
            problems = []
            for c in customers:
                plans = [row[0] for row in database.query(ACTIVE_PLAN_SQL, {"account": c.account})]
                if plans != [c.target_plan]:
                    problems.append(f"{c.account}: active plan {plans}, expected {c.target_plan}")
            return problems

        pids = {name: proc.pid for name, proc in stack.processes.items()}
        loads: dict[str, tuple[float, float] | None] = {"quickconnect": None}
        if paced_think_s:
            loads["quickconnect_paced"] = paced_think_s
        results: dict[str, LoadResult] = {}
        try:
            for name, think_s in loads.items():
                with PeakMemory(pids) as memory:
                    result = drive(
                        name,
                        f"{endpoints.rasa_url}/webhooks/rest/webhook",
                        [c.turns() for c in customers],
                        rounds=rounds,
                        body=rest_body,
                        check=check_rest_reply,
                        between_rounds=database.reset,
                        after_round=verify_changes,
                        cpu_pids={"rasa_server": pids["rasa"], "action_server": pids["actions"]},
                        think_s=think_s,
                    )
                result.peak_rss_mb = {
                    "rasa_server": memory.peaks["rasa"],
                    "action_server": memory.peaks["actions"],
                }
                results[name] = result
        finally:
            database.close()
        return results


def bench_parse_floor(
    customers: Sequence[Customer], rounds: int, model: Path, log_dir: Path
) -> LoadResult:
    from ops.stack import free_port

    port = free_port()
    secret = uuid.uuid4().hex
    # Own endpoints (none: in-memory tracker, no action server) and channel files, so the floor
    # is NLU alone and never the served assistant's configuration.
    log_dir.mkdir(parents=True, exist_ok=True)
    endpoints, credentials = log_dir / "floor_endpoints.yml", log_dir / "floor_credentials.yml"
    endpoints.write_text("{}\n")
    credentials.write_text("rest: {}\n")
    args = [
        "--model", str(model), "--enable-api", "--interface", "127.0.0.1",
        "--port", str(port), "--jwt-secret", secret, "--jwt-method", "HS256",
        "--endpoints", str(endpoints), "--credentials", str(credentials),
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    log = log_dir / "parse_floor.log"
    with (
        rasa_server(args, PROJECT_ROOT, f"{base}/", log) as process,
        PeakMemory({"rasa": process.pid}) as memory,
    ):
        result = drive(
            "model_parse_floor",
            f"{base}/model/parse",
            [[(text, None) for text, _ in c.turns()] for c in customers],
            rounds=rounds,
            body=parse_body,
            headers={"Authorization": f"Bearer {_jwt(secret)}"},
            check=check_parse_reply,
            cpu_pids={"rasa_server": process.pid},
        )
    result.peak_rss_mb = {"rasa_server": memory.peaks["rasa"]}
    return result


def bench_baseline(concurrency: int, rounds: int, log_dir: Path) -> tuple[LoadResult, float | None]:
    from ops.stack import free_port

    model, train_seconds = ensure_baseline(BASELINE_DIR, log_dir / "baseline_train.log")
    port = free_port()
    args = ["--model", str(model), "--interface", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    health = f"{base}/webhooks/rest/"
    with (
        rasa_server(args, BASELINE_DIR, health, log_dir / "baseline.log") as process,
        PeakMemory({"rasa": process.pid}) as memory,
    ):
        result = drive(
            "rasa_init_baseline",
            f"{base}/webhooks/rest/webhook",
            [[(t, None) for t in BASELINE_TURNS] for _ in range(concurrency)],
            rounds=rounds,
            body=rest_body,
            check=check_rest_reply,
            cpu_pids={"rasa_server": process.pid},
        )
    result.peak_rss_mb = {"rasa_server": memory.peaks["rasa"]}
    return result, train_seconds


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def render_report(data: dict[str, Any]) -> str:
    """Markdown: machine, the phases side by side, targets, training times."""
    m = data["machine"]
    phases = data["phases"]
    qc = phases.get("quickconnect", {})
    lines = [
        "# Benchmark",
        "",
        f"Run {data['started_utc']} by `python -m qa.bench {' '.join(data['argv'])}`.".replace(
            "  ", " "
        ),
        "",
        f"Machine: {m['cores']} cores, {m['ram_gb']} GB RAM, {m['cpu']}; load average at "
        f"start {m['load_average_at_start']} (shared machine); single-core speed probe "
        f"{m.get('speed_probe_ms', 'n/a')} ms (`speed_probe_ms`: lower is faster); "
        f"Python {m['python']}, Rasa {m['rasa']}.",
        "",
        f"Load: {data['customers']} simulated customers at once, {data['rounds']} round(s), "
        f"{data['turns_per_conversation']} turns per conversation, no think time, after one "
        "untimed warm-up round. QuickConnect "
        "conversations verify and change the plan (checked in the database after each round; "
        "the database is reset between rounds, outside the timed part). QuickConnect's stores: "
        f"{STORES[data.get('backend', 'sqlite')]}.",
        "",
    ]
    think = data.get("paced_think_s")
    if think and "quickconnect_paced" in phases:
        lines += [
            f"QuickConnect at a person's pace: the same customers, conversations and checks, "
            f"each customer pausing {think[0]:g} to {think[1]:g} s (uniformly drawn) between a "
            "reply and its next message, as someone reading and typing does; latency is timed "
            "from send to reply. The targets below are judged on the load with no think time.",
            "",
        ]
    lines += [
        "| phase | requests | errors | p50 ms | p95 ms | p99 ms | msg/s | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = {
        "quickconnect": "QuickConnect (REST, actions, DB)",
        "quickconnect_paced": "QuickConnect at a person's pace",
        "model_parse_floor": "floor: `/model/parse` only",
        "rasa_init_baseline": "bare `rasa init` (REST)",
    }
    for key, label in labels.items():
        if key not in phases:
            continue
        p = phases[key]
        rss = ", ".join(f"{k} {v:.0f}" for k, v in p["peak_rss_mb"].items())
        lines.append(
            f"| {label} | {p['requests']} | {p['errors']} | {p['p50_ms']} | {p['p95_ms']} "
            f"| {p['p99_ms']} | {p['messages_per_second']} | {rss} |"
        )
    lines += [
        "",
        "CPU during the timed rounds, per message and in cores busy (machine: all processes, "
        "the databases and this load generator included):",
        "",
    ]
    for key, label in labels.items():
        if key in phases and phases[key].get("cpu_ms_per_message"):
            per = phases[key]["cpu_ms_per_message"]
            cores = phases[key].get("cores_busy", {})
            parts = [f"{k} {v} ms ({cores.get(k, 'n/a')} cores)" for k, v in per.items()]
            lines.append(f"- {label}: {', '.join(parts)}")
    lines += ["", "Median latency by turn of the conversation (ms):", ""]
    for key, label in labels.items():
        if key in phases and phases[key].get("p50_by_turn_ms"):
            lines.append(f"- {label}: {phases[key]['p50_by_turn_ms']}")
    if "quickconnect" in phases:
        turns = [text for text, _ in CUSTOMERS[0].turns()]
        lines.append(f"- (QuickConnect turns: {turns}; the factor turn verifies and quotes)")
    lines += ["", "## Targets", ""]
    if qc:
        lines.append(
            f"- {'PASS' if qc['errors'] == 0 else 'MISS'}: errors = {qc['errors']} (target 0)"
        )
        ok = qc["p95_ms"] <= TARGET_P95_MS
        lines.append(
            f"- {'PASS' if ok else 'MISS'}: p95 turn latency = {qc['p95_ms']} ms at "
            f"{qc['concurrency']} concurrent conversations (target <= {TARGET_P95_MS:.0f} ms)"
        )
    paced = phases.get("quickconnect_paced")
    if paced:
        lines.append(
            f"- (for information, not a target) at a person's pace: p95 {paced['p95_ms']} ms, "
            f"errors {paced['errors']}, at {paced['concurrency']} concurrent conversations"
        )
    ratio = data.get("throughput_ratio")
    if ratio is not None:
        ok = ratio >= TARGET_RATIO
        lines.append(
            f"- {'PASS' if ok else 'MISS'}: throughput ratio QuickConnect / rasa init = "
            f"{ratio:.2f} (target >= {TARGET_RATIO:.2f}, i.e. within 30%)"
        )
    lines += ["", "## Training", ""]
    if data.get("full_train_seconds") is not None:
        lines.append(
            f"- full `rasa train --force` of the project: {data['full_train_seconds']:.0f} s"
        )
    else:
        lines.append("- full `rasa train` of the project: not measured in this run (--no-train)")
    if data.get("baseline_train_seconds") is not None:
        lines.append(
            "- `rasa init --no-prompt` (trains the bare assistant): "
            f"{data['baseline_train_seconds']:.0f} s"
        )
    errors = [e for p in phases.values() for e in p.get("first_errors", [])]
    if errors:
        lines += ["", "## First errors", "", *(f"- {e}" for e in errors[:20])]
    return "\n".join(lines) + "\n"


def _think_range(text: str) -> tuple[float, float]:
    """'1,3' -> (1.0, 3.0), for --think."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError("expected LOW,HIGH in seconds, e.g. 1,3") from error
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError("expected 0 <= LOW <= HIGH")
    return low, high


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10, help="concurrent customers (max 10)")
    parser.add_argument("--rounds", type=int, default=3, help="conversations per customer")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: 2 customers, 1 round, QuickConnect only"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the /model/parse floor")
    parser.add_argument(
        "--think",
        type=_think_range,
        default=DEFAULT_THINK_S,
        metavar="LOW,HIGH",
        help="paced phase: seconds between a reply and the next message (default 1,3)",
    )
    parser.add_argument("--no-paced", action="store_true", help="skip the phase at a person's pace")
    parser.add_argument("--no-baseline", action="store_true", help="skip the rasa init baseline")
    parser.add_argument("--no-train", action="store_true", help="skip timing a full rasa train")
    parser.add_argument("--model", type=Path, help="model to serve (default: the project model)")
    parser.add_argument("--credentials", type=Path, help="credentials file for the Rasa server")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="QuickConnect's stores: sqlite (embedded default) or postgres (PostgreSQL + Redis)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (default results/bench, smoke: results/bench/smoke; "
        "+ /postgres for that backend)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.customers, args.rounds = min(args.customers, 2), 1
        args.no_floor = args.no_baseline = args.no_train = args.no_paced = True
    if not 1 <= args.customers <= len(CUSTOMERS):
        parser.error(f"--customers must be 1..{len(CUSTOMERS)} (one demo account each)")
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    out = args.out or (DEFAULT_OUT / "smoke" if args.smoke else DEFAULT_OUT)
    if args.out is None and args.backend != "sqlite":
        out = out / args.backend
    out.mkdir(parents=True, exist_ok=True)
    log_dir = out / "logs"
    from ops.stack import DEFAULT_MODEL

    model = (args.model or DEFAULT_MODEL).resolve()
    customers = CUSTOMERS[: args.customers]
    data: dict[str, Any] = {
        "started_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "customers": args.customers,
        "rounds": args.rounds,
        "turns_per_conversation": len(customers[0].turns()),
        "backend": args.backend,
        "phases": {},
    }
    os.chdir(PROJECT_ROOT)

    print(
        f"QuickConnect ({args.backend}): {args.customers} customers x {args.rounds} rounds ...",
        flush=True,
    )
    paced_think_s = None if args.no_paced else args.think
    if paced_think_s:
        data["paced_think_s"] = list(paced_think_s)
    qc_loads = bench_quickconnect(
        customers, args.rounds, model, args.credentials, args.backend, paced_think_s
    )
    for key, load in qc_loads.items():
        data["phases"][key] = load.summary()
        print(json.dumps(data["phases"][key]), flush=True)
    if not args.no_floor:
        print("Floor: /model/parse on a bench-only API server ...", flush=True)
        floor = bench_parse_floor(customers, args.rounds, model, log_dir)
        data["phases"]["model_parse_floor"] = floor.summary()
        print(json.dumps(data["phases"]["model_parse_floor"]), flush=True)
    if not args.no_baseline:
        print("Baseline: bare rasa init assistant ...", flush=True)
        base, train_seconds = bench_baseline(args.customers, args.rounds, log_dir)
        data["phases"]["rasa_init_baseline"] = base.summary()
        data["baseline_train_seconds"] = train_seconds
        base_rate = data["phases"]["rasa_init_baseline"]["messages_per_second"]
        qc_rate = data["phases"]["quickconnect"]["messages_per_second"]
        data["throughput_ratio"] = round(qc_rate / base_rate, 3) if base_rate else None
        print(json.dumps(data["phases"]["rasa_init_baseline"]), flush=True)
    if not args.no_train:
        print("Timing a full rasa train (--force, temporary output) ...", flush=True)
        data["full_train_seconds"] = round(time_full_training(log_dir / "train.log"), 1)

    name = "smoke" if args.smoke else "bench"
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    report = render_report(data)
    (out / "report.md").write_text(report)
    print(report)
    return 1 if any(load.errors for load in qc_loads.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
