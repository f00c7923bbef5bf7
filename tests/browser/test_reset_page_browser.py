"""A password reset end to end in Chromium (issue #27): the customer asks for a reset in the
widget, the outbox worker delivers the email to a real SMTP server, the customer opens the
link, sets a new password on the project's reset page, and the bot confirms it in the chat
from what the account shows. Screenshots go to results/artifacts/."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ops.stack import Stack, server_environment
from quickconnect.config import PROJECT_ROOT
from tests.browser.test_widget_handoff import TIMEOUT_MS, _ask, _open_widget
from tests.outbox.servers import smtp_server

INES_EMAIL = "ines.duarte@example.com"
LINK = re.compile(r"https?://\S+/webhooks/webchat/reset#token=[A-Za-z0-9_-]+")


def _deliver(stack: Stack, smtp_port: int) -> None:
    env = server_environment(stack.settings, rasa=False)
    env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_STARTTLS="false")
    subprocess.run(
        [sys.executable, "-m", "quickconnect.outbox", "run", "--once", "--jobs-every", "0"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )


def test_reset_link_from_the_widget_sets_a_password_and_the_bot_sees_it(
    browser: Any, web_stack: Stack, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    try:
        chat = context.new_page()
        _open_widget(chat, web_stack)
        _ask(chat, "I forgot my password")
        _ask(chat, "QC-100009")
        assert "Where should I send the reset link" in _ask(chat, "Tico")
        assert "did the reset work?" in _ask(chat, "by email")

        with smtp_server() as (port, inbox):
            _deliver(web_stack, port)
        [email] = [m for m in inbox.messages if m["To"] == INES_EMAIL]
        link = LINK.search(email.get_content())
        assert link is not None

        page = context.new_page()
        page.goto(link.group(0))
        page.get_by_label("New password").wait_for(timeout=TIMEOUT_MS)
        assert "Hi Ines" in page.locator("#hello").inner_text()
        assert "token" not in page.url  # the page drops it from the address bar
        page.get_by_label("New password").fill("tico")
        page.get_by_label("Type it again").fill("tico")
        page.get_by_role("button", name="Set new password").click()
        page.locator("#reset-error").filter(has_text="at least 10 characters").wait_for(
            timeout=TIMEOUT_MS
        )
        page.get_by_label("New password").fill("Beacon-Hill-77")
        page.get_by_label("Type it again").fill("Beacon-Hill-77")
        page.get_by_role("button", name="Set new password").click()
        page.locator("#done-text").filter(has_text="password has been changed").wait_for(
            timeout=TIMEOUT_MS
        )
        page.screenshot(path=str(artifacts / "reset-page-done.png"))

        again = context.new_page()  # the link works once
        again.goto(link.group(0))
        again.locator("#done-title").filter(has_text="doesn't work").wait_for(timeout=TIMEOUT_MS)
        assert "already been used" in again.locator("#done-text").inner_text()

        chat.bring_to_front()
        confirmed = _ask(chat, "yes it worked")
        assert "I can see the new password was set" in confirmed
        chat.screenshot(path=str(artifacts / "reset-confirmed-in-chat.png"))
    finally:
        context.close()
