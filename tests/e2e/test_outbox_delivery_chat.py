"""The email the bot promises arrives (issue #27): a password reset asked for in chat is
delivered by the outbox worker (`python -m quickconnect.outbox run --once`, a real process)
to a real SMTP server; its link opens the project's reset page, whose form sets the password
once; the bot's follow-up then sees the change. Both stacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

from ops.stack import Stack, server_environment
from quickconnect.config import PROJECT_ROOT
from tests.e2e.conftest import Chat, query
from tests.outbox.servers import smtp_server

FARID_EMAIL = "farid.haddad@example.com"
LINK = re.compile(r"https?://\S+/webhooks/webchat/reset#token=([A-Za-z0-9_-]+)")


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
        "WHERE c.account_number = 'QC-100006' AND o.body LIKE '%/reset#token=%'",
    )
    assert status == [("sent",)]

    # the link opens the project's reset page; its form sets the password, once
    page = f"{chat.stack.rasa_url}/webhooks/webchat/reset"
    assert link.group(0).startswith(f"{chat.stack.settings.public_url}/webhooks/webchat/reset#")
    with urllib.request.urlopen(page, timeout=30) as opened:  # noqa: S310 (local)
        assert opened.status == 200 and b"Choose a new password" in opened.read()
    assert _post(page, {"token": link.group(1)}) == (200, {"ok": True, "first_name": "Farid"})
    weak = _post(page, {"token": link.group(1), "password": "farid", "confirm": "farid"})
    assert weak[0] == 400 and "at least 10 characters" in weak[1]["error"]
    body = {"token": link.group(1), "password": "Cedar-Road-2026", "confirm": "Cedar-Road-2026"}
    status, answer = _post(page, body)
    assert status == 200 and "password has been changed" in answer["message"]
    assert _post(page, body)[0] == 400  # used up
    changed = query(
        chat.stack,
        "SELECT l.password_hash LIKE '$argon2id$%', l.password_changed_at IS NOT NULL "
        "FROM login_state l JOIN customers c ON c.id = l.customer_id "
        "WHERE c.account_number = 'QC-100006'",
    )
    assert [tuple(bool(v) for v in row) for row in changed] == [(True, True)]

    # the bot's follow-up sees the change on the account
    confirmed = chat.text("yes, it worked")
    assert "I can see the new password was set" in confirmed


def _post(url: str, body: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (local)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
