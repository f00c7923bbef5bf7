"""The stores endpoints.yml names: the lock store and the SQL tracker store.

The lock store is chosen by the LOCK_STORE_URL environment variable. Rasa's endpoints.yml
cannot express "in memory unless a URL is set" (its `${VAR}` syntax has no defaults), so
this factory reads the setting: empty means in-memory (one server process),
`redis://host:port/db` means Redis (needed once several Rasa processes share conversations).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import (
    FailSafeTrackerStore,
    SQLTrackerStore,
    create_engine_kwargs,
    ensure_schema_exists,
)
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from quickconnect.config import load_settings
from quickconnect.db.session import use_wal

logger = logging.getLogger(__name__)

# Seconds a new tracker-store connection to PostgreSQL may take (the account database's own
# engine uses the same, quickconnect/db/session.py).
PG_CONNECT_TIMEOUT_S = 5


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


@dataclass
class _Remembered:
    """A tracker as it was saved: its object, how many events it had, the last row id."""

    tracker: DialogueStateTracker
    events: int
    last_row_id: int


class TunedSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, plus a cache of recent trackers; on SQLite, in WAL mode.

    Cache: Rasa rebuilds the tracker from every event of the session at each message
    (`retrieve`: load, parse JSON, replay) and counts the stored events again at `save`;
    under `make bench` that was a fifth of the Rasa server's CPU. This store keeps the
    trackers it saved or loaded, and reuses one only when (a) nothing changed it in memory
    since (its event count is the one saved) and (b) the database holds no newer event for
    the conversation (one indexed `max(id)` query), so a write from another Rasa process or
    a failed turn means a normal reload. It relies on Rasa's own rule that a conversation is
    written only under its lock (the lock store). A turn that starts a new session is not
    cached: the database then answers with the new session only. TRACKER_CACHE_SIZE
    conversations are kept (least recently used first out); 0 turns the cache off.

    Rasa runs the tracker store's queries on the server's event loop, so a slow commit holds
    up every conversation. With SQLite's defaults each commit waits for an fsync of the
    rollback journal and the database (11% of the Rasa server's time under `make bench`). In
    WAL mode with `synchronous=NORMAL` a commit only appends to the log: a crash of the
    process loses nothing, a power cut at most the last transactions (SQLite's documented
    trade-off). PostgreSQL (production) is left exactly as Rasa configures it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache_size = load_settings().tracker_cache_size
        self._recent: OrderedDict[str, _Remembered] = OrderedDict()
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
        elif self.engine.dialect.name == "postgresql":
            self._bound_postgresql_waits()

    def _bound_postgresql_waits(self) -> None:
        """PostgreSQL as Rasa configures it, plus a connect timeout and a pre-ping.

        Rasa's engine has neither, and its queries run on the Rasa server's event loop: with
        PostgreSQL unreachable behind a partition a connection attempt waited forever, and
        with it every conversation of the server; after a restart of PostgreSQL the first
        turn met a dead pooled connection (tests/faults/test_outages.py).
        """
        url = self.engine.url
        kwargs = create_engine_kwargs(url)
        kwargs["connect_args"] = {
            **kwargs.get("connect_args", {}),
            "connect_timeout": PG_CONNECT_TIMEOUT_S,
        }
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
        self.sessionmaker = sessionmaker(bind=self.engine)

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Any]:
        """Rasa's session scope without its exit.

        Rasa's reads any ValueError raised inside it as "the PostgreSQL schema is missing" and
        exits the server process (`print_error_and_exit`). psycopg2 raises ValueError for a
        NUL character in a value, so one REST request whose sender id held a NUL stopped the
        Rasa server for every customer (tests/faults/test_bad_input_channels.py). Here the
        error fails that turn only (the channel apologises).
        """
        session = self.sessionmaker()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

    # --- the cache --------------------------------------------------------------------------

    def _last_row_id(self, session: Any, sender_id: str) -> int:
        query = sa.select(sa.func.max(self.SQLEvent.id)).where(self.SQLEvent.sender_id == sender_id)
        return int(session.execute(query).scalar() or 0)

    def _remember(self, sender_id: str, entry: _Remembered | None) -> None:
        self._recent.pop(sender_id, None)
        if entry is None or self.cache_size <= 0:
            return
        self._recent[sender_id] = entry
        while len(self._recent) > self.cache_size:
            self._recent.popitem(last=False)

    def _unchanged(self, sender_id: str) -> _Remembered | None:
        """The remembered tracker, if neither memory nor the database moved past it."""
        entry = self._recent.get(sender_id)
        if entry is None or len(entry.tracker.events) != entry.events:
            return None
        return entry

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker: the remembered one if still current, else loaded."""
        with self.session_scope() as session:
            entry = self._unchanged(sender_id)
            if entry is not None and self._last_row_id(session, sender_id) == entry.last_row_id:
                self._recent.move_to_end(sender_id)
                return entry.tracker
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            self._remember(sender_id, None)
            return None
        events = [json.loads(row.data) for row in rows]
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        self._remember(sender_id, _Remembered(tracker, len(tracker.events), rows[-1].id))
        return tracker

    @staticmethod
    def _row(sender_id: str, event: Event) -> dict[str, Any]:
        """The `events` row Rasa's own `save` writes for an event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": (data.get("parse_data") or {}).get("intent", {}).get("name"),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events (Rasa's rows, same columns) and remember it."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        entry = self._recent.get(sender_id)
        with self.session_scope() as session:
            if entry is not None and entry.tracker is tracker:
                new_events = list(tracker.events)[entry.events :]
            else:
                new_events = list(self._additional_events(session, tracker))
            rows = [self._row(sender_id, event) for event in new_events]
            if rows:  # one executemany, without the ORM's per-object bookkeeping
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            last_row_id = self._last_row_id(session, sender_id)
            session.commit()
        if any(isinstance(event, SessionStarted) for event in new_events):
            self._remember(sender_id, None)  # the database now answers with the new session
        else:
            self._remember(sender_id, _Remembered(tracker, len(tracker.events), last_row_id))


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store failed: the turn stops and the channel apologises."""


async def _retrieve_or_raise(self: FailSafeTrackerStore, sender_id: str) -> Any:
    try:
        return await self._tracker_store.retrieve(sender_id)
    except Exception as error:
        raise TrackerStoreUnavailable(f"tracker store: {error}") from error


async def _retrieve_full_or_raise(self: FailSafeTrackerStore, sender_id: str) -> Any:
    try:
        return await self._tracker_store.retrieve_full_tracker(sender_id)
    except Exception as error:
        raise TrackerStoreUnavailable(f"tracker store: {error}") from error


async def _save_or_raise(self: FailSafeTrackerStore, tracker: DialogueStateTracker) -> None:
    try:
        await self._tracker_store.save(tracker)
    except Exception as error:
        raise TrackerStoreUnavailable(f"tracker store: {error}") from error


def install_strict_tracker_store() -> None:
    """Make a tracker store failure fail the turn instead of forgetting the conversation.

    Rasa wraps the tracker store in `FailSafeTrackerStore`, which answers a failed
    `retrieve` with None (so the conversation starts over: unverified, no slots, "yes" to a
    pending change answered with "not sure what that refers to") and saves into an
    in-memory store nobody reads back (growing with every turn of the outage). Seen with
    PostgreSQL unavailable (tests/faults/test_outages.py). Raising instead lets the channel
    give its apology ("nothing on your account was changed"), and the conversation resumes
    from the database once it is back. Idempotent.
    """
    FailSafeTrackerStore.retrieve = _retrieve_or_raise  # type: ignore[method-assign]
    FailSafeTrackerStore.retrieve_full_tracker = _retrieve_full_or_raise  # type: ignore[method-assign]
    FailSafeTrackerStore.save = _save_or_raise  # type: ignore[method-assign]
