"""The stores the Rasa server uses: lock store (real Redis), tracker store (SQLite and the
real PostgreSQL), and the compiled check of action-server responses."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import NullPool, QueuePool

from rasa_extensions.speedups import action_schema
from rasa_extensions.stores import TunedSQLTrackerStore, lock_store_from_url
from tests.conftest import BACKENDS, postgres_base_url, scratch_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_empty_url_means_in_memory() -> None:
    assert isinstance(lock_store_from_url(""), InMemoryLockStore)


def test_other_schemes_are_refused() -> None:
    with pytest.raises(ValueError, match="redis"):
        lock_store_from_url("memcached://127.0.0.1:11211")


def test_redis_lock_store_locks_a_conversation() -> None:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is set empty: Redis tests disabled on purpose")
    store = lock_store_from_url(REDIS_URL)
    assert isinstance(store, RedisLockStore)
    try:
        store.red.ping()
    except Exception as error:  # a missing Redis is a failure here, not a skip
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    conversation = "conv-redis-test"
    first = store.issue_ticket(conversation)
    second = store.issue_ticket(conversation)
    # A second message for the same conversation waits for the first: that is the lock.
    lock = store.get_lock(conversation)
    assert lock is not None and lock.is_locked(second) and not lock.is_locked(first)
    store.finish_serving(conversation, first)
    assert not store.get_lock(conversation).is_locked(second)
    store.cleanup(conversation, second)
    assert store.get_lock(conversation) is None


# --- the tracker store (endpoints.yml: rasa_extensions.stores.TunedSQLTrackerStore) -------------


def _tracker_round_trip(store: TunedSQLTrackerStore, sender: str) -> None:
    tracker = DialogueStateTracker.from_events(
        sender,
        [ActionExecuted("action_listen"), UserUttered("hi", {"name": "greet", "confidence": 1})],
    )
    asyncio.run(store.save(tracker))
    tracker.update(ActionExecuted("utter_greet"))
    asyncio.run(store.save(tracker))  # only the new event is appended
    again = asyncio.run(store.retrieve(sender))
    assert again is not None
    assert [e.as_dict()["event"] for e in again.events] == ["action", "user", "action"]
    assert again.latest_message.intent["name"] == "greet"


def test_sqlite_tracker_store_runs_in_wal_mode_and_keeps_events(tmp_path: Path) -> None:
    store = TunedSQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'tracker.db'}")
    try:
        _tracker_round_trip(store, "wal-test")
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert not isinstance(store.engine.pool, NullPool)  # connections are kept open
    finally:
        store.engine.dispose()


def test_postgres_tracker_store_is_rasa_s_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    if postgres_base_url() is None:
        pytest.skip("TEST_POSTGRES_URL is set empty: PostgreSQL tests disabled on purpose")
    with scratch_database("postgresql", tmp_path_factory) as url:
        store = TunedSQLTrackerStore(Domain.empty(), host=url)
        try:
            assert store.engine.dialect.name == "postgresql"
            assert isinstance(store.engine.pool, QueuePool)  # as Rasa made it
            _tracker_round_trip(store, f"pg-test-{uuid.uuid4().hex[:8]}")
        finally:
            store.engine.dispose()


# --- action-server responses are validated by a validator compiled once ------------------------


def test_action_responses_are_validated_with_rasa_s_schema() -> None:
    action = RemoteAction("action_anything", None)
    assert action._validate_action_result(
        {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    )
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "no-such-event"}]})
    with pytest.raises(ValidationError):
        action._validate_action_result({"responses": "not a list"})
    assert action_schema.response_validator() is action_schema.response_validator()
    assert RemoteAction._validate_action_result is action_schema.validate_action_result


# --- the tracker cache: reused only while memory and database agree --------------------------


@pytest.fixture(params=BACKENDS)
def cached_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TunedSQLTrackerStore]:
    with scratch_database(request.param, tmp_path_factory) as url:
        store = TunedSQLTrackerStore(Domain.empty(), host=url)
        store.cache_size = 3
        try:
            yield store
        finally:
            store.engine.dispose()


def _first_turn(store: TunedSQLTrackerStore, sender: str) -> DialogueStateTracker:
    """A conversation's first turn as Rasa stores it: a session start, then "hi"."""
    tracker = DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered("hi", {"name": "greet", "confidence": 1}),
        ],
    )
    asyncio.run(store.save(tracker))
    return tracker


def _rows(store: TunedSQLTrackerStore, sender: str) -> list[tuple[str, str | None, str | None]]:
    with store.engine.connect() as conn:
        query = (
            sa.select(
                store.SQLEvent.type_name, store.SQLEvent.intent_name, store.SQLEvent.action_name
            )
            .where(store.SQLEvent.sender_id == sender)
            .order_by(store.SQLEvent.id)
        )
        return [tuple(row) for row in conn.execute(query)]


def test_a_turn_that_starts_a_session_is_loaded_again(cached_store: TunedSQLTrackerStore) -> None:
    first = _first_turn(cached_store, "s1")
    again = asyncio.run(cached_store.retrieve("s1"))
    # The database answers with the session only (from SessionStarted on), so that is loaded.
    assert again is not None and again is not first
    assert [e.type_name for e in again.events] == ["session_started", "action", "user"]


def test_a_saved_tracker_is_reused_and_only_new_events_are_written(
    cached_store: TunedSQLTrackerStore,
) -> None:
    _first_turn(cached_store, "s2")
    tracker = asyncio.run(cached_store.retrieve("s2"))
    assert tracker is not None
    tracker.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted("action_listen"))
    asyncio.run(cached_store.save(tracker))
    assert asyncio.run(cached_store.retrieve("s2")) is tracker  # nothing moved: reused
    rows = _rows(cached_store, "s2")
    assert rows == [
        ("action", None, "action_session_start"),
        ("session_started", None, None),
        ("action", None, "action_listen"),
        ("user", "greet", None),
        ("action", None, "utter_greet"),
        ("action", None, "action_listen"),
    ]
    # What a fresh store (another Rasa process) loads is the same conversation.
    fresh = TunedSQLTrackerStore(Domain.empty(), host=str(cached_store.engine.url))
    try:
        loaded = asyncio.run(fresh.retrieve("s2"))
        assert loaded is not None
        assert [e.as_dict() for e in loaded.events] == [e.as_dict() for e in tracker.events]
    finally:
        fresh.engine.dispose()


def test_a_write_from_another_process_is_seen(cached_store: TunedSQLTrackerStore) -> None:
    _first_turn(cached_store, "s3")
    mine = asyncio.run(cached_store.retrieve("s3"))
    assert mine is not None
    other = TunedSQLTrackerStore(Domain.empty(), host=str(cached_store.engine.url))
    try:
        theirs = asyncio.run(other.retrieve("s3"))
        assert theirs is not None
        theirs.update(ActionExecuted("utter_greet"))
        asyncio.run(other.save(theirs))
    finally:
        other.engine.dispose()
    seen = asyncio.run(cached_store.retrieve("s3"))
    assert seen is not None and seen is not mine
    assert seen.latest_action_name == "utter_greet"


def test_a_turn_that_failed_before_saving_is_not_reused(
    cached_store: TunedSQLTrackerStore,
) -> None:
    _first_turn(cached_store, "s4")
    tracker = asyncio.run(cached_store.retrieve("s4"))
    assert tracker is not None
    tracker.update(ActionExecuted("utter_greet"))  # ... and the turn crashes before save
    again = asyncio.run(cached_store.retrieve("s4"))
    assert again is not None and again is not tracker
    assert again.latest_action_name == "action_listen"  # what the database holds


def test_the_cache_keeps_at_most_its_size_and_zero_turns_it_off(
    cached_store: TunedSQLTrackerStore,
) -> None:
    for n in range(5):
        _first_turn(cached_store, f"lru-{n}")
        asyncio.run(cached_store.retrieve(f"lru-{n}"))
    assert list(cached_store._recent) == ["lru-2", "lru-3", "lru-4"]
    cached_store.cache_size = 0
    cached_store._recent.clear()
    first = asyncio.run(cached_store.retrieve("lru-0"))
    assert first is not None and asyncio.run(cached_store.retrieve("lru-0")) is not first
    assert not cached_store._recent
