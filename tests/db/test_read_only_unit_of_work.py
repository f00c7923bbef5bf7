"""`unit_of_work(read_only=True)` on the real backends: it reads, it cannot write, and on
SQLite it does not wait for a write transaction that is in progress."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from quickconnect.db import models as m
from quickconnect.db.session import make_engine, unit_of_work


def _read_only_setting(engine: Engine, backend: str, *, read_only: bool) -> str:
    query = "PRAGMA query_only" if backend == "sqlite" else "SHOW transaction_read_only"
    with unit_of_work(engine, read_only=read_only) as session:
        return str(session.execute(sa.text(query)).scalar_one())


def test_a_read_only_unit_of_work_reads_but_cannot_write(
    backend: str, scratch_engine: Engine
) -> None:
    with unit_of_work(scratch_engine, read_only=True) as session:
        customers = session.execute(select(func.count(m.Customer.id))).scalar_one()
    assert customers > 0
    with (
        pytest.raises(sa.exc.DBAPIError, match="(?i)read.?only"),
        unit_of_work(scratch_engine, read_only=True) as session,
    ):
        session.add(m.Agent(username="ro.write", display_name="x", password_hash="x"))
    with unit_of_work(scratch_engine) as session:
        landed = session.execute(
            select(func.count(m.Agent.id)).where(m.Agent.username == "ro.write")
        ).scalar_one()
    assert landed == 0


def test_the_read_only_mode_does_not_stay_on_the_pooled_connection(
    backend: str, scratch_engine: Engine
) -> None:
    on, off = ("1", "0") if backend == "sqlite" else ("on", "off")
    assert _read_only_setting(scratch_engine, backend, read_only=True) == on
    assert _read_only_setting(scratch_engine, backend, read_only=False) == off
    assert _read_only_setting(scratch_engine, backend, read_only=True) == on
    # and a writing unit of work after a read-only one on the same connection still writes
    with unit_of_work(scratch_engine) as session:
        session.add(m.Agent(username="ro.after", display_name="x", password_hash="x"))
    with unit_of_work(scratch_engine) as session:
        agent = session.execute(select(m.Agent).where(m.Agent.username == "ro.after")).scalar_one()
        session.delete(agent)


def test_on_sqlite_a_read_does_not_wait_for_a_write_in_progress(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ro.db'}")
    with unit_of_work(engine) as session:
        session.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(sa.text("INSERT INTO counter (n) VALUES (1)"))
    writing, finish = threading.Event(), threading.Event()

    def slow_write() -> None:
        with unit_of_work(engine) as session:  # holds the writer turn and the write lock
            session.execute(sa.text("UPDATE counter SET n = 2"))
            writing.set()
            finish.wait(10)

    def read(read_only: bool) -> int:
        with unit_of_work(engine, read_only=read_only) as session:
            return int(session.execute(sa.text("SELECT n FROM counter")).scalar_one())

    with ThreadPoolExecutor(2) as pool:
        writer = pool.submit(slow_write)
        assert writing.wait(10)
        started = time.perf_counter()
        seen = pool.submit(read, True).result(timeout=2)
        assert time.perf_counter() - started < 1.0
        assert seen == 1  # the last committed state, not the write in progress
        blocked = pool.submit(read, False)  # a writing unit of work waits for its turn
        time.sleep(0.2)
        assert not blocked.done()
        finish.set()
        writer.result(timeout=10)
        assert blocked.result(timeout=10) == 2
    assert read(True) == 2
    engine.dispose()
