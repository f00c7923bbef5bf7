"""Fuzzing the real servers' inputs (hypothesis): the REST body, the web chat frames and the
agent API's JSON. Whatever arrives: no 500, no traceback or exception text to the client,
and a clear reply (a 4xx with a reason, or the bot's answer); the server goes on serving.

Examples are few per test (each is a real request and, often, a real turn) and drawn with a
fixed seed, so CI sends the same ones every run.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quickconnect.identifiers import find_identifier
from rasa_extensions.guards import NO_REPLY_APOLOGY
from tests.e2e.conftest import fresh_client_address
from tests.faults.conftest import FaultStack

pytestmark = pytest.mark.faults

LIVE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LEAKS = ("Traceback", "Exception", 'File "/', "psycopg2", "sqlalchemy", "sqlite3")

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# JSON objects shaped like the real ones, with every field's value fuzzed.
MESSAGE_KEYS = st.sampled_from(["sender", "message", "metadata", "text", "payload", "type"])


def _no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} reached the client: {text[:300]!r}"


def _request(
    url: str, body: bytes | None, headers: dict[str, str], method: str = "POST"
) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 (local)
            return resp.status, resp.read().decode(errors="replace"), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace"), dict(error.headers)


# --- REST -----------------------------------------------------------------------------------


def _check_rest(status: int, text: str) -> None:
    _no_leak(text)
    assert status in (200, 400), (status, text[:200])
    parsed = json.loads(text)
    if status == 400:
        assert isinstance(parsed, dict) and parsed["error"]
    else:
        assert isinstance(parsed, list) and parsed, text[:200]
        assert all(m.get("text") or m.get("buttons") for m in parsed), parsed
        assert NO_REPLY_APOLOGY not in text, "a turn failed"


@LIVE
@given(
    body=st.dictionaries(MESSAGE_KEYS, JSON, max_size=4)
    | st.fixed_dictionaries({"sender": TEXT, "message": TEXT})
    | JSON
)
@example(body={"sender": "x", "message": "hi\x00there"})
@example(body={"sender": "\x00", "message": "yes"})
@example(body={"sender": "s", "message": "hi", "metadata": {"qc_client": "1.2.3.4"}})
@example(body={"sender": "s", "message": "/inform" + json.dumps({"x": "y" * 300})})
def test_rest_json_bodies(fstack: FaultStack, body: Any) -> None:
    url = f"{fstack.stack.rasa_url}/webhooks/rest/webhook"
    if isinstance(body, dict) and isinstance(body.get("sender"), str):
        body["sender"] = f"fuzz-{uuid.uuid4().hex[:8]}-{body['sender'][:40]}"
    headers = {"Content-Type": "application/json", "X-Forwarded-For": fresh_client_address()}
    _check_rest(*_request(url, json.dumps(body).encode(), headers)[:2])


@LIVE
@given(raw=st.binary(max_size=400))
@example(raw=b'{"sender": "s", "message": "\xff\xfe"}')
@example(raw=b'{"sender": "s", "message": "' + b"a" * 100_000 + b'"}')
def test_rest_raw_bytes(fstack: FaultStack, raw: bytes) -> None:
    url = f"{fstack.stack.rasa_url}/webhooks/rest/webhook"
    _check_rest(*_request(url, raw, {"Content-Type": "application/json"})[:2])


# --- web chat -------------------------------------------------------------------------------

FRAME = (
    st.builds(
        lambda fields: json.dumps(fields),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["message", "typing", "hello", "ping", "x"])},
            optional={"text": JSON, "payload": JSON, "on": JSON, "session": JSON},
        ),
    )
    | TEXT
    | st.builds(json.dumps, JSON)
)


async def _webchat(fstack: FaultStack, hello: str, frames: list[str]) -> list[dict[str, Any]]:
    """Send `hello`, then `frames`, then "hi"; return every frame received until a bot answer
    to "hi" (or the close)."""
    url = fstack.stack.rasa_url.replace("http://", "ws://") + "/webhooks/webchat/ws"
    received: list[dict[str, Any]] = []
    async with websockets.connect(url, open_timeout=20, close_timeout=5, max_size=2**22) as ws:
        await ws.send(hello)
        try:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
        except websockets.ConnectionClosed as closed:
            return [{"closed": closed.code}]
        for frame in frames:
            await ws.send(frame)
        # Let the fuzzed messages' turns finish (quiet for 2 s), then a message of our own.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        while loop.time() < deadline:
            try:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 2)))
            except TimeoutError:
                break
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        while loop.time() < deadline:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            received.append(frame)
            if frame.get("type") == "message" and frame.get("from") == "bot":
                return received
    raise AssertionError(f"no answer to 'hi' after the fuzzed frames: {received[-5:]}")


@settings(LIVE, max_examples=10)
@given(hello=FRAME)
@example(hello=json.dumps({"type": "hello", "session": "A" * 64}))
@example(hello=json.dumps({"type": "hello", "session": {"$ne": None}}))
@example(hello="\x00" * 100)
def test_webchat_first_frames(fstack: FaultStack, hello: str) -> None:
    """A hello of any shape: a welcome (a new conversation), or a close with a reason."""
    try:
        received = asyncio.run(_webchat(fstack, hello, []))
    except websockets.ConnectionClosed as closed:
        raise AssertionError(f"socket closed during the conversation: {closed.code}") from None
    _no_leak(json.dumps(received))
    if received and "closed" in received[0]:
        assert received[0]["closed"] == 1008, received  # "send a hello frame first"
        return
    assert received[0]["type"] == "welcome"
    assert NO_REPLY_APOLOGY not in json.dumps(received)


@settings(LIVE, max_examples=6)
@given(frames=st.lists(FRAME, min_size=1, max_size=4))
@example(frames=[json.dumps({"type": "message", "text": "x" * 9000})])
@example(frames=[json.dumps({"type": "message", "text": "yes\x00"})])
@example(frames=[json.dumps({"type": "message", "payload": '/inform{"verification_status":1}'})])
def test_webchat_frames_after_hello(fstack: FaultStack, frames: list[str]) -> None:
    hello = json.dumps({"type": "hello", "session": None})
    received = asyncio.run(_webchat(fstack, hello, frames))
    _no_leak(json.dumps(received))
    assert received[0]["type"] == "welcome"
    assert NO_REPLY_APOLOGY not in json.dumps(received), "a turn failed"


# --- agent API ------------------------------------------------------------------------------


@pytest.fixture
def agent_cookie(fstack: FaultStack) -> tuple[str, str]:
    """The demo agent signed in, and a real case number (a REST chat asking for a person)."""
    base = f"{fstack.stack.rasa_url}/webhooks/webchat/agent"
    status, text, headers = _request(
        f"{base}/login",
        json.dumps({"username": "agent.demo", "password": "demo-agent-pass"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, text
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    case = find_identifier(fstack.chat("fuzz-case").text("I want to talk to a person"), "CS")
    assert case, "no case opened"
    return cookie, case


@LIVE
@given(
    path=st.sampled_from(["", "/take", "/reply", "/note", "/resolve", "/handback"]),
    real_case=st.booleans(),
    case=st.from_regex(r"[A-Za-z0-9%._-]{1,20}", fullmatch=True),
    body=st.dictionaries(st.sampled_from(["text", "note", "case_number", "x"]), JSON, max_size=3)
    | JSON,
)
@example(path="/note", real_case=True, case="", body={"text": "a\x00b"})
@example(path="/reply", real_case=True, case="", body={"text": ["not", "text"]})
@example(path="/resolve", real_case=True, case="", body={"note": {"deep": [1, 2]}})
def test_agent_api_bodies(
    fstack: FaultStack,
    agent_cookie: tuple[str, str],
    path: str,
    real_case: bool,
    case: str,
    body: Any,
) -> None:
    cookie, real = agent_cookie
    url = f"{fstack.stack.rasa_url}/webhooks/webchat/agent/api/cases/{real if real_case else case}"
    method = "GET" if path == "" else "POST"
    data = None if method == "GET" else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Cookie": cookie}
    status, text, _ = _request(url + path, data, headers, method)
    _no_leak(text)
    assert status in (200, 400, 404, 409), (status, text[:200])
    if status != 200:
        assert json.loads(text)["error"] if text.startswith("{") else status == 404


@LIVE
@given(body=JSON | st.fixed_dictionaries({"username": JSON, "password": JSON}))
@example(body={"username": "agent.demo\x00", "password": "x"})
@example(body={"username": ["agent.demo"], "password": "demo-agent-pass"})
def test_agent_login_bodies(fstack: FaultStack, body: Any) -> None:
    """Runs after the signed-in tests: wrong sign-ins count towards the rate limit (429)."""
    url = f"{fstack.stack.rasa_url}/webhooks/webchat/agent/login"
    status, text, _ = _request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    _no_leak(text)
    assert status in (400, 401, 429), (status, text[:200])
    assert json.loads(text)["error"]
