"""A TCP proxy between a stack and PostgreSQL or Redis that a test can cut and restore.

PostgreSQL and Redis are shared system services (other engineers' tests use them), so a test
never stops them: it points a stack at this proxy instead and makes the service "unavailable"
to that stack alone. Modes:

- `forward`: bytes go both ways (the normal state);
- `refuse`: new connections are closed at once (what a restarting server looks like) and,
  when cut, every live connection is dropped;
- `blackhole`: new connections are accepted and then never answered, live ones are dropped
  (a network partition as the client's first packet meets it);
- `stall`: live connections stay open but carry nothing, new ones are never answered (a
  partition that neither side is told about: a half-open connection).

The proxy runs its own asyncio loop in a daemon thread; every wait in it is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

Mode = Literal["forward", "refuse", "blackhole", "stall"]


class FaultProxy:
    """Listens on 127.0.0.1:<port> and forwards to `target_host:target_port` unless cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "forward"
        self.port = 0
        self.accepted = 0  # connections accepted in any mode (tests read it to see traffic)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._live: set[asyncio.StreamWriter] = set()
        self._held: set[asyncio.StreamWriter] = set()  # accepted while blackholed
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # --- control, from the test's thread --------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self, mode: Mode = "refuse") -> None:
        """Make the service unavailable: `mode` for new connections, live ones dropped."""
        self._call(self._set_mode(mode, drop_live=True))

    def stall(self) -> None:
        """Live connections stay open and go silent; new ones are held unanswered."""
        self._call(self._set_mode("stall", drop_live=False))

    def restore(self) -> None:
        self._call(self._set_mode("forward", drop_live=False))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    @property
    def live_connections(self) -> int:
        return len(self._live)

    def _call(self, coro: object, timeout: float = 10.0) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    # --- the loop's side ------------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _set_mode(self, mode: Mode, *, drop_live: bool) -> None:
        self.mode = mode
        doomed = set(self._held) | (set(self._live) if drop_live else set())
        for writer in doomed:
            writer.transport.abort()  # RST: the client sees its connection die
        self._held.clear()
        if drop_live:
            self._live.clear()

    async def _shutdown(self) -> None:
        await self._set_mode("refuse", drop_live=True)
        if self._server is not None:
            self._server.close()
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "refuse":
            writer.transport.abort()
            return
        if self.mode in ("blackhole", "stall"):
            self._held.add(writer)  # kept open, never answered; dropped at the next change
            return
        self._live.add(writer)
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 5)
        except (OSError, TimeoutError):
            self._live.discard(writer)
            writer.transport.abort()
            return
        self._live.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )
        for side in (writer, up_writer):
            self._live.discard(side)
            side.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if self.mode == "stall":
                    continue  # lost on the way; the connection stays up
                if self.mode != "forward":
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, ConnectionError):
            pass
        finally:
            writer.transport.abort()
