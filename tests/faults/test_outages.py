"""PostgreSQL or Redis unavailable to a running stack: clear apologies, no hung request, and
the same conversation recovers once the service is back, without restarting anything.

Only the PostgreSQL + Redis stack has these stores; they are cut at a proxy (`FaultProxy`),
never on the shared servers. "refuse" is a server that is down or restarting (connections
refused, live ones dropped); "blackhole" is a network partition (connections accepted and
never answered).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from rasa_extensions.guards import NO_REPLY_APOLOGY
from tests.faults.conftest import FaultStack, account_state, one_change_later
from tests.faults.proxy import FaultProxy, Mode

pytestmark = pytest.mark.faults

# A request during an outage must come back within this (seconds): the longest timeout on
# its path (PostgreSQL connect_timeout 5 s, Redis socket timeout 10 s) twice, plus a margin
# for a loaded 2-core machine. Without timeouts the request hangs until the client gives up.
HUNG = 40.0


def _timed(fn: object, *args: object) -> tuple[str, float]:
    started = time.monotonic()
    reply = fn(*args)  # type: ignore[operator]
    return reply, time.monotonic() - started


def _outage_case(
    fault_stack: FaultStack,
    proxy: FaultProxy,
    mode: Mode,
    seconds: float,
    account: str,
    factor: str,
    plan: str,
) -> list[tuple[str, float]]:
    """Quote a plan change, cut the store for `seconds` while the customer keeps writing
    (yes, then a new conversation's hello), restore it, and check the recovery.
    Returns what the customer saw during the outage with each request's duration."""
    chat = fault_stack.chat(f"outage-{mode}")
    chat.text(f"I want to switch to {plan}")
    chat.text(account)
    assert "Shall I go ahead?" in chat.text(factor)
    before = account_state(fault_stack, account)
    slots_before = fault_stack.slots(chat.sender)
    stranger = fault_stack.chat(f"outage-new-{mode}")

    seen: list[tuple[str, float]] = []
    proxy.cut(mode)
    cut_at = time.monotonic()
    try:
        seen.append(_timed(chat.text, "yes"))
        seen.append(_timed(stranger.text, "hi"))
        while time.monotonic() - cut_at < seconds - 1 and len(seen) < 6:
            seen.append(_timed(chat.text, "yes"))
            time.sleep(1)
        if time.monotonic() - cut_at < seconds:  # (slow outages have used it up already)
            time.sleep(max(0.0, seconds - 1 - (time.monotonic() - cut_at)))
            seen.append(_timed(chat.text, "yes"))  # the outage's last second
        # Nothing was applied while the store was away (the test reads it directly).
        assert account_state(fault_stack, account) == before
    finally:
        proxy.restore()
    for reply, took in seen:
        assert took < HUNG, f"a request took {took:.1f} s during the outage"
        assert reply == NO_REPLY_APOLOGY or "can't reach our account systems" in reply, reply

    # Back without a restart: the same conversation, still verified, the offer still open.
    assert (
        fault_stack.slots(chat.sender)["verification_token"] == slots_before["verification_token"]
    )
    assert "Done" in chat.text("yes")
    assert account_state(fault_stack, account) == one_change_later(before, plan)
    assert "Done" not in chat.text("yes")
    assert account_state(fault_stack, account) == one_change_later(before, plan)
    assert stranger.text("hi")
    return seen


def test_postgres_down_for_fifteen_seconds(faults_postgres: FaultStack) -> None:
    assert faults_postgres.pg_proxy is not None
    seen = _outage_case(
        faults_postgres, faults_postgres.pg_proxy, "refuse", 15, "QC-100004", "Lagos",
        "Unlimited Plus",
    )  # fmt: skip
    print("postgres refused:", [(r[:60], round(t, 1)) for r, t in seen])


def test_postgres_partitioned(faults_postgres: FaultStack) -> None:
    assert faults_postgres.pg_proxy is not None
    seen = _outage_case(
        faults_postgres, faults_postgres.pg_proxy, "blackhole", 10, "QC-100009", "Tico",
        "Unlimited Plus",
    )  # fmt: skip
    print("postgres blackholed:", [(r[:60], round(t, 1)) for r, t in seen])


def test_redis_down(faults_postgres: FaultStack) -> None:
    assert faults_postgres.redis_proxy is not None
    seen = _outage_case(
        faults_postgres, faults_postgres.redis_proxy, "refuse", 5, "QC-100006", "Beirut",
        "Family Share",
    )  # fmt: skip
    print("redis refused:", [(r[:60], round(t, 1)) for r, t in seen])


def test_redis_partitioned(faults_postgres: FaultStack) -> None:
    assert faults_postgres.redis_proxy is not None
    seen = _outage_case(
        faults_postgres, faults_postgres.redis_proxy, "blackhole", 5, "QC-100010", "Bergen",
        "Everyday 20GB",
    )  # fmt: skip
    print("redis blackholed:", [(r[:60], round(t, 1)) for r, t in seen])


async def _webchat_turn_during_outage(fault_stack: FaultStack, proxy: FaultProxy) -> list[dict]:
    """A web chat customer connected before PostgreSQL goes away writes during the outage."""
    url = fault_stack.stack.rasa_url.replace("http://", "ws://") + "/webhooks/webchat/ws"
    frames: list[dict] = []
    async with websockets.connect(url, open_timeout=20, close_timeout=5) as ws:
        await ws.send(json.dumps({"type": "hello", "session": None}))
        frames.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
        proxy.cut("refuse")
        try:
            await ws.send(json.dumps({"type": "message", "text": "which plan am I on?"}))
            # Working, the apology comes at once (connections are refused): 15 s is plenty.
            deadline = asyncio.get_running_loop().time() + 15
            while asyncio.get_running_loop().time() < deadline:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                except TimeoutError:
                    continue
                frames.append(frame)
                if frame.get("type") == "message" and frame.get("from") == "bot":
                    break
        finally:
            proxy.restore()
    return frames


def test_webchat_customer_gets_an_answer_while_postgres_is_down(
    faults_postgres: FaultStack,
) -> None:
    assert faults_postgres.pg_proxy is not None
    frames = asyncio.run(_webchat_turn_during_outage(faults_postgres, faults_postgres.pg_proxy))
    bot = [f for f in frames if f.get("type") == "message" and f.get("from") == "bot"]
    assert bot, f"no answer during the outage: {frames}"
    assert bot[-1]["text"] == NO_REPLY_APOLOGY
