"""Limits, the database call, the socket receive and the JSON replies every part of the
web chat channel uses."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sanic import response
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.response import HTTPResponse
from websockets.connection import CLOSED

from quickconnect.db.session import unit_of_work

logger = logging.getLogger(__package__)  # rasa_extensions.webchat, as before the split

CHANNEL = "webchat"
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
STATIC_FILES = {
    "": ("demo.html", "text/html; charset=utf-8"),
    "widget.js": ("widget.js", "application/javascript; charset=utf-8"),
    "widget.css": ("widget.css", "text/css; charset=utf-8"),
    "agent": ("agent.html", "text/html; charset=utf-8"),
    "agent.js": ("agent.js", "application/javascript; charset=utf-8"),
    "agent.css": ("agent.css", "text/css; charset=utf-8"),
    "reset": ("reset.html", "text/html; charset=utf-8"),
    "reset.js": ("reset.js", "application/javascript; charset=utf-8"),
}
COOKIE = "qc_agent_session"
SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{40,64}")
MAX_FRAME_CHARS = 8000
T = TypeVar("T")


def conversation_for(session_token: str) -> str:
    """The conversation id a customer's secret session token maps to (not reversible)."""
    return "web-" + hashlib.sha256(session_token.encode()).hexdigest()[:40]


async def in_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one unit of work in a thread: SQL and password hashing must not block the event loop."""

    def run() -> T:
        with unit_of_work() as session:
            return fn(session, *args, **kwargs)

    return await asyncio.to_thread(run)


def json_object(raw: Any) -> dict[str, Any] | None:
    """A received frame as the JSON object both protocols send; None for anything else, which
    the sockets ignore."""
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


async def receive(ws: Any, timeout: float | None = None) -> Any:
    """`ws.recv()` of Sanic 21.12 as it should be on Python 3.11.

    Sanic's own `recv` passes a bare coroutine to `asyncio.wait`, which Python 3.11 refuses
    (TypeError), so every receive would fail; this is the same logic with a task.
    """
    if ws.recv_lock.locked():
        raise RuntimeError("another task is already receiving on this socket")
    async with ws.recv_lock:
        if ws.connection.state is CLOSED:
            raise WebsocketClosed("the socket is closed")
        ws.recv_cancel = asyncio.Future()
        getter = asyncio.ensure_future(ws.assembler.get(timeout))
        try:
            done, _ = await asyncio.wait(
                (ws.recv_cancel, getter), return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                raise WebsocketClosed("the socket closed while receiving")
            ws.recv_cancel.cancel()
            return getter.result()
        finally:
            ws.recv_cancel = None


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, default=str)


def _json_object(request: Request) -> dict[str, Any] | None:
    """The request's JSON body when it is an object; None for anything else or bad JSON."""
    try:
        body = request.json
    except Exception:  # sanic raises on undecodable JSON
        return None
    return body if isinstance(body, dict) else None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HTTPResponse:
    merged = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    merged.update(headers or {})
    return response.json(body, status=status, headers=merged)
