"""The stores the Rasa server uses: lock store (real Redis), tracker store (SQLite and the
real PostgreSQL), and the compiled check of action-server responses."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import NullPool, QueuePool

from rasa_extensions import action_schema
from rasa_extensions.stores import TunedSQLTrackerStore, lock_store_from_url
from tests.conftest import postgres_base_url, scratch_database

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
