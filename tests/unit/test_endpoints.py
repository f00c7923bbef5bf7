"""Kept HTTP sessions for Rasa's endpoint calls (rasa_extensions/speedups/endpoints.py),
against a real aiohttp server on a local port."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

import rasa_extensions  # noqa: F401  (installs the kept sessions, as in the Rasa server)
from rasa_extensions.speedups.endpoints import kept_session


async def _serve(seen: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append(
            {
                "peer": peer,
                "body": await request.read(),
                "authorization": request.headers.get("Authorization"),
                "custom": request.headers.get("X-Custom"),
                "token": request.query.get("token"),
            }
        )
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/webhook"


def test_calls_share_one_connection_and_send_the_same_json() -> None:
    seen: list[dict[str, Any]] = []
    body = {"text": "café / Zürich ✓", "amount": 84.2, "ids": [1, None, True], "nested": {}}

    async def run() -> list[Any]:
        runner, url = await _serve(seen)
        try:
            endpoint = EndpointConfig(
                url,
                headers={"X-Custom": "yes"},
                token="t0k",
                basic_auth={"username": "rasa", "password": "pw"},
            )
            return [await endpoint.request(json=body, method="post") for _ in range(3)]
        finally:
            await runner.cleanup()

    answers = asyncio.run(run())
    assert answers == [{"events": [], "responses": []}] * 3
    assert len(seen) == 3
    assert len({call["peer"] for call in seen}) == 1  # one TCP connection for all three calls
    for call in seen:
        assert json.loads(call["body"]) == body
        assert call["authorization"] and call["authorization"].startswith("Basic ")
        assert call["custom"] == "yes"
        assert call["token"] == "t0k"


def test_each_event_loop_gets_its_own_session() -> None:
    async def current() -> Any:
        return kept_session(EndpointConfig("http://127.0.0.1:1")).session

    first, second = asyncio.run(current()), asyncio.run(current())
    assert first is not second

    async def twice() -> tuple[Any, Any, Any]:
        plain = EndpointConfig("http://127.0.0.1:1")
        other = EndpointConfig("http://127.0.0.1:2")
        with_headers = EndpointConfig("http://127.0.0.1:1", headers={"X": "1"})
        return (
            kept_session(plain).session is kept_session(other).session,  # URL is per request
            kept_session(plain).session is kept_session(with_headers).session,
            kept_session(plain).session.closed,
        )

    assert asyncio.run(twice()) == (True, False, False)
