"""Every agent endpoint refuses unauthenticated and customer requests; logins are rate-limited;
customers only reach their own conversation; Rasa's HTTP API is not reachable."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import websockets

from ops.stack import Stack
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_AGENT_USERNAME
from tests.webstack import conversation_for, http, web_url

T = TypeVar("T")

AGENT_ENDPOINTS = [
    ("GET", "agent/api/me", None),
    ("GET", "agent/api/queue", None),
    ("GET", "agent/api/cases/CS-000001", None),
    ("POST", "agent/api/cases/CS-000001/take", {}),
    ("POST", "agent/api/cases/CS-000001/reply", {"text": "hello"}),
    ("POST", "agent/api/cases/CS-000001/note", {"text": "note"}),
    ("POST", "agent/api/cases/CS-000001/resolve", {"note": "done"}),
    ("POST", "agent/api/cases/CS-000001/handback", {}),
    ("GET", "agent/api/lockouts", None),
    ("POST", "agent/api/lockouts/1/clear", {"note": "checked"}),
]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a worker thread: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _ws_url(stack: Stack, path: str) -> str:
    return web_url(stack, path).replace("http://", "ws://")


async def _customer_session(stack: Stack, session: str | None = None) -> dict[str, Any]:
    async with websockets.connect(_ws_url(stack, "ws")) as ws:
        await ws.send(json.dumps({"type": "hello", "session": session}))
        return json.loads(await asyncio.wait_for(ws.recv(), 30))


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
def test_agent_endpoints_refuse_requests_without_a_session(
    web_stack: Stack, method: str, path: str, body: object
) -> None:
    status, _, answer = http(web_stack, method, path, body)
    assert status == 401 and "sign in" in answer["error"]


@pytest.mark.parametrize(("method", "path", "body"), AGENT_ENDPOINTS)
def test_agent_endpoints_refuse_a_customer_session_or_forged_cookie(
    web_stack: Stack, method: str, path: str, body: object
) -> None:
    welcome = run(_customer_session(web_stack))
    for cookie in (
        f"qc_agent_session={welcome['session']}",  # a customer's own session token
        "qc_agent_session=forged-token-value",
        f"qc_chat_session={welcome['session']}",
    ):
        status, _, _ = http(web_stack, method, path, body, headers={"Cookie": cookie})
        assert status == 401, (path, cookie)


def test_agent_socket_refuses_unauthenticated_and_customer_connections(web_stack: Stack) -> None:
    welcome = run(_customer_session(web_stack))

    async def attempt(headers: dict[str, str]) -> int | None:
        async with websockets.connect(_ws_url(web_stack, "agent/ws"), extra_headers=headers) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 10)
            return ws.close_code

    assert run(attempt({})) == 4401
    assert run(attempt({"Cookie": f"qc_agent_session={welcome['session']}"})) == 4401


def test_signed_in_agent_gets_an_httponly_strict_cookie_and_cross_site_is_refused(
    web_stack: Stack,
) -> None:
    status, headers, answer = http(
        web_stack,
        "POST",
        "agent/login",
        {"username": DEMO_AGENT_USERNAME, "password": DEMO_AGENT_PASSWORD},
    )
    assert status == 200 and answer["agent"]["name"] == "Sam (Support)"
    cookie_header = headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header and "SameSite=Strict" in cookie_header
    token = cookie_header.split(";", 1)[0]
    assert token.split("=", 1)[1] not in json.dumps(answer)  # the token is only in the cookie
    try:
        status, _, me = http(web_stack, "GET", "agent/api/me", headers={"Cookie": token})
        assert status == 200 and me["username"] == DEMO_AGENT_USERNAME
        evil = {"Cookie": token, "Origin": "http://evil.example"}
        status, _, _ = http(web_stack, "POST", "agent/api/cases/CS-000001/take", {}, evil)
        assert status == 403
        status, _, _ = http(
            web_stack,
            "POST",
            "agent/api/cases/CS-000001/note",
            None,
            {"Cookie": token, "Content-Type": "text/plain"},
        )
        assert status == 415  # no simple (form-like) cross-site posts
    finally:
        status, _, _ = http(web_stack, "POST", "agent/logout", {}, {"Cookie": token})
        assert status == 200
    status, _, _ = http(web_stack, "GET", "agent/api/me", headers={"Cookie": token})
    assert status == 401  # revoked on logout


def test_wrong_logins_are_rate_limited(web_stack: Stack) -> None:
    user = f"mallory-{uuid.uuid4().hex[:8]}"
    statuses = [
        http(web_stack, "POST", "agent/login", {"username": user, "password": f"x{i}"})[0]
        for i in range(6)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    status, headers, answer = http(
        web_stack, "POST", "agent/login", {"username": user, "password": "x"}
    )
    assert status == 429 and headers.get("Retry-After") == "900"
    assert "Too many" in answer["error"]


def test_customer_reaches_only_their_own_conversation(web_stack: Stack) -> None:
    async def chat_once() -> str:
        async with websockets.connect(_ws_url(web_stack, "ws")) as ws:
            await ws.send(json.dumps({"type": "hello", "session": None}))
            token = json.loads(await asyncio.wait_for(ws.recv(), 30))["session"]
            await ws.send(json.dumps({"type": "message", "text": "hello there"}))
            while True:  # until the bot's answer
                frame = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if frame["type"] == "message" and frame["from"] == "bot":
                    return token

    token = run(chat_once())
    again = run(_customer_session(web_stack, token))
    assert again["session"] == token  # reload: same conversation
    assert "hello there" in [line["text"] for line in again["history"]]
    # neither an invalid token nor the conversation id itself opens that conversation
    for attempt in ("not a valid token", conversation_for(token)):
        other = run(_customer_session(web_stack, attempt))
        assert other["history"] == [], attempt


def test_rasa_http_api_is_not_reachable(web_stack: Stack) -> None:
    for path in ("/conversations/x/tracker", "/model/parse", "/status", "/webhooks/rest/x"):
        request = f"{web_stack.rasa_url}{path}"
        try:
            urllib.request.urlopen(request, timeout=10)  # noqa: S310
            code = 200
        except urllib.error.HTTPError as error:
            code = error.code
        assert code in (404, 405), path


def test_console_page_cannot_be_framed(web_stack: Stack) -> None:
    status, headers, _ = http(web_stack, "GET", "agent")
    assert status == 200
    assert headers.get("X-Frame-Options") == "DENY"
    assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", "")
