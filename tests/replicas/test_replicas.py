"""Replicas behind a round-robin balancer: nothing depends on which one serves a request.

- REST: one conversation's turns alternate between the two Rasa servers (and their action
  calls between the two action servers); the tracker holds every turn once, in order, and a
  confirmed plan change is applied once.
- Web chat: the customer's socket is on rasa-1 and the agent's console on rasa-2; queue,
  take, reply, typing both ways, note, hand back, a second escalation and resolve all reach
  the other side, each push exactly once and in order, and the customer's screen matches the
  tracker line for line.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import websockets

from ops.replicas import served_by
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_AGENT_USERNAME
from tests.e2e.conftest import fresh_client_address
from tests.faults.conftest import ACCOUNT_STATE_SQL, one_change_later
from tests.replicas.conftest import Replicas
from tests.webstack import conversation_for

pytestmark = pytest.mark.replicas

WAIT_S = 60.0  # a generous bound for one push or reply; never a measured pass/fail


# --- health ----------------------------------------------------------------------------------


def test_each_replica_reports_its_model_loaded_and_its_relay_subscribed(replicas: Replicas) -> None:
    answers: dict[str, dict[str, Any]] = {}
    for _ in range(4):
        with urllib.request.urlopen(  # noqa: S310 (local)
            f"{replicas.url}/webhooks/webchat/health", timeout=WAIT_S
        ) as resp:
            answers[str(resp.headers.get("X-Served-By"))] = json.loads(resp.read())
    expected = {"model": True, "relay": "redis", "relay_subscribed": True}
    assert answers == {"rasa-1": expected, "rasa-2": expected}


# --- REST ------------------------------------------------------------------------------------


def _rest(replicas: Replicas, sender: str, text: str, client: str) -> tuple[list[dict], str]:
    """One REST turn through the balancer: the bot's messages and the replica that served it."""
    request = urllib.request.Request(
        f"{replicas.url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": client},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT_S) as resp:  # noqa: S310 (local)
        return json.loads(resp.read()), str(resp.headers.get("X-Served-By"))


def _account_state(replicas: Replicas, account: str) -> dict[str, Any]:
    (cid,) = replicas.query("SELECT id FROM customers WHERE account_number = :a", a=account)[0]
    state: dict[str, Any] = {}
    for key, sql in ACCOUNT_STATE_SQL.items():
        rows = replicas.query(sql, cid=cid)
        state[key] = [r[0] for r in rows] if key == "plan" else int(rows[0][0])
    return state


def test_rest_turns_alternate_replicas_and_every_event_and_change_is_there_once(
    replicas: Replicas,
) -> None:
    account, factor, plan = "QC-100008", "Osaka", "Everyday 20GB"
    sender, client = "replicas-rest-1", fresh_client_address()
    actions_log_before = replicas.set.haproxy_log().count("actions/actions-")
    turns = [
        "hi",
        f"I want to switch to {plan}",
        account,
        factor,
        "yes",
        "which plan am I on?",
    ]
    replies: list[list[dict]] = []
    servers: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for text in turns:
        if text == "yes":  # verified and quoted: what the change itself must add
            before = _account_state(replicas, account)
        messages, server = _rest(replicas, sender, text, client)
        replies.append(messages)
        servers.append(server)
        if text == "yes":
            after = _account_state(replicas, account)
    texts = ["\n".join(m.get("text", "") for m in turn) for turn in replies]
    assert "Shall I go ahead?" in texts[3], texts
    assert "Done" in texts[4], texts
    assert plan in texts[5], texts

    # round robin, no stickiness: consecutive turns on different replicas
    assert set(servers) == {"rasa-1", "rasa-2"}, servers
    assert all(a != b for a, b in zip(servers, servers[1:], strict=False)), servers
    # the Rasa servers reached the action servers through the balancer, both of them
    actions_log = replicas.set.haproxy_log()
    assert actions_log.count("actions/actions-") > actions_log_before
    assert "actions/actions-1" in actions_log and "actions/actions-2" in actions_log

    # the tracker: each customer message once and in order, each bot message once and in
    # the order the customer got them, no event stored twice
    events = replicas.events(sender)
    assert [e["text"] for e in events if e["event"] == "user"] == turns
    got = [m.get("text") for turn in replies for m in turn]
    assert [e.get("text") for e in events if e["event"] == "bot"] == got
    as_stored = [json.dumps(e, sort_keys=True) for e in events]
    assert len(set(as_stored)) == len(as_stored)
    # the change: applied once (one plan, one consent, one log line, one email, one change)
    assert after == one_change_later(before, plan)
    assert _account_state(replicas, account)["applied"] == after["applied"]  # and no more


# --- web chat --------------------------------------------------------------------------------


class Peer:
    """One WebSocket through the balancer; every frame it gets is kept, in order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.served_by = ws.response_headers.get("X-Served-By")
        self.frames: list[dict[str, Any]] = []
        self.cursor = 0  # frames before it were already waited for
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def next(self, match: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """The first frame after the cursor that matches; the cursor moves past it."""

        async def find() -> dict[str, Any]:
            while True:
                for i in range(self.cursor, len(self.frames)):
                    if match(self.frames[i]):
                        self.cursor = i + 1
                        return self.frames[i]
                await asyncio.sleep(0.02)

        try:
            return await asyncio.wait_for(find(), WAIT_S)
        except TimeoutError:
            pytest.fail(f"{what}: not received on {self.served_by}; got {self.frames}")

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


def _steer_to(replicas: Replicas, wanted: str) -> None:
    """Round robin: make the balancer's next pick `wanted` (one cheap GET when it is not)."""
    for _ in range(3):
        if served_by(f"{replicas.url}/webhooks/rest/") != wanted:
            return


async def _socket_on(replicas: Replicas, path: str, wanted: str, **kwargs: Any) -> Any:
    """A WebSocket through the balancer that landed on replica `wanted`."""
    url = f"{replicas.url.replace('http://', 'ws://')}/webhooks/webchat/{path}"
    for _ in range(4):
        _steer_to(replicas, wanted)
        ws = await websockets.connect(url, **kwargs)
        if ws.response_headers.get("X-Served-By") == wanted:
            return ws
        await ws.close()
    pytest.fail(f"the balancer never sent {path} to {wanted}")


def _agent_http(
    replicas: Replicas, cookie: str, path: str, body: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    """One agent API call through the balancer: its JSON and the replica that served it."""
    request = urllib.request.Request(
        f"{replicas.url}/webhooks/webchat/agent/{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Cookie": cookie, "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=WAIT_S) as resp:  # noqa: S310 (local)
            return json.loads(resp.read()), str(resp.headers.get("X-Served-By"))
    except urllib.error.HTTPError as error:
        pytest.fail(f"{path}: HTTP {error.code} {error.read()[:300]!r}")


def _sign_in(replicas: Replicas) -> str:
    request = urllib.request.Request(
        f"{replicas.url}/webhooks/webchat/agent/login",
        data=json.dumps(
            {"username": DEMO_AGENT_USERNAME, "password": DEMO_AGENT_PASSWORD}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WAIT_S) as resp:  # noqa: S310 (local)
        return str(resp.headers["Set-Cookie"]).split(";", 1)[0]


def _is_message(sender: str, text: str = "") -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == "message" and f.get("from") == sender and text in f["text"]


def _is(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())


def _queued(case_number: str, state: str = "queued") -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == "queue" and any(
        i.get("case_number") == case_number and i.get("chat_state") == state
        for i in f.get("items", [])
    )


def _not_queued(case_number: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == "queue" and all(
        i.get("case_number") != case_number for i in f.get("items", [])
    )


async def _escalate(customer: Peer, agent: Peer) -> str:
    await customer.send({"type": "message", "text": "I want to talk to a person"})
    answer = await customer.next(_is_message("bot", "CS-"), "the handoff answer")
    case_number = re.search(r"CS-\d{6}", answer["text"]).group(0)
    assert "expected wait" in answer["text"], answer
    await customer.next(_is("status", state="queued"), "status queued")
    await agent.next(_queued(case_number), "the case in the console's queue")
    return case_number


async def _handoff_across_replicas(replicas: Replicas) -> dict[str, Any]:
    cookie = _sign_in(replicas)
    customer = Peer(await _socket_on(replicas, "ws", "rasa-1"))
    await customer.send({"type": "hello", "session": None})
    welcome = await customer.next(_is("welcome"), "welcome")
    conversation = conversation_for(welcome["session"])
    agent = Peer(await _socket_on(replicas, "agent/ws", "rasa-2", extra_headers={"Cookie": cookie}))
    await agent.next(_is("queue"), "the console's first queue")
    await agent.send({"type": "ping"})
    await agent.next(_is("pong"), "pong")  # presence written: the agent counts as online
    served: list[str] = []

    await customer.send({"type": "message", "text": "hi"})
    await customer.next(_is_message("bot", "virtual assistant"), "the greeting")
    first = await _escalate(customer, agent)

    # while queued: the customer's words reach the console on the other replica
    await customer.send({"type": "message", "text": "My roaming bill looks wrong"})
    pushed = await agent.next(_is("customer_message", case_number=first), "queued message")
    assert pushed["message"]["text"] == "My roaming bill looks wrong"

    view, server = _agent_http(replicas, cookie, f"api/cases/{first}/take", {})
    served.append(server)
    assert any("roaming bill" in line["text"] for line in view["transcript"])
    await customer.next(_is_message("system", "has joined the chat"), "agent joined")
    await customer.next(_is("status", state="agent"), "status agent")
    await agent.next(_queued(first, "agent"), "the case with the agent in the queue")

    reply = "Hi, I'm Sam. I can see the roaming charge, let me check it for you."
    sent_at = time.monotonic()
    _, server = _agent_http(replicas, cookie, f"api/cases/{first}/reply", {"text": reply})
    served.append(server)
    line = await customer.next(_is_message("agent", "let me check it"), "the agent's reply")
    print(  # measured, never a pass/fail
        f"\n[measured] agent reply via {server} -> customer socket on rasa-1: "
        f"{(time.monotonic() - sent_at) * 1000:.0f} ms (HTTP call included)"
    )
    assert line["agent_name"] == "Sam (Support)"

    # typing, both ways across the replicas
    await agent.send({"type": "typing", "case_number": first, "on": True})
    await customer.next(_is("typing", **{"from": "agent", "on": True}), "agent typing")
    await customer.send({"type": "typing", "on": True})
    await agent.next(_is("typing", case_number=first, on=True), "customer typing")
    await customer.send({"type": "message", "text": "Thanks, it was on 3 November"})
    pushed = await agent.next(_is("customer_message", case_number=first), "customer's answer")
    assert pushed["message"]["text"] == "Thanks, it was on 3 November"

    note = "Roaming charge disputed, 3 Nov"
    notes, server = _agent_http(replicas, cookie, f"api/cases/{first}/note", {"text": note})
    served.append(server)
    assert [n["body"] for n in notes["notes"]].count(note) == 1

    _, server = _agent_http(replicas, cookie, f"api/cases/{first}/handback", {"note": "checked"})
    served.append(server)
    await customer.next(_is_message("system", "handed you back"), "hand back notice")
    await customer.next(_is("status", state="bot"), "status bot")
    await agent.next(_not_queued(first), "the handed back case off the queue")
    await customer.send({"type": "message", "text": "what plans do you offer?"})
    plans = await customer.next(_is_message("bot"), "the bot again")
    assert "Unlimited Plus" in plans["text"], plans

    # a second escalation, taken and resolved
    second = await _escalate(customer, agent)
    assert second != first
    _, server = _agent_http(replicas, cookie, f"api/cases/{second}/take", {})
    served.append(server)
    await customer.next(_is_message("system", "has joined the chat"), "agent joined again")
    _, server = _agent_http(replicas, cookie, f"api/cases/{second}/reply", {"text": "All set."})
    served.append(server)
    await customer.next(_is_message("agent", "All set."), "the second reply")
    _, server = _agent_http(replicas, cookie, f"api/cases/{second}/resolve", {"note": "fixed"})
    served.append(server)
    await customer.next(_is_message("system", f"has resolved case {second}"), "resolved")
    await customer.next(_is("status", state="bot"), "status bot after resolve")
    await agent.next(_not_queued(second), "the queue after resolve")
    await customer.send({"type": "message", "text": "thanks, bye"})
    await customer.next(_is_message("bot"), "the bot's goodbye")

    await asyncio.sleep(0.5)  # a duplicate push, were there one, arrives now
    await customer.close()
    await agent.close()
    return {
        "conversation": conversation,
        "customer": customer,
        "agent": agent,
        "served": served,
        "cases": (first, second),
        "note": note,
        "reply": reply,
    }


def test_handoff_with_customer_and_agent_on_different_replicas(replicas: Replicas) -> None:
    run = asyncio.run(_handoff_across_replicas(replicas))
    customer, agent = run["customer"], run["agent"]
    assert (customer.served_by, agent.served_by) == ("rasa-1", "rasa-2")
    assert set(run["served"]) == {"rasa-1", "rasa-2"}, run["served"]  # the API round robin

    # the customer's screen is the tracker's transcript: every line once, in order
    events = replicas.events(run["conversation"])
    stored = [e["text"] for e in events if e["event"] == "bot"]
    shown = [f["text"] for f in customer.frames if f.get("type") == "message"]
    assert shown == stored
    assert [e["metadata"].get("qc_event") for e in events if e["event"] == "bot"].count(
        "agent_joined"
    ) == 2
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "hi",
        "I want to talk to a person",
        "My roaming bill looks wrong",
        "Thanks, it was on 3 November",
        "what plans do you offer?",
        "I want to talk to a person",
        "thanks, bye",
    ]
    as_stored = [json.dumps(e, sort_keys=True) for e in events]
    assert len(set(as_stored)) == len(as_stored)
    kinds = [e["event"] for e in events]
    assert kinds.count("pause") == 2 and kinds.count("resume") == 2
    assert not any(run["note"] in str(e) for e in events)  # the note never reaches the chat

    # the console got each customer message once, and each typing change once
    relayed = [f["message"]["text"] for f in agent.frames if f.get("type") == "customer_message"]
    assert relayed == ["My roaming bill looks wrong", "Thanks, it was on 3 November"]
    assert [f for f in agent.frames if f.get("type") == "typing"] == [
        {"type": "typing", "case_number": run["cases"][0], "on": True}
    ]
    assert [f for f in customer.frames if f.get("type") == "typing" and f["from"] == "agent"] == [
        {"type": "typing", "from": "agent", "agent_name": "Sam (Support)", "on": True}
    ]
    # each change applied once: both cases closed as the agent chose, one note
    first, second = run["cases"]
    rows = replicas.query(
        "SELECT case_number, status, resolution, chat_state FROM cases"
        " WHERE conversation_id = :c ORDER BY id",
        c=run["conversation"],
    )
    assert rows == [
        (first, "resolved", "handed_back", "bot"),
        (second, "resolved", "resolved", "bot"),
    ]
    notes = replicas.query(
        "SELECT count(*) FROM case_notes n JOIN cases c ON c.id = n.case_id"
        " WHERE c.case_number = :n AND n.body = :b",
        n=first,
        b=run["note"],
    )
    assert notes == [(1,)]
