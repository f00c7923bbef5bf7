"""One real SQLite stack (action server + Rasa server with the web chat channel) shared by the
browser tests and the security tests, started once per pytest session whichever runs first.

Developer shortcut while editing the widget or the tests: QC_TEST_WEB_STACK=<rasa port>:<dir>
reuses a stack you started yourself (account DB `<dir>/qc.db`, tracker `<dir>/tracker.db`)
instead of starting one; CI never sets it."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ops.stack import DEFAULT_MODEL, Stack, free_port
from quickconnect.config import load_settings
from quickconnect.db.migrate import upgrade
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.seed import seed

_shared: dict[str, Any] = {"stack": None, "users": 0, "root": None}


@contextmanager
def shared_web_stack() -> Iterator[Stack]:
    """Start the stack on first use, stop it when the last user is done."""
    reuse = os.environ.get("QC_TEST_WEB_STACK")  # "<rasa port>:<dir with tracker.db>"
    if _shared["stack"] is None and reuse:  # developer shortcut: a stack already running
        port, folder = reuse.split(":", 1)
        settings = replace(
            load_settings(),
            rasa_port=int(port),
            tracker_store_url=f"sqlite:///{Path(folder) / 'tracker.db'}",
            database_url=f"sqlite:///{Path(folder) / 'qc.db'}",
        )
        _shared.update(stack=Stack(settings), root=Path(folder))
    if _shared["stack"] is None:
        if not DEFAULT_MODEL.exists():
            pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` first")
        root = Path(tempfile.mkdtemp(prefix="qc_web_stack_"))
        db_url = f"sqlite:///{root / 'quickconnect.db'}"
        upgrade(db_url)
        engine = make_engine(db_url)
        try:
            with unit_of_work(engine) as session:
                seed(session)
        finally:
            engine.dispose()
        settings = replace(
            load_settings(),
            rasa_host="127.0.0.1",
            rasa_port=free_port(),
            action_server_port=free_port(),
            database_url=db_url,
            tracker_store_url=f"sqlite:///{root / 'tracker.db'}",
            lock_store_url="",
            # X-Forwarded-For from loopback names the client, as from a load balancer, so a
            # test can act as clients of its own (verification limits count per client)
            trusted_proxies="127.0.0.0/8",
        )
        stack = Stack(settings, log_dir=root / "log")
        stack.start(timeout=240)
        _shared.update(stack=stack, root=root)
    _shared["users"] += 1
    try:
        yield _shared["stack"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0 and _shared["stack"] is not None:
            _shared["stack"].stop()
            _shared["stack"] = None


def web_url(stack: Stack, path: str = "") -> str:
    return f"{stack.rasa_url}/webhooks/webchat/{path}"


def http(
    stack: Stack,
    method: str,
    path: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request to the web chat channel; returns status, headers and parsed JSON."""
    data = None
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(
        web_url(stack, path), data=data, headers=all_headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (local)
            raw, status, got = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, got, parsed


def conversation_for(session_token: str) -> str:
    """Same derivation as rasa_extensions.webchat (kept separate: tests check the contract)."""
    return "web-" + hashlib.sha256(session_token.encode()).hexdigest()[:40]


def tracker_events(stack: Stack, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's events as stored in the SQLite tracker store."""
    path = stack.settings.tracker_store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (conversation_id,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]
