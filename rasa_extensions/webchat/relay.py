"""How a live push reaches its sockets, on whichever Rasa replica they are open.

Every push of the web chat (a bot or agent line, typing, status, a queue update for the
console) is an envelope: `{"to": "customer", "conversation": id, "payload": ...}` or
`{"to": "agents", "payload": ...}`. The hub publishes it to the relay; the relay hands it to
each process's `deliver`, which writes it to the sockets that process holds.

- `LocalRelay` (the embedded default, one Rasa process): `deliver` is called at once.
- `RedisRelay` (LIVE_RELAY_URL, or LOCK_STORE_URL when that is Redis): PUBLISH on one
  channel that every replica subscribes to, so an agent on replica B reaches a customer whose
  socket is on replica A. Every push goes through Redis, including one for this process's
  own sockets: one path, and one order per channel, as Redis delivers in publish order.

Redis pub/sub keeps nothing: a push made while a replica's subscription is down does not
reach that replica's sockets (the widget and the console reload the transcript when they
reconnect; the tracker and the account database have everything). While its own
subscription is down (Redis away, or being renewed after a reset), a replica delivers its
own pushes to its own sockets directly, so a Redis outage costs only the cross-replica
half: the bot still answers the customers whose sockets are on that replica. The subscriber
pings Redis and starts over on a fresh connection when no answer comes, so a half-open
connection does not silence a replica for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from quickconnect.config import Settings

logger = logging.getLogger(__name__)

Envelope = dict[str, Any]
Deliver = Callable[[Envelope], Awaitable[None]]

# The subscriber pings this often when idle, and gives a connection up when nothing at all
# (message or pong) came for DEAD_AFTER_S: then it reconnects.
PING_EVERY_S = 5.0
DEAD_AFTER_S = 15.0
# Waits between reconnection attempts, doubling up to the last.
RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 5.0)
# Pushes delivered here while unsubscribed whose echo is still awaited (oldest forgotten).
MAX_REMEMBERED = 1000
# Connect and command timeouts of the Redis connections (the lock store's are Rasa's 10 s).
REDIS_TIMEOUT_S = 5.0


class Relay(Protocol):
    """What the hub needs of a relay."""

    kind: str

    @property
    def subscribed(self) -> bool: ...

    async def start(self) -> None: ...

    async def publish(self, envelope: Envelope) -> None: ...

    async def stop(self) -> None: ...


class LocalRelay:
    """One process: a push is delivered to this process's sockets at once."""

    kind = "memory"

    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    @property
    def subscribed(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def publish(self, envelope: Envelope) -> None:
        await self.deliver(envelope)

    async def stop(self) -> None:
        return None


class RedisRelay:
    """Several processes: a push is published on a Redis channel every replica reads."""

    kind = "redis"

    def __init__(
        self,
        url: str,
        channel: str,
        deliver: Deliver,
        *,
        ping_every: float = PING_EVERY_S,
        dead_after: float = DEAD_AFTER_S,
    ) -> None:
        self.url = url
        self.channel = channel
        self.deliver = deliver
        self.ping_every = ping_every
        self.dead_after = dead_after
        self._client: aioredis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        # pushes this replica delivered itself while unsubscribed, whose echo it skips
        self._delivered_here: OrderedDict[str, None] = OrderedDict()
        self.received = 0  # envelopes this process read from the channel (for tests, logs)

    @property
    def subscribed(self) -> bool:
        """Whether pushes from the other replicas reach this one right now."""
        return self._subscribed.is_set()

    def _redis(self) -> aioredis.Redis:
        if self._client is None:  # created on the serving loop, on first use
            self._client = aioredis.Redis.from_url(
                self.url,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                socket_timeout=REDIS_TIMEOUT_S,
            )
        return self._client

    async def start(self, timeout: float = REDIS_TIMEOUT_S) -> None:
        """Subscribe before the server takes sockets; keep reading until `stop`.

        Redis being away at start-up is logged, not fatal: the reader keeps trying, and
        until it succeeds pushes reach this process's own sockets only.
        """
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_forever(), name="webchat-relay")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        if not self._subscribed.is_set():
            logger.error("Web chat relay: not subscribed to Redis %s yet", self.channel)

    async def publish(self, envelope: Envelope) -> None:
        """Publish; while this replica is not subscribed, deliver to its own sockets too.

        Subscribed, the push comes back through Redis like everyone's (one order for all).
        Not subscribed (Redis away, or the subscription being renewed), this replica's own
        sockets would miss it, so it is delivered here at once and marked, and its echo is
        skipped should the subscription return in time to see it.
        """
        local = not self.subscribed
        outgoing = envelope
        if local:
            await self.deliver(envelope)
            outgoing = {**envelope, "relay_id": uuid.uuid4().hex}
        try:
            await self._redis().publish(self.channel, json.dumps(outgoing, default=str))
        except (RedisError, OSError) as error:
            logger.warning("Web chat relay: publish failed (%s); this replica only", error)
            if not local:
                await self.deliver(envelope)
            return
        if local:
            self._delivered_here[outgoing["relay_id"]] = None
            while len(self._delivered_here) > MAX_REMEMBERED:
                self._delivered_here.popitem(last=False)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.close()
            self._client = None

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            try:
                await self._read_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis away, a reset, a half-open connection
                self._subscribed.clear()
                delay = RETRY_DELAYS_S[min(failures, len(RETRY_DELAYS_S) - 1)]
                failures += 1
                logger.warning(
                    "Web chat relay: subscription to %s lost (%s); again in %.1f s",
                    self.channel,
                    error,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _read_once(self) -> None:
        """One subscription: deliver what arrives until the connection fails."""
        pubsub = self._redis().pubsub()
        try:
            await pubsub.subscribe(self.channel)
            last_heard = last_ping = time.monotonic()
            while True:
                message = await pubsub.get_message(timeout=min(1.0, self.ping_every))
                now = time.monotonic()
                if message is not None:
                    kind = message.get("type")
                    if kind == "subscribe":
                        self._subscribed.set()
                    elif kind == "message":
                        await self._deliver_raw(message.get("data"))
                    last_heard = time.monotonic()  # after a delivery that may have waited
                    continue
                if now - last_heard > self.dead_after:
                    raise ConnectionError(f"no answer from Redis for {self.dead_after:.0f} s")
                if now - last_ping >= self.ping_every:
                    last_ping = now
                    await pubsub.ping()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.reset()

    async def _deliver_raw(self, data: Any) -> None:
        try:
            envelope = json.loads(data)
        except (TypeError, ValueError):
            logger.warning("Web chat relay: ignored a message that is not JSON")
            return
        if not isinstance(envelope, dict):
            return
        relay_id = envelope.pop("relay_id", None)
        if relay_id is not None and relay_id in self._delivered_here:
            del self._delivered_here[relay_id]  # published while unsubscribed: delivered here
            return
        self.received += 1
        try:
            await self.deliver(envelope)
        except Exception:  # one bad envelope must not end the subscription
            logger.exception("Web chat relay: delivering a push failed")


def relay_url(settings: Settings) -> str:
    """The Redis URL pushes go through; empty for in-process delivery.

    LIVE_RELAY_URL wins; `memory` forces in-process delivery; empty follows LOCK_STORE_URL
    (replicas need a Redis lock store anyway, and then get the relay without another setting).
    """
    chosen = settings.live_relay_url.strip()
    if chosen.lower() == "memory":
        return ""
    chosen = chosen or settings.lock_store_url.strip()
    if not chosen:
        return ""
    scheme = urlsplit(chosen).scheme
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"LIVE_RELAY_URL must be empty, memory or redis://..., got {scheme!r}")
    return chosen


def relay_for(settings: Settings, deliver: Deliver) -> Relay:
    """The relay the settings ask for."""
    url = relay_url(settings)
    if not url:
        return LocalRelay(deliver)
    return RedisRelay(url, settings.live_relay_channel, deliver)
