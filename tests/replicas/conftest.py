"""Two Rasa servers and two action servers behind HAProxy, on PostgreSQL and Redis.

`make test-replicas` runs these tests (they are not in the plain pytest run). The stack is
`ops.replicas.ReplicaSet`: a database created for this run on the shared PostgreSQL (dropped
afterwards), the shared Redis with a pub/sub channel of the run's own, HAProxy running
deploy/haproxy/haproxy.cfg (the compose file's balancer) on free ports. PostgreSQL, Redis or
HAProxy missing fails the run.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa

from ops.replicas import ReplicaSet, haproxy_binary
from quickconnect import reply_guard
from quickconnect.config import load_settings
from tests.e2e.conftest import DEFAULT_PG, DEFAULT_REDIS, TEST_PROXIES, _prepare_database

pytestmark = pytest.mark.replicas


@dataclass
class Replicas:
    """The running replica set plus direct reads of its databases."""

    set: ReplicaSet
    db_url: str
    tracker_url: str

    @property
    def url(self) -> str:
        return self.set.lb_url

    def query(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        engine = sa.create_engine(self.db_url, future=True)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(sa.text(sql), params)]
        finally:
            engine.dispose()

    def events(self, sender: str) -> list[dict[str, Any]]:
        """The conversation's events as the tracker store holds them, in order."""
        engine = sa.create_engine(self.tracker_url, future=True)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                    {"s": sender},
                )
                return [json.loads(row[0]) for row in rows]
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    haproxy_binary()  # fails at once, with the install command, when HAProxy is missing
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG)
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    if not base_url or not redis_url:
        pytest.skip("TEST_POSTGRES_URL or TEST_REDIS_URL set empty: replica tests disabled")
    name = f"qc_replicas_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {base_url}: {error}")
    db_url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    os.environ[reply_guard.ENV_VAR] = reply_guard.STRICT  # the servers inherit it
    settings = replace(
        load_settings(),
        database_url=db_url,
        tracker_store_url=db_url.replace("+psycopg2", ""),
        lock_store_url=redis_url,
        live_relay_url="",  # follows the lock store: Redis
        live_relay_channel=f"qc-test-replicas-{uuid.uuid4().hex[:12]}",
        trusted_proxies=TEST_PROXIES,
    )
    replica_set = ReplicaSet(settings, log_dir=tmp_path_factory.mktemp("replicas") / "log")
    try:
        _prepare_database(db_url)
        replica_set.start()
        yield Replicas(replica_set, db_url, settings.tracker_store_url)
    finally:
        replica_set.stop()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
