"""The web chat's live relay (rasa_extensions/webchat/relay.py) on the real Redis.

Each test uses a channel of its own (pub/sub channels are shared by every database number
of the Redis server, and other runs use the same server), so tests never see each other's
pushes. Two relays in one test stand for two Rasa replicas.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import replace

import pytest
import redis
import redis.asyncio
import websockets

from ops.stack import free_port
from quickconnect.config import load_settings
from rasa_extensions.webchat.hub import Hub
from rasa_extensions.webchat.relay import Envelope, LocalRelay, RedisRelay, relay_for, relay_url
from tests.faults.proxy import FaultProxy

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is set empty: Redis tests disabled on purpose")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:  # a missing Redis is a failure here, not a skip
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture
def channel() -> str:
    return f"qc-test-relay-{uuid.uuid4().hex[:12]}"


class Inbox:
    """What one replica's hub was handed by its relay, in order."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def deliver(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Envelope]:
        async def enough() -> None:
            while len(self.envelopes) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(enough(), timeout)
        return self.envelopes


def push(n: int, conversation: str = "web-1") -> Envelope:
    return {"to": "customer", "conversation": conversation, "payload": {"n": n}}


# --- which relay the settings give ------------------------------------------------------------


def test_the_embedded_default_stays_in_this_process() -> None:
    settings = replace(load_settings(), lock_store_url="", live_relay_url="")
    assert relay_url(settings) == ""
    assert isinstance(relay_for(settings, Inbox().deliver), LocalRelay)


def test_a_redis_lock_store_brings_the_redis_relay() -> None:
    settings = replace(load_settings(), lock_store_url="redis://10.0.0.5:6379/2", live_relay_url="")
    relay = relay_for(replace(settings, live_relay_channel="team-a"), Inbox().deliver)
    assert isinstance(relay, RedisRelay)
    assert (relay.url, relay.channel) == ("redis://10.0.0.5:6379/2", "team-a")


def test_live_relay_url_wins_and_memory_forces_one_process() -> None:
    settings = replace(load_settings(), lock_store_url="redis://10.0.0.5:6379/2")
    assert relay_url(replace(settings, live_relay_url="redis://10.0.0.9:6380/0")) == (
        "redis://10.0.0.9:6380/0"
    )
    assert relay_url(replace(settings, live_relay_url="memory")) == ""
    with pytest.raises(ValueError, match="LIVE_RELAY_URL"):
        relay_url(replace(settings, live_relay_url="amqp://10.0.0.9"))


def test_the_local_relay_delivers_at_once() -> None:
    inbox = Inbox()

    async def scenario() -> None:
        relay = LocalRelay(inbox.deliver)
        await relay.start()
        await relay.publish(push(1))
        await relay.stop()

    asyncio.run(scenario())
    assert inbox.envelopes == [push(1)]


# --- two replicas on the real Redis -------------------------------------------------------------


def test_a_push_from_one_replica_reaches_both_in_order(redis_url: str, channel: str) -> None:
    a, b = Inbox(), Inbox()

    async def scenario() -> None:
        relay_a = RedisRelay(redis_url, channel, a.deliver)
        relay_b = RedisRelay(redis_url, channel, b.deliver)
        await relay_a.start()
        await relay_b.start()
        try:
            for n in range(50):
                await (relay_a if n % 2 else relay_b).publish(push(n))
            await a.wait_for(50)
            await b.wait_for(50)
        finally:
            await relay_a.stop()
            await relay_b.stop()

    asyncio.run(scenario())
    expected = [push(n) for n in range(50)]
    assert a.envelopes == expected  # every push once, in the order it was published
    assert b.envelopes == expected


def test_another_channel_is_another_deployment(redis_url: str, channel: str) -> None:
    ours, theirs = Inbox(), Inbox()

    async def scenario() -> None:
        relay = RedisRelay(redis_url, channel, ours.deliver)
        other = RedisRelay(redis_url, channel + "-other", theirs.deliver)
        await relay.start()
        await other.start()
        try:
            await other.publish(push(1, "web-theirs"))
            await relay.publish(push(2, "web-ours"))
            await ours.wait_for(1)
            await theirs.wait_for(1)
        finally:
            await relay.stop()
            await other.stop()

    asyncio.run(scenario())
    assert ours.envelopes == [push(2, "web-ours")]
    assert theirs.envelopes == [push(1, "web-theirs")]


def test_with_redis_unreachable_a_push_still_reaches_this_replica(channel: str) -> None:
    inbox = Inbox()

    async def scenario() -> None:
        relay = RedisRelay(f"redis://127.0.0.1:{free_port()}/0", channel, inbox.deliver)
        await relay.start(timeout=1.0)  # not subscribed: logged, the server still starts
        try:
            await relay.publish(push(7))
        finally:
            await relay.stop()

    asyncio.run(scenario())
    assert inbox.envelopes == [push(7)]


def test_while_unsubscribed_a_replica_serves_its_own_sockets_once(
    redis_url: str, channel: str
) -> None:
    """Not subscribed (Redis away or the subscription being renewed): delivered here at once,
    still published for the others, and the echo skipped should it come back."""
    ours, theirs = Inbox(), Inbox()
    raw: list[bytes] = []

    async def scenario() -> None:
        unsubscribed = RedisRelay(redis_url, channel, ours.deliver)  # never started
        other = RedisRelay(redis_url, channel, theirs.deliver)
        listener = redis.asyncio.Redis.from_url(redis_url).pubsub()
        await other.start()
        await listener.subscribe(channel)
        try:
            await unsubscribed.publish(push(1))
            await theirs.wait_for(1)
            while not raw:
                message = await listener.get_message(ignore_subscribe_messages=True, timeout=5)
                if message:
                    raw.append(message["data"])
            await unsubscribed._deliver_raw(raw[0])  # its echo, as the subscription would read it
            await unsubscribed.publish(push(2))  # a second one: delivered here once as well
        finally:
            await listener.reset()
            await other.stop()
            await unsubscribed.stop()

    asyncio.run(scenario())
    assert ours.envelopes == [push(1), push(2)]
    assert theirs.envelopes[0] == push(1)


def test_the_subscription_comes_back_after_a_partition(redis_url: str, channel: str) -> None:
    """A connection that silently stops answering is given up, and replaced once Redis is back."""
    parts = redis.connection.parse_url(redis_url)
    proxy = FaultProxy(parts.get("host", "127.0.0.1"), int(parts.get("port", 6379))).start()
    via_proxy = f"redis://127.0.0.1:{proxy.port}/{parts.get('db', 0)}"
    inbox = Inbox()
    reconnected: list[bool] = []

    async def scenario() -> None:
        relay = RedisRelay(via_proxy, channel, inbox.deliver, ping_every=0.2, dead_after=1.0)
        sender = RedisRelay(redis_url, channel, Inbox().deliver)
        await relay.start()
        try:
            await sender.publish(push(1))
            await inbox.wait_for(1)
            before = proxy.accepted
            proxy.stall()  # the subscription's connection stays open and goes silent
            for _ in range(300):  # the relay notices (no pong) and opens another connection
                if proxy.accepted > before:
                    break
                await asyncio.sleep(0.05)
            reconnected.append(proxy.accepted > before)
            proxy.restore()
            # pushes during the gap are lost (pub/sub keeps nothing); keep pushing until one
            # arrives on the new subscription
            for n in range(2, 400):
                await sender.publish(push(n))
                if len(inbox.envelopes) > 1:
                    break
                await asyncio.sleep(0.1)
        finally:
            await relay.stop()
            await sender.stop()

    try:
        asyncio.run(scenario())
    finally:
        proxy.close()
    assert reconnected == [True], "the relay kept a connection that no longer answered"
    assert inbox.envelopes[0] == push(1)
    assert len(inbox.envelopes) > 1, "the relay never read Redis again after the partition"
    later = [e["payload"]["n"] for e in inbox.envelopes[1:]]
    assert later == sorted(set(later)) and later[0] >= 2  # nothing twice, in order


# --- the hub on the relay, with real sockets -------------------------------------------------


def test_an_agent_push_on_one_hub_reaches_a_customer_socket_on_the_other(
    redis_url: str, channel: str
) -> None:
    """Replica B's hub pushes; the customer's socket is held by replica A's hub."""
    settings = replace(load_settings(), live_relay_url=redis_url, live_relay_channel=channel)
    received: dict[str, list[dict]] = {"customer": [], "agent": []}

    async def scenario() -> None:
        hub_a, hub_b = Hub(settings), Hub(settings)
        await hub_a.start()
        await hub_b.start()
        registered = asyncio.Event()

        async def server_side(ws: websockets.WebSocketServerProtocol) -> None:
            if ws.path == "/customer":  # noqa: SIM108 (two kinds of socket, one handler)
                hub_a.customers["web-x"].add(ws)
            else:
                hub_b.agents[ws] = None  # type: ignore[assignment] (who the agent is: unused)
            if hub_a.customers and hub_b.agents:
                registered.set()
            await ws.wait_closed()

        async def client(path: str, into: list[dict], count: int) -> None:
            async with websockets.connect(f"ws://127.0.0.1:{port}{path}") as ws:
                while len(into) < count:
                    into.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))

        async with websockets.serve(server_side, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            readers = asyncio.gather(
                client("/customer", received["customer"], 2), client("/agent", received["agent"], 1)
            )
            await asyncio.wait_for(registered.wait(), 20)
            await hub_b.to_customer("web-x", {"type": "typing", "from": "agent", "on": True})
            await hub_b.to_customer("web-x", {"type": "message", "from": "agent", "text": "Hi"})
            await hub_a.to_customer("web-other", {"type": "message", "text": "not for web-x"})
            await hub_a.to_agents({"type": "queue", "items": []})
            await readers
        await hub_a.stop()
        await hub_b.stop()

    asyncio.run(scenario())
    assert received["customer"] == [
        {"type": "typing", "from": "agent", "on": True},
        {"type": "message", "from": "agent", "text": "Hi"},
    ]
    assert received["agent"] == [{"type": "queue", "items": []}]
