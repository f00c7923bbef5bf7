"""The real assistant for QA tools: servers on scratch databases, REST turns, database resets.

`scratch_stack()` starts the action server and the Rasa server (through `ops.stack.Stack`, the
same code as `make run`) on free ports, with an account database and a tracker store of their
own: SQLite files in a temporary folder, or a new PostgreSQL database (dropped afterwards).
Nothing the developer's `var/` database holds is touched.

`AccountDatabase.reset()` brings the account database back to the freshly seeded state while
the servers keep running: every table of the schema is emptied and the seeded rows are
inserted again (ids included), in one transaction, on SQLite and PostgreSQL alike. It takes a
fraction of a second, so every conversation can start from the seed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ops.stack import DEFAULT_MODEL, Stack, free_port
from quickconnect.config import load_settings
from quickconnect.db import models
from quickconnect.db.migrate import upgrade
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.seed import seed

DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Endpoints:
    """Where a running assistant is and which stores it uses."""

    rasa_url: str
    database_url: str
    tracker_store_url: str


def post_message(rasa_url: str, sender: str, text: str, timeout: float = 60) -> list[dict]:
    """One customer turn through the REST channel; returns the bot messages of the turn."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local)
        answer = json.loads(response.read())
    if not isinstance(answer, list):
        raise ValueError(f"The REST channel answered {answer!r}, not a list of messages")
    return answer


class AccountDatabase:
    """The account database of a running assistant: reset to the seed, and queried by tests.

    The first `reset()` empties the tables and runs the seed (about 2 s: the seed hashes the
    demo secrets with Argon2id), then keeps a snapshot of every row; later resets empty the
    tables and insert that snapshot again (well under a second), so every conversation sees
    exactly the freshly seeded data, ids included.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.tables = list(models.Base.metadata.sorted_tables)
        self._snapshot: dict[str, list[dict[str, Any]]] | None = None

    def reset(self) -> None:
        """Bring the account database back to the freshly seeded state, in one transaction."""
        with self.engine.begin() as conn:
            self._empty(conn)
            self._restart_sequences(conn)
            if self._snapshot is None:
                with unit_of_work(conn) as session:
                    seed(session)
                self._snapshot = {
                    table.name: [dict(row) for row in conn.execute(table.select()).mappings()]
                    for table in self.tables
                }
            else:
                for table in self.tables:
                    rows = self._snapshot[table.name]
                    if rows:
                        conn.execute(table.insert(), rows)
                self._restart_sequences(conn)

    def _empty(self, conn: sa.engine.Connection) -> None:
        # DELETE, children first: on a few hundred rows it is much faster than TRUNCATE,
        # which rewrites files on PostgreSQL. Sequences are restarted after the inserts.
        for table in reversed(self.tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            return
        has_sequences = conn.execute(
            sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
        ).scalar_one()
        if has_sequences:
            conn.execute(sa.text("DELETE FROM sqlite_sequence"))

    def _restart_sequences(self, conn: sa.engine.Connection) -> None:
        """PostgreSQL: serial/identity sequences continue after the restored ids."""
        if conn.dialect.name != "postgresql":
            return  # SQLite takes max(rowid) + 1 by itself
        for table in self.tables:
            keys = list(table.primary_key.columns)
            if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
                continue
            column = keys[0].name
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'COALESCE(MAX("{column}"), 0) + 1, false) FROM "{table.name}"'
                ),
                {"table": table.name, "column": column},
            )

    def query(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Rows of one read-only SQL statement."""
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql), params or {})]

    def close(self) -> None:
        self.engine.dispose()


class TrackerEvents:
    """Reads a conversation's events straight from the SQL tracker store (`events` table)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = sa.create_engine(url, future=True)

    def since(self, sender: str, after_id: int) -> list[tuple[int, dict[str, Any]]]:
        """(id, event) pairs of `sender` stored after event id `after_id`, oldest first."""
        sql = sa.text(
            "SELECT id, data FROM events WHERE sender_id = :sender AND id > :after ORDER BY id"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"sender": sender, "after": after_id}).all()
        return [(int(row[0]), json.loads(row[1])) for row in rows]

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class QAStack(Stack):
    """`ops.stack.Stack`, optionally with another credentials file (e.g. the REST channel
    only, to isolate a run from an input channel that is being worked on)."""

    credentials: Path | None = None

    def _spawn(self, name: str, args: list[str]) -> None:
        if name == "rasa" and self.credentials is not None:
            args = [str(self.credentials) if arg == "credentials.yml" else arg for arg in args]
        super()._spawn(name, args)


def _prepare_database(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            seed(session)
    finally:
        engine.dispose()


@contextmanager
def _postgres_database(base_url: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database on the server of `base_url`, dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(base_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@contextmanager
def scratch_stack(
    backend: str = "sqlite",
    *,
    model: Path | None = None,
    postgres_url: str | None = None,
    redis_url: str = "",
    log_dir: Path | None = None,
    credentials: Path | None = None,
    timeout: float = 300.0,
) -> Iterator[tuple[Endpoints, Stack]]:
    """Start the real servers on fresh, seeded scratch databases; stop and clean up on exit.

    `backend` is "sqlite" (temporary files, in-memory locks) or "postgres" (a new database on
    `postgres_url`, default TEST_POSTGRES_URL or the local `test` server, for both the account
    database and the tracker store; Redis locks when `redis_url` is given). `credentials`
    replaces the project's credentials.yml for the Rasa server.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    model_path = Path(model) if model else DEFAULT_MODEL
    if not model_path.exists():
        raise FileNotFoundError(f"No trained model at {model_path}: run `make train` first")
    with tempfile.TemporaryDirectory(prefix=f"qa_{backend}_") as tmp:
        root = Path(tmp)
        with _databases(backend, root, postgres_url) as (db_url, tracker_url):
            _prepare_database(db_url)
            settings = replace(
                load_settings(),
                rasa_host="127.0.0.1",
                rasa_port=free_port(),
                action_server_port=free_port(),
                database_url=db_url,
                tracker_store_url=tracker_url,
                lock_store_url=redis_url,
            )
            stack = QAStack(
                settings,
                model_path=model_path,
                log_dir=log_dir or root / "log",
                credentials=credentials,
            )
            try:
                stack.start(timeout=timeout)
                yield Endpoints(stack.rasa_url, db_url, tracker_url), stack
            finally:
                stack.stop()


@contextmanager
def _databases(backend: str, root: Path, postgres_url: str | None) -> Iterator[tuple[str, str]]:
    if backend == "sqlite":
        yield f"sqlite:///{root / 'quickconnect.db'}", f"sqlite:///{root / 'tracker.db'}"
        return
    base = postgres_url or os.environ.get("TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    with _postgres_database(base, "qc_qa") as url:
        yield url, url.replace("+psycopg2", "")


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    """Block until `url` answers 200 (used for servers QA tools start themselves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local)
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
