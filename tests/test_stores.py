"""The lock store factory against the real Redis (LOCK_STORE_URL)."""

from __future__ import annotations

import os

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

from rasa_extensions.stores import lock_store_from_url

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
