"""Real stacks for the fault tests, with the stores behind cuttable proxies.

Two stacks per run, as in tests/e2e: SQLite (account DB and tracker store files, in-memory
locks) and PostgreSQL + Redis (a scratch database on the shared server, dropped afterwards).
On the PostgreSQL stack both servers reach PostgreSQL and Redis only through a `FaultProxy`,
so a test can make either unavailable to this stack without touching the shared services;
the test itself reads the databases directly, so it can look while the stack cannot.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ops.stack import DEFAULT_MODEL, Stack, free_port
from quickconnect.config import load_settings
from tests.e2e.conftest import DEFAULT_PG, DEFAULT_REDIS, TEST_PROXIES, Chat, _prepare_database
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.faults


@dataclass
class FaultStack:
    """A running stack plus what a fault test needs to break it and to look inside."""

    backend: str
    stack: Stack
    db_url: str  # the account database, reached directly (not through the proxy)
    tracker_url: str  # the tracker store, directly
    pg_proxy: FaultProxy | None = None
    redis_proxy: FaultProxy | None = None

    def chat(self, prefix: str) -> Chat:
        return Chat(self.stack, f"{prefix}-{uuid.uuid4().hex[:10]}")

    def query(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        return _query(self.db_url, sql, **params)

    def events(self, sender: str) -> list[dict[str, Any]]:
        """The conversation's events as the tracker store holds them."""
        rows = _query(
            self.tracker_url,
            "SELECT data FROM events WHERE sender_id = :s ORDER BY id",
            s=sender,
        )
        return [json.loads(row[0]) for row in rows]

    def slots(self, sender: str) -> dict[str, Any]:
        """Slot values of the conversation's latest session, replayed from the stored events."""
        slots: dict[str, Any] = {}
        for event in self.events(sender):
            if event.get("event") in ("session_started", "restart"):
                slots = {}
            elif event.get("event") == "slot":
                slots[event["name"]] = event.get("value")
        return slots

    def kill(self, name: str) -> None:
        """SIGKILL a server's whole process group: no shutdown code runs, as in a crash."""
        proc = self.stack.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    def ensure_running(self) -> None:
        """Restart whatever a test left stopped (so the next test gets a whole stack)."""
        for name, start in (("actions", self.stack.start_actions), ("rasa", self.stack.start_rasa)):
            proc = self.stack.processes.get(name)
            if proc is None or proc.poll() is not None:
                self.stack.processes.pop(name, None)
                start()
        for proxy in (self.pg_proxy, self.redis_proxy):
            if proxy is not None:
                proxy.restore()
        self.stack.wait_ready(timeout=240)


def _query(url: str, sql: str, **params: object) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _start(settings_overrides: dict[str, Any], log_dir: Path) -> Stack:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` first")
    settings = replace(
        load_settings(),
        rasa_host="127.0.0.1",
        rasa_port=free_port(),
        action_server_port=free_port(),
        trusted_proxies=TEST_PROXIES,
        # the web chat relay's pub/sub channel: its own per stack (shared Redis, other runs)
        live_relay_channel=f"qc-test-{uuid.uuid4().hex[:12]}",
        **settings_overrides,
    )
    stack = Stack(settings, log_dir=log_dir)
    stack.start(timeout=240)
    return stack


@pytest.fixture(scope="session")
def faults_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    root = tmp_path_factory.mktemp("faults_sqlite")
    db_url = f"sqlite:///{root / 'quickconnect.db'}"
    tracker_url = f"sqlite:///{root / 'tracker.db'}"
    _prepare_database(db_url)
    stack = _start(
        {"database_url": db_url, "tracker_store_url": tracker_url, "lock_store_url": ""},
        root / "log",
    )
    try:
        yield FaultStack("sqlite", stack, db_url, tracker_url)
    finally:
        stack.stop()


def _via(url: str, proxy: FaultProxy) -> str:
    """The same URL with host and port replaced by the proxy's."""
    parts = urllib.parse.urlsplit(url)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}").geturl()


@pytest.fixture(scope="session")
def faults_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    if not base_url:
        pytest.skip("TEST_POSTGRES_URL is set empty: PostgreSQL tests disabled on purpose")
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    name = f"qc_faults_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {base_url}: {error}")
    db_url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    pg = urllib.parse.urlsplit(db_url)
    rd = urllib.parse.urlsplit(redis_url)
    pg_proxy = FaultProxy(pg.hostname or "127.0.0.1", pg.port or 5432).start()
    redis_proxy = FaultProxy(rd.hostname or "127.0.0.1", rd.port or 6379).start()
    root = tmp_path_factory.mktemp("faults_postgres")
    stack: Stack | None = None
    try:
        _prepare_database(db_url)
        proxied = _via(db_url, pg_proxy)
        stack = _start(
            {
                "database_url": proxied,
                "tracker_store_url": proxied.replace("+psycopg2", ""),
                "lock_store_url": _via(redis_url, redis_proxy),
            },
            root / "log",
        )
        yield FaultStack(
            "postgres",
            stack,
            db_url,
            db_url.replace("+psycopg2", ""),
            pg_proxy=pg_proxy,
            redis_proxy=redis_proxy,
        )
    finally:
        if stack:
            stack.stop()
        pg_proxy.close()
        redis_proxy.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def fstack(request: pytest.FixtureRequest) -> Iterator[FaultStack]:
    """Each fault case runs on both stacks; whatever it broke is restarted afterwards."""
    fault_stack: FaultStack = request.getfixturevalue(f"faults_{request.param}")
    yield fault_stack
    fault_stack.ensure_running()


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


ACCOUNT_STATE_SQL = {
    "plan": """SELECT p.name FROM account_plans ap JOIN service_plans p ON p.id = ap.plan_id
               WHERE ap.customer_id = :cid AND ap.status = 'active'""",
    "consents": "SELECT count(*) FROM consent_records WHERE customer_id = :cid",
    "interactions": "SELECT count(*) FROM interaction_log WHERE customer_id = :cid",
    "outbox": "SELECT count(*) FROM notifications_outbox WHERE customer_id = :cid",
    "applied": "SELECT count(*) FROM pending_changes WHERE customer_id = :cid"
    " AND status = 'applied'",
}


def account_state(fault_stack: FaultStack, account: str) -> dict[str, Any]:
    """What a plan change touches on one account: the active plan and the row counts of the
    consent records, interaction log, outbox and applied changes (all move together)."""
    (cid,) = fault_stack.query("SELECT id FROM customers WHERE account_number = :a", a=account)[0]
    state: dict[str, Any] = {}
    for key, sql in ACCOUNT_STATE_SQL.items():
        rows = fault_stack.query(sql, cid=cid)
        state[key] = [r[0] for r in rows] if key == "plan" else int(rows[0][0])
    return state


def one_change_later(before: dict[str, Any], plan: str) -> dict[str, Any]:
    """The state after exactly one applied plan change to `plan` (one of each row)."""
    return {
        "plan": [plan],
        "consents": before["consents"] + 1,
        "interactions": before["interactions"] + 1,
        "outbox": before["outbox"] + 1,
        "applied": before["applied"] + 1,
    }
