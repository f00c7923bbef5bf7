"""The email the bot promises arrives (issue #27): a password reset asked for in chat is
delivered by the outbox worker (`python -m quickconnect.outbox run --once`, a real process)
to a real SMTP server, and the link in it works once. Both stacks."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ops.stack import Stack, server_environment
from quickconnect.config import PROJECT_ROOT
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.services import account_recovery
from tests.e2e.conftest import Chat, query
from tests.outbox.servers import smtp_server

FARID_EMAIL = "farid.haddad@example.com"
LINK = re.compile(r"https://www\.quickconnect\.example/reset\?token=(\S+)")


def _run_worker_once(stack: Stack, smtp_port: int) -> str:
    env = server_environment(stack.settings, rasa=False)
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_STARTTLS="false")
    done = subprocess.run(
        [sys.executable, "-m", "quickconnect.outbox", "run", "--once", "--jobs-every", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_the_reset_email_promised_in_chat_arrives_and_its_link_works(chat: Chat) -> None:
    chat.text("I forgot my password")
    chat.verify("QC-100006", "Beirut")
    promised = chat.text("by email")
    assert "f***@example.com" in promised

    with smtp_server() as (port, inbox):
        _run_worker_once(chat.stack, port)
        _run_worker_once(chat.stack, port)  # a second worker pass sends nothing again
    emails = [m for m in inbox.messages if m["To"] == FARID_EMAIL]
    assert len(emails) == 1 and "reset" in emails[0]["Subject"].lower()
    link = LINK.search(emails[0].get_content())
    assert link is not None
    status = query(
        chat.stack,
        "SELECT o.status FROM notifications_outbox o JOIN customers c ON c.id = o.customer_id "
        "WHERE c.account_number = 'QC-100006' AND o.body LIKE '%/reset?token=%'",
    )
    assert status == [("sent",)]

    engine = make_engine(chat.stack.settings.database_url)
    try:
        with unit_of_work(engine) as session:
            redeemed = account_recovery.redeem_reset_token(session, link.group(1))
        assert redeemed.channel == "email"
        with unit_of_work(engine) as session, pytest.raises(account_recovery.ResetLinkInvalid):
            account_recovery.redeem_reset_token(session, link.group(1))  # single use
    finally:
        engine.dispose()
