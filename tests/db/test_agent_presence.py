"""Agent presence written by the web chat hub: a console that closes must end up offline.

The hub writes presence in a worker thread. A socket handler cancelled mid-write (the console
closed during a ping) cannot stop that thread, so the hub chains the writes per agent; these
tests run the real hub against the real database of each backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from quickconnect.db import models as m
from quickconnect.db.session import make_engine, reset_engine, unit_of_work
from quickconnect.seed import DEMO_AGENT_USERNAME
from rasa_extensions.webchat import Hub
from tests.conftest import build_database


@pytest.fixture
def hub_db(
    scratch_db: Callable[[], AbstractContextManager[str]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """A seeded database that the process-wide engine (the one the hub uses) points at."""
    with scratch_db() as url:
        build_database(url)
        monkeypatch.setenv("DATABASE_URL", url)
        reset_engine()
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
            reset_engine()


def _agent(engine: Engine) -> tuple[int, bool]:
    with unit_of_work(engine) as session:
        agent = session.execute(
            select(m.Agent).where(m.Agent.username == DEMO_AGENT_USERNAME)
        ).scalar_one()
        return agent.id, agent.is_online


def test_offline_after_a_cancelled_online_write_always_wins(hub_db: Engine) -> None:
    agent_id, _ = _agent(hub_db)

    async def close_during_ping() -> None:
        hub = Hub()
        ping = asyncio.ensure_future(hub.set_presence(agent_id, online=True))
        await asyncio.sleep(0)  # the ping's write has started in its thread
        ping.cancel()  # the console closed: the handler is cancelled mid-write
        await hub.set_presence(agent_id, online=False)  # the handler's `finally`

    for _ in range(25):
        asyncio.run(close_during_ping())
        assert _agent(hub_db)[1] is False


def test_a_cancelled_caller_still_gets_its_write(hub_db: Engine) -> None:
    agent_id, _ = _agent(hub_db)

    async def cancelled_online() -> None:
        hub = Hub()
        write = asyncio.ensure_future(hub.set_presence(agent_id, online=True))
        await asyncio.sleep(0)
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        while hub._presence_writes:  # the shielded write finishes on its own
            await asyncio.sleep(0.01)

    try:
        asyncio.run(cancelled_online())
        assert _agent(hub_db)[1] is True
    finally:
        asyncio.run(Hub().set_presence(agent_id, online=False))
