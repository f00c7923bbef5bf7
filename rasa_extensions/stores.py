"""The stores endpoints.yml names: the lock store and the SQL tracker store.

The lock store is chosen by the LOCK_STORE_URL environment variable. Rasa's endpoints.yml
cannot express "in memory unless a URL is set" (its `${VAR}` syntax has no defaults), so
this factory reads the setting: empty means in-memory (one server process),
`redis://host:port/db` means Redis (needed once several Rasa processes share conversations).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from quickconnect.config import load_settings
from quickconnect.db.session import use_wal


def lock_store_from_url(url: str) -> LockStore:
    """Build the lock store a URL names; an empty URL gives the in-memory store."""
    if not url:
        return InMemoryLockStore()
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(
            f"LOCK_STORE_URL must be empty or redis://..., got scheme {parts.scheme!r}"
        )
    db = int(parts.path.lstrip("/") or 0)
    return RedisLockStore(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 6379,
        db=db,
        username=parts.username,
        password=parts.password,
        use_ssl=parts.scheme == "rediss",
        key_prefix="quickconnect",
    )


class EnvLockStore:
    """Named as `type:` in endpoints.yml; Rasa instantiates it and gets the real store."""

    def __new__(cls, endpoint_config: Any = None) -> LockStore:  # type: ignore[misc]
        return lock_store_from_url(load_settings().lock_store_url)


class TunedSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store; on SQLite, in WAL mode with `synchronous=NORMAL`.

    Rasa runs the tracker store's queries on the server's event loop, so a slow commit holds
    up every conversation. With SQLite's defaults each commit waits for an fsync of the
    rollback journal and the database (11% of the Rasa server's time under `make bench`). In
    WAL mode with `synchronous=NORMAL` a commit only appends to the log: a crash of the
    process loses nothing, a power cut at most the last transactions (SQLite's documented
    trade-off). PostgreSQL (production) is left exactly as Rasa configures it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            # SQLAlchemy 1.4 gives file SQLite a NullPool: a new connection per query, and
            # closing the last one checkpoints the WAL (an fsync). Keep connections open.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=QueuePool,
                pool_size=2,
                connect_args={"check_same_thread": False},
            )
            event.listen(self.engine, "connect", use_wal)
            self.sessionmaker = sessionmaker(bind=self.engine)
