"""SQLite write transactions of one process queue on a Python lock (session.WriterTurn).

Real SQLite files and real threads; PostgreSQL does not use the turn.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quickconnect.db.session import WriterTurn, make_engine, unit_of_work


@pytest.fixture
def counter_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'turn.db'}")
    with unit_of_work(engine) as session:
        session.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(sa.text("INSERT INTO counter (n) VALUES (0)"))
    yield engine
    engine.dispose()


def _increment(engine: Engine) -> None:
    """Read, then write what was read plus one: lost updates would show in the total."""
    with unit_of_work(engine) as session:
        n = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
        session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})


def _count(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.execute(sa.text("SELECT n FROM counter")).scalar_one())


def _in_other_thread_seconds(engine: Engine) -> float:
    """How long a unit of work in another thread takes to get through (turn free: ~ms)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_increment, engine).result(timeout=30)
    return time.perf_counter() - started


def test_concurrent_read_then_write_units_of_work_all_land(counter_engine: Engine) -> None:
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(_increment, counter_engine) for _ in range(200)]
        for future in futures:
            future.result(timeout=60)  # no "database is locked", no hang
    assert _count(counter_engine) == 200


def test_the_turn_comes_back_after_commit_rollback_and_a_dropped_connection(
    counter_engine: Engine,
) -> None:
    _increment(counter_engine)  # commit
    assert _in_other_thread_seconds(counter_engine) < 2.0
    with pytest.raises(RuntimeError), unit_of_work(counter_engine) as session:
        session.execute(sa.text("UPDATE counter SET n = -1"))
        raise RuntimeError("rolled back")
    assert _in_other_thread_seconds(counter_engine) < 2.0
    with counter_engine.connect() as connection:
        connection.begin()
        connection.invalidate()  # the pool drops the connection mid-transaction
    # A turn left behind would make the next writer wait the full busy timeout (5 s).
    assert _in_other_thread_seconds(counter_engine) < 2.0
    assert _count(counter_engine) == 4  # one here, three in the other thread; none lost


def test_a_thread_holding_the_turn_does_not_wait_for_itself() -> None:
    turn = WriterTurn(timeout=5.0)
    outer: dict[str, Any] = {}
    inner: dict[str, Any] = {}
    started = time.perf_counter()
    turn.take(outer)
    turn.take(inner)  # a second unit of work of the same thread: SQLite decides, not the turn
    assert time.perf_counter() - started < 1.0
    turn.give_back(inner)
    got_it = threading.Event()

    def other() -> None:
        info: dict[str, Any] = {}
        turn.take(info)
        got_it.set()
        turn.give_back(info)

    waiter = threading.Thread(target=other)
    waiter.start()
    assert not got_it.wait(0.2)  # still held by the outer unit of work
    turn.give_back(outer)
    assert got_it.wait(5.0)
    waiter.join()


def test_a_turn_not_free_in_time_is_skipped_and_never_released_by_the_skipper() -> None:
    turn = WriterTurn(timeout=0.05)
    holder: dict[str, Any] = {}
    turn.take(holder)
    skipper: dict[str, Any] = {}
    thread = threading.Thread(target=turn.take, args=(skipper,))
    thread.start()
    thread.join()
    assert WriterTurn.FLAG not in skipper  # went ahead without the turn
    turn.give_back(skipper)  # a no-op: the holder still has it
    assert turn._lock.locked()
    turn.give_back(holder)
    assert not turn._lock.locked()
