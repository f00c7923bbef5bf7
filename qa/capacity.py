"""Capacity: how many conversations at a person's pace one machine serves within the target.

    python -m qa.capacity                  # make bench: every phase below, results/capacity/
    python -m qa.capacity --phases quickconnect-sqlite,rasa-init-sqlite
    python -m qa.capacity --smoke          # CI (make bench-smoke): one short level per phase

A benchmark with no think time measures saturation (Little's law: latency = customers in the
system / throughput), not what a customer waits. This one is open loop, as real traffic is:
conversations arrive over time (Poisson, at a rate set for a target number of conversations
under way), and each simulated customer pauses 3 to 10 s (uniform, `--think`) between a reply
and its next message, whatever the server does. A *level* runs one target for a warm-up and
then a measured window; it passes when the p95 turn latency of the turns sent in the window is
<= 300 ms and nothing failed (HTTP error, timeout, a reply without the expected text, or a
change the database does not show afterwards). The search raises the target by `--factor`
while levels pass, then bisects between the best pass and the lowest failure: the capacity
is the largest passing target.

Phases, one after the other (they never share the CPU), each on servers of its own:
- quickconnect-sqlite, quickconnect-postgres: the real Rasa server + action server
  (`qa.live.scratch_stack`) on the embedded default (SQLite, in-memory locks) and on
  production's stores (PostgreSQL, Redis locks and live pushes). Each simulated customer has an
  account of its own (`quickconnect.seed.seed_copies`, seeded before the servers get load):
  half change plan (verify, quote, yes), half have a suspended line paid and restored
  (verify, overdue amount, yes). Every change is checked in the database after the phase.
- rasa-init-sqlite, rasa-init-postgres: the bare `rasa init --no-prompt` assistant (moodbot,
  cached under var/bench/) with the same number of turns per conversation and the same think
  time, its tracker in an SQL tracker store on the same kind of store (SQLite file; PostgreSQL
  with a Redis lock store).
- quickconnect-replicas: two Rasa servers and two action servers behind HAProxy
  (`ops.replicas.ReplicaSet`, deploy/haproxy/haproxy.cfg) on PostgreSQL + Redis: the same
  search, against quickconnect-postgres's capacity (target: within 10%).

Reported per phase: capacity, conversations per core, every level (target, mean conversations
under way in the window, messages, p50/p95/p99, errors), CPU per message of the server trees,
peak RSS of every Rasa server and action server. Results: results/capacity/report.md and
capacity.json; docs/benchmark.md keeps the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.bench import (
    ACTIVE_PLAN_SQL,
    BASELINE_DIR,
    BASELINE_TURNS,
    DEFAULT_REDIS_URL,
    PeakMemory,
    _think_range,
    check_rest_reply,
    cpu_now,
    ensure_baseline,
    machine,
    percentile,
    rasa_server,
)
from quickconnect.config import PROJECT_ROOT

DEFAULT_OUT = PROJECT_ROOT / "results" / "capacity"
TARGET_P95_MS = 300.0
TARGET_REPLICA_RATIO = 0.90  # two replicas within 10% of one
DEFAULT_THINK_S = (3.0, 10.0)
PHASES = (
    "quickconnect-sqlite",
    "rasa-init-sqlite",
    "quickconnect-postgres",
    "rasa-init-postgres",
    "quickconnect-replicas",
)
REQUEST_TIMEOUT_S = 15.0
# Accounts copied per template and phase: enough for the conversations of a whole search
# (checked: running out is an error, never a silent reuse).
PLAN_TEMPLATE, PLAN_FACTOR, PLAN_TARGET = "QC-100002", "Porto", "Unlimited Plus"
CUTOFF_TEMPLATE, CUTOFF_FACTOR = "QC-100004", "Lagos"
PLAN_FIRST, CUTOFF_FIRST = 200000, 300000

Turns = list[tuple[str, str | None]]  # (message, text the reply must contain, or None)


# --------------------------------------------------------------------------------------------
# What the simulated customers say
# --------------------------------------------------------------------------------------------


def plan_change_turns(account: str) -> Turns:
    return [
        ("hi", None),
        (f"I want to switch to {PLAN_TARGET}", "account number"),
        (account, None),
        (PLAN_FACTOR, "Shall I go ahead?"),
        ("yes", "Done"),
        ("thanks", None),
    ]


def cutoff_turns(account: str) -> Turns:
    return [
        ("hello", None),
        ("why has my service been cut off?", "account number"),
        (account, None),
        (CUTOFF_FACTOR, "Shall I go ahead?"),
        ("yes please", "your service is back on"),
        ("thanks", None),
    ]


@dataclass
class Conversation:
    sender: str
    turns: Turns
    kind: str = "moodbot"
    account: str = ""
    last_sent: float = 0.0
    finished: bool = False
    failed: bool = False


class QuickConnectCustomers:
    """Hands each new conversation an account nobody else has used (plan change, cut-off)."""

    def __init__(self, plan_accounts: list[str], cutoff_accounts: list[str]) -> None:
        self.free = {
            "plan_change": list(reversed(plan_accounts)),
            "cutoff": list(reversed(cutoff_accounts)),
        }
        self.count = 0

    @property
    def remaining(self) -> int:
        """Conversations that can still start (they alternate between the two pools)."""
        return 2 * min(len(pool) for pool in self.free.values())

    def __call__(self, sender: str) -> Conversation:
        kind = "plan_change" if self.count % 2 == 0 else "cutoff"
        self.count += 1
        if not self.free[kind]:
            raise RuntimeError(f"the {kind} account pool ran out: raise --accounts")
        account = self.free[kind].pop()
        turns = plan_change_turns(account) if kind == "plan_change" else cutoff_turns(account)
        return Conversation(sender, turns, kind, account)


def moodbot_customers(sender: str) -> Conversation:
    return Conversation(sender, [(text, None) for text in BASELINE_TURNS])


# --------------------------------------------------------------------------------------------
# The open-loop load
# --------------------------------------------------------------------------------------------


@dataclass
class Turn:
    sent: float  # loop time
    ms: float
    error: str | None


@dataclass
class LevelResult:
    target: int
    arrival_rate: float
    window: tuple[float, float]
    messages: int = 0
    errors: list[str] = field(default_factory=list)
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    mean_active: float = 0.0
    cpu_ms_per_message: dict[str, float] = field(default_factory=dict)
    cores_busy: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.messages > 0 and not self.errors and self.p95_ms <= TARGET_P95_MS

    def summary(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "arrivals_per_s": round(self.arrival_rate, 3),
            "mean_active": round(self.mean_active, 1),
            "messages": self.messages,
            "messages_per_s": round(self.messages / (self.window[1] - self.window[0]), 2),
            "p50_ms": round(self.p50_ms, 1),
            "p95_ms": round(self.p95_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "passed": self.passed,
            "cpu_ms_per_message": self.cpu_ms_per_message,
            "cores_busy": self.cores_busy,
        }


def next_target(
    target: int, best: int, lowest_fail: int | None, factor: float, resolution: float
) -> int | None:
    """The search's next level, or None when it is done.

    Up by `factor` while every level passed; after a failure, halve until one passes; then
    bisect between the best pass and the lowest failure until they are within `resolution`
    (a fraction of the best pass) or adjacent.
    """
    if lowest_fail is None:
        return max(target + 1, math.ceil(target * factor))
    if best == 0:
        return None if lowest_fail <= 1 else max(1, lowest_fail // 2)
    if lowest_fail - best <= max(1, round(best * resolution)):
        return None
    return (best + lowest_fail) // 2


class OpenLoop:
    """Simulated customers arriving over time against one REST webhook, level after level.

    Conversations outlive the level they arrived in (the next level's warm-up absorbs them);
    a level's figures are the turns *sent* in its measured window.
    """

    def __init__(
        self,
        url: str,
        new_conversation: Callable[[str], Conversation],
        *,
        think_s: tuple[float, float],
        turns_per_conversation: int,
        cpu_pids: dict[str, int],
        seed: int = 7,
    ) -> None:
        self.url = url
        self.new_conversation = new_conversation
        self.think_s = think_s
        self.turns_per_conversation = turns_per_conversation
        self.cpu_pids = cpu_pids
        self.rng = random.Random(seed)
        self.turns: list[Turn] = []
        self.conversations: list[Conversation] = []
        self.active: set[asyncio.Task[None]] = set()
        self.session: Any = None
        self.stopped_early = ""

    @property
    def mean_duration_s(self) -> float:
        """How long a conversation lasts: its pauses (the replies are small beside them)."""
        return (self.turns_per_conversation - 1) * sum(self.think_s) / 2 + 0.1

    async def _converse(self, conversation: Conversation) -> None:
        import aiohttp

        loop = asyncio.get_running_loop()
        pauses = random.Random(conversation.sender)
        for index, (text, expected) in enumerate(conversation.turns):
            if index:
                await asyncio.sleep(pauses.uniform(*self.think_s))
            sent = loop.time()
            conversation.last_sent = sent
            try:
                async with self.session.post(
                    self.url,
                    json={"sender": conversation.sender, "message": text},
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
                ) as response:
                    if response.status != 200:
                        problem: str | None = f"HTTP {response.status}"
                    else:
                        problem = check_rest_reply(await response.json(), expected)
            except (TimeoutError, aiohttp.ClientError, ValueError) as error:
                problem = f"{error.__class__.__name__}: {error}"
            ms = (loop.time() - sent) * 1000
            self.turns.append(
                Turn(
                    sent,
                    ms,
                    f"{conversation.sender} turn {index} {text!r}: {problem}" if problem else None,
                )
            )
            if problem:
                conversation.failed = True
                return
        conversation.finished = True

    def _spawn(self) -> None:
        conversation = self.new_conversation(f"cap-{uuid.uuid4().hex[:12]}")
        self.conversations.append(conversation)
        task = asyncio.create_task(self._converse(conversation))
        self.active.add(task)
        task.add_done_callback(self.active.discard)

    async def level(self, target: int, warmup_s: float, measure_s: float) -> LevelResult:
        """Arrivals for `target` conversations under way; figures of the measured window.

        Arrivals at target / (a conversation's mean duration) a second keep `target`
        conversations under way once the level has run one conversation's duration (the
        previous level's conversations end meanwhile): the warm-up must be at least that
        long (checked by the caller), and only turns sent after it count.
        """
        loop = asyncio.get_running_loop()
        rate = target / self.mean_duration_s
        started = loop.time()
        window = (started + warmup_s, started + warmup_s + measure_s)
        samples: list[int] = []
        cpu_before: dict[str, float] = {}
        next_arrival = started + self.rng.expovariate(rate)
        while (now := loop.time()) < window[1]:
            if not cpu_before and now >= window[0]:
                cpu_before = cpu_now(self.cpu_pids)
            while next_arrival <= now:
                self._spawn()
                next_arrival += self.rng.expovariate(rate)
            if now >= window[0]:
                samples.append(len(self.active))  # tasks end when their conversation does
            await asyncio.sleep(min(0.25, max(0.0, next_arrival - now)))
        cpu_after = cpu_now(self.cpu_pids)
        result = LevelResult(target, rate, window)
        inside = [t for t in self.turns if window[0] <= t.sent < window[1]]
        latencies = [t.ms for t in inside]
        result.messages = len(inside)
        result.errors = [t.error for t in inside if t.error]
        result.p50_ms, result.p95_ms, result.p99_ms = (
            percentile(latencies, q) for q in (50, 95, 99)
        )
        result.mean_active = sum(samples) / len(samples) if samples else 0.0
        if cpu_before and result.messages:
            for key, value in cpu_after.items():
                used = value - cpu_before[key]
                result.cpu_ms_per_message[key] = round(used * 1000 / result.messages, 1)
                result.cores_busy[key] = round(used / measure_s, 2)
        return result

    async def drain(self, timeout: float) -> None:
        """Let every conversation under way finish (no new arrivals)."""
        if self.active:
            await asyncio.wait(set(self.active), timeout=timeout)

    async def search(
        self,
        *,
        start: int,
        factor: float,
        max_levels: int,
        resolution: float,
        warmup_s: float,
        measure_s: float,
        log: Callable[[str], None],
    ) -> tuple[int, list[LevelResult]]:
        """Raise the target while levels pass, then bisect; (capacity, every level run)."""
        import aiohttp

        levels: list[LevelResult] = []
        best, lowest_fail = 0, None
        target = start
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as self.session:
            while len(levels) < max_levels:
                needed = target / self.mean_duration_s * (warmup_s + measure_s) * 1.3
                remaining = getattr(self.new_conversation, "remaining", None)
                if remaining is not None and remaining < needed:
                    log(
                        f"stopped before target {target}: {remaining} accounts left "
                        "(raise --accounts)"
                    )
                    self.stopped_early = f"account pool: {remaining} left for target {target}"
                    break
                result = await self.level(target, warmup_s, measure_s)
                levels.append(result)
                log(json.dumps(result.summary()))
                if result.passed:
                    best = max(best, target)
                else:
                    lowest_fail = target if lowest_fail is None else min(lowest_fail, target)
                    await self.drain(timeout=self.mean_duration_s * 2 + REQUEST_TIMEOUT_S)
                following = next_target(target, best, lowest_fail, factor, resolution)
                if following is None:
                    break
                target = following
            await self.drain(timeout=self.mean_duration_s * 2 + REQUEST_TIMEOUT_S)
        return best, levels


# --------------------------------------------------------------------------------------------
# The phases' servers
# --------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A running assistant: its REST webhook, process trees to watch, how to check it after."""

    url: str
    pids: dict[str, int]
    new_conversation: Callable[[str], Conversation]
    turns_per_conversation: int
    check: Callable[[list[Conversation]], list[str]] = lambda _c: []


def phase_redis_url() -> str:
    """The Redis of the production-store phases (a database number of the tests' own)."""
    return os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)


def seed_accounts(database_url: str, count: int) -> tuple[list[str], list[str]]:
    """`count` copies each of the plan-change and the cut-off demo account."""
    from quickconnect.db.session import make_engine, unit_of_work
    from quickconnect.seed import seed_copies

    engine = make_engine(database_url)
    try:
        plans: list[str] = []
        cutoffs: list[str] = []
        for offset in range(0, count, 250):
            size = min(250, count - offset)
            with unit_of_work(engine) as session:
                plans += seed_copies(session, PLAN_TEMPLATE, size, first=PLAN_FIRST + offset)
                cutoffs += seed_copies(session, CUTOFF_TEMPLATE, size, first=CUTOFF_FIRST + offset)
        return plans, cutoffs
    finally:
        engine.dispose()


def change_checker(database_url: str) -> Callable[[list[Conversation]], list[str]]:
    """Every finished conversation's change is in the database: the plan, the service back on."""
    import sqlalchemy as sa

    plan_sql = sa.text(ACTIVE_PLAN_SQL)
    status_sql = sa.text(
        "SELECT s.status FROM service_status s JOIN customers c ON c.id = s.customer_id "
        "WHERE c.account_number = :a"
    )

    def check(conversations: list[Conversation]) -> list[str]:
        engine = sa.create_engine(database_url, future=True)
        problems = []
        try:
            with engine.connect() as conn:
                for c in conversations:
                    if not c.finished:
                        continue
                    if c.kind == "plan_change":
                        found = [row[0] for row in conn.execute(plan_sql, {"account": c.account})]
                        if found != [PLAN_TARGET]:
                            problems.append(
                                f"{c.account}: active plan {found}, expected {PLAN_TARGET}"
                            )
                    elif c.kind == "cutoff":
                        found = [row[0] for row in conn.execute(status_sql, {"a": c.account})]
                        if found != ["active"]:
                            problems.append(f"{c.account}: service {found}, expected active")
        finally:
            engine.dispose()
        return problems

    return check


@contextmanager
def quickconnect_target(
    backend: str, accounts: int, model: Path | None, log_dir: Path
) -> Iterator[Target]:
    from qa.live import scratch_stack

    redis_url = phase_redis_url() if backend == "postgres" else ""
    with scratch_stack(backend, model=model, redis_url=redis_url, log_dir=log_dir) as (
        endpoints,
        stack,
    ):
        plans, cutoffs = seed_accounts(endpoints.database_url, accounts)
        yield Target(
            f"{endpoints.rasa_url}/webhooks/rest/webhook",
            {
                "rasa_server": stack.processes["rasa"].pid,
                "action_server": stack.processes["actions"].pid,
            },
            QuickConnectCustomers(plans, cutoffs),
            len(plan_change_turns("x")),
            change_checker(endpoints.database_url),
        )


@contextmanager
def replicas_target(accounts: int, model: Path | None, log_dir: Path) -> Iterator[Target]:
    from ops.replicas import ReplicaSet
    from qa.live import DEFAULT_POSTGRES_URL, _postgres_database, _prepare_database
    from quickconnect.config import load_settings

    base = os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    with _postgres_database(base, "qc_capacity") as db_url:
        _prepare_database(db_url)
        settings = replace(
            load_settings(),
            database_url=db_url,
            tracker_store_url=db_url.replace("+psycopg2", ""),
            lock_store_url=phase_redis_url(),
            live_relay_url="",
            live_relay_channel=f"qc-capacity-{uuid.uuid4().hex[:12]}",
        )
        replica_set = ReplicaSet(
            settings, log_dir=log_dir, **({"model_path": model} if model else {})
        )
        replica_set.start()
        try:
            plans, cutoffs = seed_accounts(db_url, accounts)
            pids = {}
            for n, stack in enumerate(replica_set.rasa, 1):
                pids[f"rasa_server_{n}"] = stack.processes["rasa"].pid
            for n, stack in enumerate(replica_set.actions, 1):
                pids[f"action_server_{n}"] = stack.processes["actions"].pid
            yield Target(
                f"{replica_set.lb_url}/webhooks/rest/webhook",
                pids,
                QuickConnectCustomers(plans, cutoffs),
                len(plan_change_turns("x")),
                change_checker(db_url),
            )
        finally:
            replica_set.stop()


@contextmanager
def baseline_target(backend: str, log_dir: Path) -> Iterator[Target]:
    """The bare rasa init assistant on an SQL tracker store (and Redis locks on postgres)."""
    from ops.stack import free_port
    from qa.live import DEFAULT_POSTGRES_URL, _postgres_database

    model, _seconds = ensure_baseline(BASELINE_DIR, log_dir / "baseline_train.log")
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="qa_capacity_init_") as tmp:
        if backend == "postgres":
            import sqlalchemy as sa
            from redis import Redis

            url = sa.engine.make_url(
                stack.enter_context(
                    _postgres_database(
                        os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL,
                        "qc_capacity_init",
                    )
                )
            )
            redis_url = sa.engine.make_url(phase_redis_url())
            Redis.from_url(str(redis_url)).ping()
            endpoints = (
                "tracker_store:\n  type: SQL\n  dialect: postgresql\n"
                f"  url: {url.host}\n  port: {url.port or 5432}\n  username: {url.username}\n"
                f"  password: '{url.password or ''}'\n  db: {url.database}\n"
                f"lock_store:\n  type: redis\n  url: {redis_url.host}\n"
                f"  port: {redis_url.port or 6379}\n  db: {redis_url.database or 0}\n"
                f"  key_prefix: qc_capacity_{uuid.uuid4().hex[:8]}\n"
            )
        else:
            tracker = Path(tmp) / "tracker.db"
            endpoints = f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tracker}\n"
        endpoints_file = Path(tmp) / "endpoints.yml"
        endpoints_file.write_text(endpoints)
        (Path(tmp) / "credentials.yml").write_text("rest: {}\n")
        port = free_port()
        args = [
            "--model", str(model), "--interface", "127.0.0.1", "--port", str(port),
            "--endpoints", str(endpoints_file), "--credentials", str(Path(tmp) / "credentials.yml"),
        ]  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        process = stack.enter_context(
            rasa_server(
                args, BASELINE_DIR, f"{base}/webhooks/rest/", log_dir / f"rasa-init-{backend}.log"
            )
        )
        yield Target(
            f"{base}/webhooks/rest/webhook",
            {"rasa_server": process.pid},
            moodbot_customers,
            len(BASELINE_TURNS),
        )


# --------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------


@dataclass
class SearchSettings:
    """How one phase searches: 7 levels of 81 s keep a phase near 11 minutes, which can end
    before the last bisection (the report then gives the last pass and the lowest failure)."""

    think_s: tuple[float, float] = DEFAULT_THINK_S
    start: int = 32
    factor: float = 1.6
    max_levels: int = 7
    resolution: float = 0.12
    warmup_s: float = 36.0  # >= a conversation's mean duration: 5 pauses of 6.5 s
    measure_s: float = 45.0
    accounts: int = 4000  # per template and phase


def run_phase(
    name: str,
    settings: SearchSettings,
    model: Path | None,
    log_dir: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    kind, backend = name.rsplit("-", 1)
    if kind == "quickconnect" and backend == "replicas":
        context = replicas_target(settings.accounts, model, log_dir / name)
    elif kind == "quickconnect":
        context = quickconnect_target(backend, settings.accounts, model, log_dir / name)
    else:
        context = baseline_target(backend, log_dir)
    started = time.monotonic()
    with context as target:
        ready_s = time.monotonic() - started
        load = OpenLoop(
            target.url,
            target.new_conversation,
            think_s=settings.think_s,
            turns_per_conversation=target.turns_per_conversation,
            cpu_pids=target.pids,
        )
        with PeakMemory(target.pids, interval=1.0) as memory:
            capacity, levels = asyncio.run(
                load.search(
                    start=settings.start,
                    factor=settings.factor,
                    max_levels=settings.max_levels,
                    resolution=settings.resolution,
                    warmup_s=settings.warmup_s,
                    measure_s=settings.measure_s,
                    log=lambda line: log(f"  {name}: {line}"),
                )
            )
        problems = target.check(load.conversations)
    # A change missing in the database fails the level that sent the conversation's last turn.
    if problems:
        by_account = {c.account: c for c in load.conversations}
        for problem in problems:
            conversation = by_account.get(problem.split(":", 1)[0])
            for level in levels:
                if conversation and level.window[0] <= conversation.last_sent < level.window[1]:
                    level.errors.append(problem)
        passing = [level.target for level in levels if level.passed]
        capacity = max(passing, default=0)
    finished = sum(1 for c in load.conversations if c.finished)
    return {
        "capacity": capacity,
        "conversations_per_core": round(capacity / (os.cpu_count() or 1), 1),
        "levels": [level.summary() for level in levels],
        "at_capacity": next(
            (lv.summary() for lv in levels if lv.target == capacity and lv.passed), None
        ),
        "peak_rss_mb": memory.peaks,
        "conversations": len(load.conversations),
        "conversations_finished": finished,
        "database_problems": problems[:20],
        "database_checked": sum(
            1 for c in load.conversations if c.finished and c.kind != "moodbot"
        ),
        "start_seconds": round(ready_s, 1),
        "stopped_early": load.stopped_early,
    }


def render_report(data: dict[str, Any]) -> str:
    m = data["machine"]
    s = data["settings"]
    lines = [
        "# Capacity at the latency target",
        "",
        f"Run {data['started_utc']} by `python -m qa.capacity {' '.join(data['argv'])}`.".replace(
            "  ", " "
        ),
        "",
        f"Machine: {m['cores']} cores, {m['ram_gb']} GB RAM, {m['cpu']}; load average at start "
        f"{m['load_average_at_start']}; single-core speed probe {m['speed_probe_ms']} ms; "
        f"Python {m['python']}, Rasa {m['rasa']}.",
        "",
        f"Load: open loop, conversations arriving (Poisson) for a target number under way; "
        f"{s['think_s'][0]:g}-{s['think_s'][1]:g} s think time between a reply and the next "
        f"message; each level {s['warmup_s']:g} s warm-up + {s['measure_s']:g} s measured. "
        f"A level passes with p95 <= {TARGET_P95_MS:.0f} ms and zero errors; capacity = the "
        "largest passing target.",
        "",
        "| phase | capacity (conversations) | per core | p95 at capacity ms | msg/s at capacity | "
        "server CPU ms/msg | peak RSS MB |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, p in data["phases"].items():
        at = p.get("at_capacity") or {}
        cpu = ", ".join(
            f"{k} {v}" for k, v in at.get("cpu_ms_per_message", {}).items() if k != "machine"
        )
        rss = ", ".join(f"{k} {v:.0f}" for k, v in p["peak_rss_mb"].items())
        lines.append(
            f"| {name} | {p['capacity']} | {p['conversations_per_core']} "
            f"| {at.get('p95_ms', 'n/a')} | {at.get('messages_per_s', 'n/a')} | {cpu or 'n/a'} "
            f"| {rss} |"
        )
    lines += ["", "## Targets", ""]
    for name, value in data["ratios"].items():
        lines.append(f"- {name}: {value}")
    lines += ["", "## Levels", ""]
    for name, p in data["phases"].items():
        lines += [
            f"### {name}",
            "",
            f"{p['conversations']} conversations, {p['conversations_finished']} finished; "
            f"{p['database_checked']} changes checked in the database, "
            f"{len(p['database_problems'])} missing.",
            "",
            "| target | mean under way | msg/s | p50 ms | p95 ms | p99 ms | errors "
            "| machine CPU ms/msg | pass |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for lv in p["levels"]:
            lines.append(
                f"| {lv['target']} | {lv['mean_active']} | {lv['messages_per_s']} | {lv['p50_ms']} "
                f"| {lv['p95_ms']} | {lv['p99_ms']} | {lv['errors']} "
                f"| {lv['cpu_ms_per_message'].get('machine', 'n/a')} "
                f"| {'yes' if lv['passed'] else 'no'} |"
            )
        errors = [e for lv in p["levels"] for e in lv["first_errors"]]
        if errors:
            lines += ["", "First errors:", "", *(f"- {e}" for e in errors[:8])]
        lines.append("")
    return "\n".join(lines)


def ratios(phases: dict[str, Any]) -> dict[str, str]:
    """The issue's targets, from the phases that ran."""
    out = {}

    def cap(name: str) -> int | None:
        return phases[name]["capacity"] if name in phases else None

    for backend in ("sqlite", "postgres"):
        qc, base = cap(f"quickconnect-{backend}"), cap(f"rasa-init-{backend}")
        if qc is not None and base:
            ratio = qc / base
            out[f"QuickConnect / rasa init, {backend}"] = (
                f"{qc} / {base} = {ratio:.2f} ({'PASS' if ratio >= 1.0 else 'MISS'}: target >= 1.0)"
            )
    two, one = cap("quickconnect-replicas"), cap("quickconnect-postgres")
    if two is not None and one:
        ratio = two / one
        ok = ratio >= TARGET_REPLICA_RATIO
        out["two replicas / one, PostgreSQL + Redis"] = (
            f"{two} / {one} = {ratio:.2f} "
            f"({'PASS' if ok else 'MISS'}: target >= {TARGET_REPLICA_RATIO})"
        )
    for name, p in phases.items():
        for proc, mb in p["peak_rss_mb"].items():
            if proc.startswith("rasa_server") and name.startswith("quickconnect"):
                out[f"RSS {name} {proc}"] = (
                    f"{mb:.0f} MB ({'PASS' if mb <= 1200 else 'MISS'}: target <= 1200 MB)"
                )
    return out


def merge_reports(files: list[Path], out: Path) -> int:
    """capacity.json + report.md in `out` from several runs' phases (later files win).

    The machine and settings are the first file's; the report lists every file's start.
    """
    runs = [json.loads(path.read_text()) for path in files]
    data = {**runs[0], "phases": {}}
    for run in runs:
        data["phases"].update(run["phases"])
    data["started_utc"] = " and ".join(run["started_utc"] for run in runs)
    data["argv"] = ["--merge", *(str(path) for path in files)]
    data["ratios"] = ratios(data["phases"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "capacity.json").write_text(json.dumps(data, indent=2) + "\n")
    report = render_report(data)
    (out / "report.md").write_text(report)
    print(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.capacity", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {PHASES}")
    parser.add_argument(
        "--smoke", action="store_true", help="CI: one short level (4 conversations) per phase"
    )
    parser.add_argument("--think", type=_think_range, default=DEFAULT_THINK_S, metavar="LOW,HIGH")
    parser.add_argument("--start", type=int, default=SearchSettings.start, help="first target")
    parser.add_argument("--factor", type=float, default=SearchSettings.factor)
    parser.add_argument("--max-levels", type=int, default=SearchSettings.max_levels)
    parser.add_argument(
        "--warmup", type=float, default=SearchSettings.warmup_s, help="seconds per level"
    )
    parser.add_argument(
        "--measure", type=float, default=SearchSettings.measure_s, help="seconds per level"
    )
    parser.add_argument(
        "--accounts",
        type=int,
        default=SearchSettings.accounts,
        help="copies per template and phase",
    )
    parser.add_argument("--model", type=Path, help="model to serve (default: the project model)")
    parser.add_argument(
        "--out", type=Path, help="results folder (default results/capacity[/smoke])"
    )
    parser.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="run nothing: one report from the phases of earlier capacity.json files "
        "(a phase run again on its own, say), written to --out",
    )
    args = parser.parse_args(argv)
    if args.merge:
        return merge_reports(args.merge, args.out or DEFAULT_OUT)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; known: {PHASES}")
    settings = SearchSettings(
        args.think,
        args.start,
        args.factor,
        args.max_levels,
        0.12,
        args.warmup,
        args.measure,
        args.accounts,
    )
    if args.smoke:
        settings = SearchSettings((0.5, 1.5), 4, 1.6, 1, 0.12, 6.0, 12.0, 40)
    mean_duration = 5 * sum(settings.think_s) / 2
    if settings.warmup_s < mean_duration:
        parser.error(f"--warmup must be >= a conversation's mean duration ({mean_duration:g} s)")
    out = args.out or (DEFAULT_OUT / "smoke" if args.smoke else DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "started_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "settings": settings.__dict__,
        "phases": {},
    }
    os.chdir(PROJECT_ROOT)
    for name in phases:
        print(f"{name} ...", flush=True)
        data["phases"][name] = run_phase(
            name, settings, args.model, out / "logs", lambda line: print(line, flush=True)
        )
        print(f"{name}: capacity {data['phases'][name]['capacity']}", flush=True)
        (out / "capacity.json").write_text(json.dumps(data, indent=2) + "\n")
    data["ratios"] = ratios(data["phases"])
    (out / "capacity.json").write_text(json.dumps(data, indent=2) + "\n")
    report = render_report(data)
    (out / "report.md").write_text(report)
    print(report)
    if args.smoke:  # CI: correctness only, never timing
        failed = [n for n, p in data["phases"].items() for lv in p["levels"] if lv["errors"]]
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
