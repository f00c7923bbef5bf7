"""Read-only access to Rasa's SQL tracker store (the `events` table) without Rasa.

Why not Rasa's store class: the insights run in the Rasa server's threads and in commands,
and only need rows; one small engine per URL reads them with plain SQLAlchemy Core.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from quickconnect.config import load_settings

_meta = sa.MetaData()
EVENTS = sa.Table(  # Rasa 3.6's SQLTrackerStore.SQLEvent, the columns read here
    "events",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def _sqlalchemy_url(url: str) -> str:
    return (
        "postgresql+psycopg2://" + url.split("://", 1)[1]
        if url.startswith("postgresql://")
        else url
    )


def tracker_engine(url: str | None = None) -> Engine:
    """An engine on the tracker store (TRACKER_STORE_URL unless given), one per URL."""
    return _engine(_sqlalchemy_url(url or load_settings().tracker_store_url))


@lru_cache(maxsize=4)
def _engine(target: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if target.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 5}
    return sa.create_engine(target, **kwargs)


def ensure_events_table(bind: Engine | Connection) -> None:
    """Create an empty `events` table where Rasa has not yet (a fresh store)."""
    _meta.create_all(bind, tables=[EVENTS], checkfirst=True)


@contextmanager
def reading(
    bind: Engine | Connection | None = None, *, beside: Connection | None = None
) -> Iterator[Connection]:
    """A connection to read events: a new one from an engine (whose store gets an empty
    `events` table if Rasa has not made one yet), or the caller's own connection (tests).

    `beside` is the account database's connection: when the tracker store is the same SQLite
    file, its events are read on that connection, as a second one would wait for its lock.
    """
    if isinstance(bind, Connection):
        yield bind
        return
    engine = bind or tracker_engine()
    if (
        beside is not None
        and engine.dialect.name == "sqlite"
        and engine.url.database == beside.engine.url.database
    ):
        ensure_events_table(beside)
        yield beside
        return
    with engine.begin() as conn:
        ensure_events_table(conn)
    with engine.connect() as conn:
        yield conn


def max_event_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(EVENTS.c.id))).scalar() or 0)


def senders_after(conn: Connection, after_id: int, up_to_id: int) -> list[str]:
    """Conversations with an event in (after_id, up_to_id]."""
    query = (
        sa.select(EVENTS.c.sender_id)
        .where(EVENTS.c.id > after_id, EVENTS.c.id <= up_to_id)
        .distinct()
    )
    return [row[0] for row in conn.execute(query)]


def events_of(
    conn: Connection, senders: Iterable[str], up_to_id: int | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """Every event of these conversations, in order, as (id, event dict)."""
    wanted = list(senders)
    result: dict[str, list[tuple[int, dict[str, Any]]]] = {s: [] for s in wanted}
    if not wanted:
        return result
    query = sa.select(EVENTS.c.id, EVENTS.c.sender_id, EVENTS.c.data).where(
        EVENTS.c.sender_id.in_(wanted)
    )
    if up_to_id is not None:
        query = query.where(EVENTS.c.id <= up_to_id)
    for event_id, sender, data in conn.execute(query.order_by(EVENTS.c.sender_id, EVENTS.c.id)):
        try:
            result[sender].append((int(event_id), json.loads(data)))
        except (TypeError, ValueError):
            continue  # a row that is not JSON says nothing about the conversation
    return result
