"""Engines and the unit of work.

Services never commit: a caller opens `unit_of_work()` around one customer request, so every
change that request makes lands in one transaction or not at all.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, create_engine, make_url
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool, StaticPool

from quickconnect.config import load_settings

logger = logging.getLogger(__name__)
SQLITE_BUSY_TIMEOUT_S = 5.0  # pysqlite's default `timeout`, kept explicit


def make_engine(url: str, *, statement_timeout_ms: int | None = None) -> Engine:
    """Build a 2.0-style engine tuned for the backend named in `url`.

    SQLite gets foreign keys and real transactions (BEGIN IMMEDIATE, so read-then-write units
    of work wait for each other instead of failing on a lock upgrade). PostgreSQL gets a
    statement timeout so a stuck query cannot hang a chat turn; libpq `options` already in the
    URL (e.g. `-csearch_path=...`) are kept.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        if statement_timeout_ms is None:
            statement_timeout_ms = load_settings().db_statement_timeout_ms
        options = [f"-c statement_timeout={int(statement_timeout_ms)}"]
        extra = parsed.query.get("options")
        if isinstance(extra, tuple):
            options.extend(extra)
        elif extra:
            options.append(extra)
        engine = create_engine(
            parsed.difference_update_query(["options"]),
            future=True,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "options": " ".join(options)},
        )
        event.listen(engine, "begin", _begin_postgresql)
        return engine
    return create_engine(parsed, future=True, pool_pre_ping=True)


def use_wal(dbapi_connection: Any, _record: Any = None) -> None:
    """SQLite file in WAL mode with `synchronous=NORMAL` (also a "connect" event listener).

    Readers don't wait for the writer, and a commit appends to the log instead of waiting for
    two fsyncs, so concurrent chats don't queue behind each other's commits. A process crash
    loses nothing; a power cut at most the last commits (SQLite's documented trade-off).
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Execution option that `unit_of_work(read_only=True)` sets on its connection.
READ_ONLY = "quickconnect_read_only"


def _is_read_only(connection: Connection) -> bool:
    return bool(connection.get_execution_options().get(READ_ONLY, False))


def _begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock at BEGIN, so a read-then-write unit of work cannot fail on a
    lock upgrade halfway through."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _set_query_only(connection: Connection, on: bool) -> None:
    """SQLite's `PRAGMA query_only` for this connection, issued only when it changes."""
    if connection.info.get("quickconnect_query_only", False) != on:
        connection.exec_driver_sql(f"PRAGMA query_only={'ON' if on else 'OFF'}")
        connection.info["quickconnect_query_only"] = on


def _begin_sqlite(connection: Connection, turn: WriterTurn | None) -> None:
    """BEGIN for one SQLite unit of work: deferred and query-only when it only reads, else
    BEGIN IMMEDIATE (in the writer turn, when the engine has one)."""
    if _is_read_only(connection):
        _set_query_only(connection, True)
        connection.exec_driver_sql("BEGIN")
        return
    _set_query_only(connection, False)
    if turn is None:
        _begin_immediate(connection)
        return
    turn.take(connection.info)
    try:
        _begin_immediate(connection)
    except BaseException:
        turn.give_back(connection.info)
        raise


def _begin_postgresql(connection: Connection) -> None:
    """A read-only unit of work is a READ ONLY transaction (psycopg2 begins implicitly here)."""
    if _is_read_only(connection):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


class WriterTurn:
    """One write transaction at a time per engine, handed straight to the next thread.

    Every SQLite unit of work starts with BEGIN IMMEDIATE, which takes the database's single
    write lock. A thread that finds it taken is left to SQLite's busy handler, which sleeps
    1, 2, 5, 10, 15, 20, 25, 25, 25, 50... ms between tries, so it oversleeps the lock it
    waits for. Under `qa.bench` (10 chats at once on the action server) that wait was 36 ms at
    the 95th percentile and up to 130 ms, for transactions that hold the lock for about a
    millisecond. Threads of one process now queue on a Python lock first, which wakes the next
    one as soon as the previous transaction ends; other processes on the same file still
    meet SQLite's lock and busy handler as before.

    A read-only unit of work (`unit_of_work(read_only=True)`) neither takes the turn nor
    SQLite's write lock: in WAL mode it reads the last committed state beside the writer.

    The turn is taken when the connection begins its transaction and given back on commit or
    rollback (or when the pool takes the connection back or drops it, so it cannot leak). A
    second unit of work the same thread opens while it holds the turn does not wait for it;
    SQLite decides, exactly as it did before. If the turn is not free within SQLite's own busy
    timeout, the transaction goes ahead without it and SQLite decides.
    """

    FLAG = "quickconnect_writer_turn"

    def __init__(self, timeout: float = SQLITE_BUSY_TIMEOUT_S) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0

    def take(self, info: dict[str, Any]) -> None:
        """Wait for the turn for the connection whose `info` this is."""
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
        elif self._lock.acquire(timeout=self.timeout):
            self._owner, self._depth = me, 1
        else:
            logger.warning("SQLite writer turn not free after %.0f s; going ahead", self.timeout)
            return
        info[self.FLAG] = True

    def give_back(self, info: dict[str, Any]) -> None:
        """Release the turn if this connection holds it (idempotent)."""
        if not info.pop(self.FLAG, False):
            return
        self._depth -= 1
        if self._depth <= 0:
            self._owner, self._depth = None, 0
            self._lock.release()

    def attach(self, engine: Engine) -> None:
        """Give the turn back once COMMIT or ROLLBACK ran (`_begin_sqlite` takes it)."""
        # The dialect's do_commit/do_rollback get the pooled connection, whose `info` is the
        # one `begin` saw. (The engine's "commit"/"rollback" events fire *before* the
        # statement, which would let the next thread in while this one still commits.)
        dialect = engine.dialect
        for name in ("do_commit", "do_rollback"):
            setattr(dialect, name, self._giving_back_after(getattr(dialect, name)))

        def _on_pool_event(_dbapi_connection: Any, record: Any, *_: Any) -> None:
            self.give_back(record.info)

        for name in ("checkin", "invalidate"):
            event.listen(engine.pool, name, _on_pool_event)

    def _giving_back_after(self, end: Any) -> Any:
        def end_then_give_back(dbapi_connection: Any) -> None:
            try:
                end(dbapi_connection)
            finally:
                info = getattr(dbapi_connection, "info", None)
                if isinstance(info, dict):
                    self.give_back(info)

        return end_then_give_back


def _make_sqlite_engine(url: str) -> Engine:
    """SQLite with FK enforcement and transactions SQLAlchemy controls (pysqlite's are lazy)."""
    parsed = make_url(url)
    database = parsed.database or ""
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
    }
    if database in ("", ":memory:"):
        kwargs["poolclass"] = StaticPool  # one shared in-memory database, not one per connection
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 would use a NullPool here: a new connection (and PRAGMAs) per unit of
        # work, and closing the last one checkpoints the WAL. Keep a few connections open.
        kwargs["poolclass"] = QueuePool
    # Money is Numeric(10, 2) and read back quantized to cents, which SQLite's floats hold
    # exactly; the generic warning about Decimal on SQLite would only be noise.
    warnings.filterwarnings(
        "ignore",
        message=r"Dialect sqlite\+pysqlite does \*not\* support Decimal",
        category=SAWarning,
    )
    engine = create_engine(parsed, future=True, **kwargs)
    on_disk = database not in ("", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # stop pysqlite's own implicit BEGINs
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        if on_disk:
            use_wal(dbapi_connection)

    turn = WriterTurn() if on_disk else None
    if turn is not None:
        turn.attach(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        _begin_sqlite(connection, turn)

    return engine


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for the configured DATABASE_URL (created on first use)."""
    return make_engine(load_settings().database_url)


def reset_engine() -> None:
    """Dispose of the cached engine, e.g. after DATABASE_URL changed."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()


@contextmanager
def unit_of_work(
    engine: Engine | Connection | None = None, *, read_only: bool = False
) -> Iterator[Session]:
    """Yield a Session inside ONE transaction: commit on success, roll back on any exception.

    `read_only=True` is for a unit of work that only reads. On an engine it is a transaction
    that cannot write: PostgreSQL's READ ONLY; on SQLite a deferred BEGIN with `PRAGMA
    query_only`, outside the writer turn, so it neither waits for nor delays the chats that
    write. A write in it fails instead of landing. (Other backends: an ordinary transaction.)

    Given a Connection that is already in a transaction (a test, or a caller that owns the
    transaction), the unit of work runs in a SAVEPOINT instead, so its commit or rollback
    only covers what it did; that transaction's own mode applies, `read_only` does not.
    """
    bind: Engine | Connection = engine if engine is not None else get_engine()
    options: dict[str, Any] = {}
    if isinstance(bind, Connection):
        if bind.in_transaction():
            bind.begin_nested()
    elif read_only:
        options[READ_ONLY] = True
    with Session(bind=bind, future=True) as session, session.begin():
        # Join the transaction (or savepoint) now, so it is always closed.
        session.connection(execution_options=options or None)
        yield session
