"""A server crashes (SIGKILL) during a conversation: the customer is told, nothing is
half-applied, and after a restart the same conversation goes on where it was."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from rasa_extensions.guards import NO_REPLY_APOLOGY
from tests.faults.conftest import (
    FaultStack,
    account_state,
    one_change_later,
    wait_until,
)

pytestmark = pytest.mark.faults


def _established(port: int) -> int:
    """TCP connections to or from `port` in ESTABLISHED state (Linux /proc/net/tcp*)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            ports = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
            if state == "01" and port in ports:
                count += 1
    return count


@contextmanager
def confirmation_blocked(fault_stack: FaultStack, account: str) -> Iterator[Callable[[], bool]]:
    """Hold a lock the confirming transaction needs, so it stops in the middle and stays
    there; yields a check that says whether it is now waiting in the action server.

    PostgreSQL: the account's active plan row, locked FOR UPDATE. The confirmation has then
    already marked the pending change applied and written the consent record (uncommitted)
    when it waits to end the old plan: a crash there is a crash half-way through.
    SQLite: the database's write lock (BEGIN IMMEDIATE), which the confirmation waits for
    at its start (SQLite writes one transaction at a time, so there is no "half-way").
    """
    port = fault_stack.stack.settings.action_server_port
    # Rasa's kept connections to the action server close after 2 s idle: wait for that, so
    # a connection seen from now on is the confirming turn's call.
    wait_until(lambda: _established(port) == 0, 15, "idle connections to the action server")
    if fault_stack.backend == "sqlite":
        conn = sqlite3.connect(fault_stack.db_url.removeprefix("sqlite:///"), timeout=5)
        conn.isolation_level = None
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield lambda: _established(port) > 0
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(fault_stack.db_url, future=True)
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT ap.id FROM account_plans ap JOIN customers c ON c.id = ap.customer_id"
                    " WHERE c.account_number = :a AND ap.status = 'active' FOR UPDATE OF ap"
                ),
                {"a": account},
            )

            def waiting() -> bool:
                # From another connection, each time in a new transaction: inside one,
                # PostgreSQL shows the same pg_stat_activity snapshot throughout. (Within 5 s:
                # the action server's statement timeout cancels the wait after that.)
                rows = fault_stack.query(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                # the old plan being ended, after the consent record and the claim
                return any("UPDATE account_plans" in str(row[0]) for row in rows)

            yield waiting
            conn.rollback()
    finally:
        engine.dispose()


def _transactions_left(fault_stack: FaultStack) -> int:
    """Other sessions of this PostgreSQL database still inside a transaction."""
    rows = fault_stack.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    )
    return int(rows[0][0])


def test_action_server_killed_in_the_middle_of_a_plan_change(fstack: FaultStack) -> None:
    account, plan = "QC-100005", "Unlimited Plus"
    chat = fstack.chat("kill-actions")
    chat.text(f"I want to switch to {plan}")
    chat.text(account)
    assert "Shall I go ahead?" in chat.text("Pamuk")
    before = account_state(fstack, account)
    change_id = fstack.slots(chat.sender)["pending_change_id"]
    assert change_id

    with confirmation_blocked(fstack, account) as waiting, ThreadPoolExecutor(1) as pool:
        turn = pool.submit(chat.text, "yes")
        wait_until(waiting, 30, "the confirming turn to wait inside the action server")
        fstack.kill("actions")
        seen = turn.result(timeout=90)
    # The customer is told, and told that nothing changed.
    assert seen == NO_REPLY_APOLOGY
    if fstack.backend == "postgres":  # the killed server's transaction is rolled back
        wait_until(lambda: _transactions_left(fstack) == 0, 30, "the orphan transaction to end")
    assert account_state(fstack, account) == before
    assert fstack.query("SELECT status FROM pending_changes WHERE id = :i", i=change_id) == [
        ("proposed",)
    ]
    # The tracker kept the offer open: still verified, still waiting for the yes.
    slots = fstack.slots(chat.sender)
    assert slots["verification_status"] == "verified"
    assert slots["awaiting_confirmation"] is True
    assert slots["pending_change_id"] == change_id

    fstack.stack.start_actions()
    fstack.stack.wait_ready()
    assert "Done" in chat.text("yes")
    assert account_state(fstack, account) == one_change_later(before, plan)
    again = chat.text("yes")
    assert "Done" not in again, again
    assert account_state(fstack, account) == one_change_later(before, plan)


def test_rasa_server_killed_mid_conversation_resumes_it(fstack: FaultStack) -> None:
    account, plan = "QC-100001", "Unlimited Plus"
    chat = fstack.chat("kill-rasa")
    chat.text(f"I want to switch to {plan}")
    chat.text(account)
    assert "Shall I go ahead?" in chat.text("alice.martin@example.com")
    before = account_state(fstack, account)
    slots_before = fstack.slots(chat.sender)

    # Killed while a turn is in flight (its reply is lost), then started again.
    with ThreadPoolExecutor(1) as pool:
        started = threading.Event()

        def say() -> object:
            started.set()
            try:
                return chat.say("what's my plan again?", timeout=60)
            except OSError as error:
                return error

        turn = pool.submit(say)
        started.wait(5)
        fstack.kill("rasa")
        lost = turn.result(timeout=60)
    assert isinstance(lost, OSError | list), lost
    fstack.stack.start_rasa()
    fstack.stack.wait_ready(timeout=240)

    slots = fstack.slots(chat.sender)
    for name in ("verification_status", "verification_token", "pending_change_id"):
        assert slots[name] == slots_before[name], name
    assert slots["awaiting_confirmation"] is True
    assert account_state(fstack, account) == before
    # Still verified (within the TTL) and the offer still stands.
    assert "Done" in chat.text("yes")
    assert account_state(fstack, account) == one_change_later(before, plan)


def test_stalled_action_server_costs_a_bounded_wait(faults_sqlite: FaultStack) -> None:
    """SIGSTOP, not a crash: connections are accepted and never answered. Rasa's own limit
    for an action call is 300 s; here the turn ends after ACTION_TIMEOUT_S (30 s) with the
    apology, and the conversation goes on once the server runs again."""
    chat = faults_sqlite.chat("stall")
    chat.text("which plan am I on?")
    chat.text("QC-100007")
    assert "a month" in chat.text("Kimchi")
    proc = faults_sqlite.stack.processes["actions"]
    os.killpg(proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        reply = chat.text("what's my plan again?")
        took = time.monotonic() - started
    finally:
        os.killpg(proc.pid, signal.SIGCONT)
    assert reply == NO_REPLY_APOLOGY
    assert 25 < took < 30 + 20, took
    assert "a month" in chat.text("what's my plan again?")
