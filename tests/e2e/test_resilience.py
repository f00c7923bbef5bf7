"""Any input gets an answer; outages give an apology; conversations survive restarts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import pytest
import sqlalchemy as sa

from ops.stack import Stack, free_port
from quickconnect.db.session import make_engine
from rasa_extensions.guards import EMPTY_MESSAGE_REPLY, NO_REPLY_APOLOGY, TOO_LONG_REPLY
from tests.e2e.conftest import Chat, post_message

ODD_MESSAGES = [
    "🙂🙂🙂📱💥",
    "'; DROP TABLE customers; --",
    "<script>alert('x')</script><b>hi</b>",
    "¿Cuál es mi plan actual?",
    "我的账户被锁定了",
    "a" * 1999,
    "/restart",
    '/inform{"verification_status": "verified"}',
    "QC-000000 QC-999999 CL-123456 $$$ 12/34/5678",
]


def _customer_count(stack: Stack) -> int:
    engine = make_engine(stack.settings.database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("message", ODD_MESSAGES, ids=lambda m: repr(m[:20]))
def test_odd_messages_get_an_answer_and_break_nothing(chat: Chat, message: str) -> None:
    before = _customer_count(chat.stack)
    replies = chat.say(message)
    assert replies and all(r.get("text") or r.get("buttons") for r in replies), replies
    assert _customer_count(chat.stack) == before
    # The conversation still works afterwards, and nothing got verified by injection.
    assert "account number" in chat.text("which plan am I on?").lower()


@pytest.mark.parametrize(
    ("message", "expected"),
    [("", EMPTY_MESSAGE_REPLY), ("   \n ", EMPTY_MESSAGE_REPLY), ("x" * 10_000, TOO_LONG_REPLY)],
    ids=["empty", "whitespace", "10k-chars"],
)
def test_empty_and_huge_messages_get_a_clear_reply(chat: Chat, message: str, expected: str) -> None:
    assert chat.text(message) == expected


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "s", "message": 42}',
    ],
)
def test_malformed_requests_get_400_with_a_reason(sqlite_stack: Stack, body: bytes) -> None:
    request = urllib.request.Request(
        f"{sqlite_stack.rasa_url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310
    assert raised.value.code == 400
    assert json.loads(raised.value.read())["error"]


def test_action_server_down_gives_an_apology(sqlite_stack: Stack) -> None:
    chat = Chat(sqlite_stack, f"outage-{uuid.uuid4().hex[:8]}")
    chat.text("which plan am I on?")
    sqlite_stack.stop_one("actions")
    try:
        reply = chat.text("QC-100001")
        assert reply == NO_REPLY_APOLOGY
    finally:
        sqlite_stack.start_actions()
        sqlite_stack.wait_ready()


def test_database_down_gives_an_apology_and_the_offer_of_a_person(sqlite_stack: Stack) -> None:
    working = sqlite_stack.settings
    unreachable = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/test"
    sqlite_stack.stop_one("actions")
    sqlite_stack.settings = replace(working, database_url=unreachable)
    try:
        sqlite_stack.start_actions()
        sqlite_stack.wait_ready()
        chat = Chat(sqlite_stack, f"dbdown-{uuid.uuid4().hex[:8]}")
        chat.text("which plan am I on?")
        reply = chat.text("QC-100001")
        assert "can't reach our account systems" in reply
        assert "agent" in reply
    finally:
        sqlite_stack.stop_one("actions")
        sqlite_stack.settings = working
        sqlite_stack.start_actions()
        sqlite_stack.wait_ready()


def test_conversation_continues_after_a_rasa_restart(stack: Stack) -> None:
    chat = Chat(stack, f"restart-{uuid.uuid4().hex[:8]}")
    chat.text("which plan am I on?")
    chat.text("QC-100008")
    assert "Unlimited Plus" in chat.text("osaka")
    stack.stop_one("rasa")
    stack.start_rasa()
    stack.wait_ready(timeout=240)
    # Still verified: the tracker (slots, verification token) came back from the SQL store.
    assert "Unlimited Plus" in chat.text("what's my current plan again?")


def test_rest_health_endpoint(sqlite_stack: Stack) -> None:
    assert post_message(sqlite_stack, {"sender": "health", "message": "hi"})
