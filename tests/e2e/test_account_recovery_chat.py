"""Account recovery guide end to end: chat over REST, then the account database is checked.

Each test uses its own demo customer, so the tests do not depend on each other's changes.
"""

from __future__ import annotations

import re

from quickconnect.identifiers import hash_token
from tests.e2e.conftest import Chat, query

LOGIN_STATE = """
    SELECT l.locked, l.lock_reason, l.failed_attempts FROM login_state l
    JOIN customers c ON c.id = l.customer_id WHERE c.account_number = :account
"""
CONSENTS = """
    SELECT r.change_kind FROM consent_records r JOIN customers c ON c.id = r.customer_id
    WHERE c.account_number = :account
"""
OUTBOX = """
    SELECT o.channel, o.to_address, o.body FROM notifications_outbox o
    JOIN customers c ON c.id = o.customer_id WHERE c.account_number = :account ORDER BY o.id
"""
# live = still valid when the newest link of the customer was created
TOKENS = """
    SELECT t.token_hash, t.channel, t.expires_at > (
        SELECT max(n.created_at) FROM password_reset_tokens n WHERE n.customer_id = t.customer_id
    ) FROM password_reset_tokens t
    JOIN customers c ON c.id = t.customer_id WHERE c.account_number = :account ORDER BY t.id
"""


def test_unlock_after_failed_logins_needs_a_yes_and_resets_the_counter(chat: Chat) -> None:
    chat.text("my account is locked, I typed the wrong password too many times")
    proposal = chat.verify("QC-100002", "Porto")
    assert "locked after 5 failed sign-in attempts" in proposal
    assert "Shall I go ahead?" in proposal
    assert query(chat.stack, LOGIN_STATE, account="QC-100002") == [(True, "failed_logins", 5)]

    done = chat.text("yes")
    assert "is unlocked" in done and "counter is back to 0" in done
    assert query(chat.stack, LOGIN_STATE, account="QC-100002") == [(False, "none", 0)]
    assert query(chat.stack, CONSENTS, account="QC-100002") == [("account_unlock",)]
    bodies = [body for _, _, body in query(chat.stack, OUTBOX, account="QC-100002")]
    assert any("unlocked online sign-in" in body for body in bodies)
    assert "Done" not in chat.text("yes")  # a repeated yes applies nothing
    assert len(query(chat.stack, CONSENTS, account="QC-100002")) == 1


def test_password_reset_link_by_email_then_by_sms_after_it_failed(chat: Chat) -> None:
    chat.text("I forgot my password")
    asked = chat.verify("QC-100001", "alice.martin@example.com")
    assert "forgot-password" in asked and "Where should I send the reset link" in asked
    assert "a***@example.com" in asked and "alice.martin" not in asked.split("Thanks")[-1]
    sent = chat.text("by email")
    assert "a***@example.com" in sent and "did the reset work?" in sent
    (email,) = query(chat.stack, OUTBOX, account="QC-100001")
    assert email[:2] == ("email", "alice.martin@example.com")
    link = re.search(r"https?://\S+/webhooks/webchat/reset#token=([A-Za-z0-9_-]+)", email[2])
    assert link is not None
    (stored,) = query(chat.stack, TOKENS, account="QC-100001")
    assert stored[0] == hash_token(link.group(1)) and link.group(1) not in stored[0]

    options = chat.text("no, it didn't work")
    assert "SMS" in options and "person" in options
    chat.text("send the password reset link by SMS instead")
    messages = query(chat.stack, OUTBOX, account="QC-100001")
    assert messages[-1][:2] == ("sms", "+15550100001")
    tokens = query(chat.stack, TOKENS, account="QC-100001")
    assert [(channel, bool(live)) for _, channel, live in tokens] == [
        ("email", False),  # the first link stopped working when the new one was sent
        ("sms", True),
    ]


def test_new_email_is_confirmed_then_the_old_address_gets_a_notice(chat: Chat) -> None:
    chat.text("change the email on my account to dana.o@newmail.example")
    proposal = chat.verify("QC-100004", "Lagos")
    assert "from d***@example.com to d***@newmail.example" in proposal
    assert "Shall I go ahead?" in proposal
    done = chat.text("yes please")
    assert "Done: your email address is now d***@newmail.example" in done
    (email,) = query(chat.stack, "SELECT email FROM customers WHERE account_number = 'QC-100004'")
    assert email == ("dana.o@newmail.example",)
    sent_to = [to for _, to, _ in query(chat.stack, OUTBOX, account="QC-100004")]
    assert "dana.okafor@example.com" in sent_to and "dana.o@newmail.example" in sent_to
    assert query(chat.stack, CONSENTS, account="QC-100004") == [("contact_update",)]
