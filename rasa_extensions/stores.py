"""Lock store chosen by the LOCK_STORE_URL environment variable.

Rasa's endpoints.yml cannot express "in memory unless a URL is set" (its `${VAR}` syntax has
no defaults), so this factory reads the setting: empty means in-memory (one server process),
`redis://host:port/db` means Redis (needed once several Rasa processes share conversations).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from quickconnect.config import load_settings


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
