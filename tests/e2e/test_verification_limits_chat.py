"""Brute-forcing verification over the real servers fails (issue #25).

A guesser who knows an account number and the public price list starts conversation after
conversation, each from a new client address (the worst case for the per-client limit):
the per-account limit, counted in the database across conversations, stops them, while the
real customer, after the lockout, and every other account keep working. Both stacks.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import sqlalchemy as sa

from ops.stack import Stack
from quickconnect.db.models import utcnow
from quickconnect.db.session import make_engine
from quickconnect.services import identity
from tests.e2e.conftest import Chat, post_message, query

CHEN = "QC-100003"  # last bill 70.00, a plan price; email chen.wei@example.com; pet Mochi
CHEN_EMAIL = "chen.wei@example.com"
CHATS = 100


def _guesses() -> itertools.cycle[str]:
    """What someone without Chen's details can try: prices, likely emails, pet names."""
    return itertools.cycle(
        ["$70.00", "$45.00", "chen@example.com", "Max", "$70.13", "wei.chen@example.com",
         "Bella", "$25.00", "Luna", "$83.50"]
    )  # fmt: skip


def _execute(stack: Stack, sql: str, **params: object) -> None:
    engine = make_engine(stack.settings.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()


def _end_lockouts(stack: Stack, account: str) -> None:
    """Move the account's lockout and failures a day into the past, as time would."""
    past = utcnow() - identity.ACCOUNT_LOCKOUT - timedelta(hours=1)
    customer = "(SELECT id FROM customers WHERE account_number = :account)"
    _execute(
        stack,
        f"UPDATE verification_lockouts SET locked_at = :past, locked_until = :past "
        f"WHERE customer_id = {customer}",
        past=past,
        account=account,
    )
    _execute(
        stack,
        f"UPDATE verification_attempts SET created_at = :past WHERE customer_id = {customer}",
        past=past,
        account=account,
    )


def test_a_hundred_fresh_conversations_guessing_one_account_never_verify(stack: Stack) -> None:
    guesses = _guesses()
    replies: list[str] = []
    refused_at_once = 0
    try:
        for _ in range(CHATS):
            chat = Chat(stack, f"guess-{uuid.uuid4().hex[:12]}")
            chat.text("which plan am I on?")
            reply = chat.text(CHEN)
            refused_at_once += "paused in chat" in reply
            for _ in range(4):  # answer until the chat stops asking
                if "confirm it's you" not in reply and "instead" not in reply:
                    break
                reply = chat.text(next(guesses))
                replies.append(reply)
        verified = query(
            stack,
            "SELECT count(*) FROM verification_sessions v JOIN customers c "
            "ON c.id = v.customer_id WHERE c.account_number = :account",
            account=CHEN,
        )
        assert verified == [(0,)]
        assert not any("Thanks, Chen" in reply or "Unlimited Plus" in reply for reply in replies)
        # counted failures stop at the account's limit; every later chat is refused
        failed = query(
            stack,
            "SELECT count(*) FROM verification_attempts a JOIN customers c "
            "ON c.id = a.customer_id WHERE c.account_number = :account AND a.stage = 'verify' "
            "AND a.success = false AND a.factor IS NULL",
            account=CHEN,
        )
        assert failed[0][0] >= identity.ACCOUNT_MAX_FAILURES
        # the chats after the lockout are refused as soon as they name the account
        assert refused_at_once >= CHATS - identity.ACCOUNT_MAX_FAILURES
        lockouts = query(
            stack,
            "SELECT l.failures, l.notification_id IS NOT NULL FROM verification_lockouts l "
            "JOIN customers c ON c.id = l.customer_id WHERE c.account_number = :account",
            account=CHEN,
        )
        assert lockouts == [(identity.ACCOUNT_MAX_FAILURES, True)]
        notices = query(
            stack,
            "SELECT channel, to_address FROM notifications_outbox WHERE subject = :subject",
            subject=identity.LOCKOUT_NOTICE_SUBJECT,
        )
        assert notices == [("email", CHEN_EMAIL)]
        # one open case about the account, however many chats failed
        cases = query(
            stack,
            "SELECT count(*) FROM cases k JOIN customers c ON c.id = k.account_tried_id "
            "WHERE c.account_number = :account AND k.reason = 'verification_failed' "
            "AND k.status = 'open'",
            account=CHEN,
        )
        assert cases == [(1,)]

        # while it is locked the real answer is refused too, and says why
        late = Chat(stack, f"late-{uuid.uuid4().hex[:12]}")
        late.text("which plan am I on?")
        refused = late.text(CHEN)
        assert "paused in chat" in refused and "Unlimited Plus" not in refused

        # another account is not affected
        other = Chat(stack, f"other-{uuid.uuid4().hex[:12]}")
        other.text("which plan am I on?")
        other.text("QC-100001")
        assert "Everyday 20GB" in other.text("alice.martin@example.com")
    finally:
        _end_lockouts(stack, CHEN)

    # after the lockout the real customer verifies
    real = Chat(stack, f"real-{uuid.uuid4().hex[:12]}")
    real.text("which plan am I on?")
    real.text(CHEN)
    assert "Unlimited Plus" in real.text(CHEN_EMAIL)


def test_one_client_naming_account_after_account_is_refused(stack: Stack) -> None:
    client = f"127.{uuid.uuid4().int % 200 + 20}.0.9"
    for n in range(identity.CLIENT_MAX_FAILURES):
        chat = Chat(stack, f"scan-{uuid.uuid4().hex[:12]}", client=client)
        chat.text("which plan am I on?")
        chat.text(f"QC-9{n:05d}")  # accounts that do not exist
    chat = Chat(stack, f"scan-{uuid.uuid4().hex[:12]}", client=client)
    chat.text("which plan am I on?")
    reply = chat.text("QC-100001")
    assert "from this connection" in reply and "first pet" not in reply
    # the same account from another client is fine
    other = Chat(stack, f"other-{uuid.uuid4().hex[:12]}")
    other.text("which plan am I on?")
    assert "first pet" in other.text("QC-100001")


def test_a_client_cannot_choose_its_own_address(stack: Stack) -> None:
    """`metadata.qc_client` in the REST body is ignored: the server finds the address."""
    client = f"127.{uuid.uuid4().int % 200 + 20}.1.9"
    sender = f"spoof-{uuid.uuid4().hex[:12]}"
    body = {"sender": sender, "message": "which plan am I on?", "metadata": {"qc_client": "x"}}
    post_message(stack, body, headers={"X-Forwarded-For": client})
    body["message"] = "QC-999999"
    post_message(stack, body, headers={"X-Forwarded-For": client})
    rows = query(
        stack,
        "SELECT client_key FROM verification_attempts WHERE conversation_id = :sender",
        sender=sender,
    )
    assert rows == [(f"ip:{client}",)]


def test_a_rest_verification_holds_only_for_the_client_that_made_it(stack: Stack) -> None:
    """Over REST the client names the conversation, so someone who learns a verified chat's
    `sender` and writes to it from elsewhere is asked to verify, and sees nothing."""
    sender = f"bound-{uuid.uuid4().hex[:12]}"
    customer = Chat(stack, sender)
    customer.text("which plan am I on?")
    customer.text("QC-100001")
    assert "Everyday 20GB" in customer.text("alice.martin@example.com")
    intruder = Chat(stack, sender)  # same conversation id, another client address
    reply = intruder.text("which plan am I on?")
    assert "Everyday 20GB" not in reply and "alice" not in reply.lower()
    assert "verify" in reply.lower()
    # the intruder's turn reset the chat's verification slots: the customer verifies again
    again = customer.text("which plan am I on?")
    assert "account number" in again.lower() and "Everyday 20GB" not in again
    customer.text("QC-100001")
    assert "Everyday 20GB" in customer.text("alice.martin@example.com")
