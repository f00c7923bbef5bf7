"""Verification lockouts in the agent console (issue #25), on the real servers: an account
locked by failed answers from several chats is listed for a signed-in agent, who clears it
with a note; the customer then verifies. Customers cannot reach these endpoints (see
test_agent_endpoints.py)."""

from __future__ import annotations

import json
import urllib.request
import uuid

from ops.stack import Stack
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_AGENT_USERNAME
from quickconnect.services import identity
from tests.webstack import http

FARID = "QC-100006"  # security answer Beirut


def _say(stack: Stack, sender: str, text: str, client: str) -> str:
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": client},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 (local)
        return "\n".join(m.get("text", "") for m in json.loads(resp.read()))


def _sign_in(stack: Stack) -> dict[str, str]:
    status, headers, _ = http(
        stack,
        "POST",
        "agent/login",
        {"username": DEMO_AGENT_USERNAME, "password": DEMO_AGENT_PASSWORD},
    )
    assert status == 200
    return {"Cookie": headers["Set-Cookie"].split(";", 1)[0]}


def test_an_agent_sees_and_clears_a_lockout_then_the_customer_verifies(web_stack: Stack) -> None:
    failures = 0
    while failures < identity.ACCOUNT_MAX_FAILURES:  # chats from several clients
        sender, client = f"lock-{uuid.uuid4().hex[:10]}", f"127.88.{failures + 1}.1"
        _say(web_stack, sender, "what plan am I on?", client)
        _say(web_stack, sender, FARID, client)
        for guess in ("Paris", "Cairo", "Rome"):
            reply = _say(web_stack, sender, guess, client)
            failures += 1
            if failures == identity.ACCOUNT_MAX_FAILURES or "attempts left" not in reply:
                break
    assert "paused in chat" in reply

    agent = _sign_in(web_stack)
    try:
        status, _, listed = http(web_stack, "GET", "agent/api/lockouts", headers=agent)
        assert status == 200
        [lockout] = [item for item in listed["items"] if item["account_number"] == FARID]
        assert lockout["customer_name"] == "Farid Haddad" and lockout["holder_notified"]
        assert lockout["failures"] == identity.ACCOUNT_MAX_FAILURES
        clear = f"agent/api/lockouts/{lockout['id']}/clear"
        status, _, answer = http(web_stack, "POST", clear, {"note": " "}, agent)
        assert status == 400 and "note" in answer["error"]
        status, _, answer = http(web_stack, "POST", clear, {"note": "called back, ID ok"}, agent)
        assert status == 200
        assert all(item["account_number"] != FARID for item in answer["items"])
        status, _, _ = http(web_stack, "POST", clear, {"note": "again"}, agent)
        assert status == 409  # no longer in force
    finally:
        http(web_stack, "POST", "agent/logout", {}, agent)

    sender = f"after-{uuid.uuid4().hex[:10]}"
    _say(web_stack, sender, "what plan am I on?", "127.88.99.1")
    _say(web_stack, sender, FARID, "127.88.99.1")
    assert "Thanks, Farid" in _say(web_stack, sender, "Beirut", "127.88.99.1")
