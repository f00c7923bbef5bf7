"""A verification lockout in real browsers (issue #25): a customer in the widget fails the
account's last allowed answers and is told checks are paused; the agent console lists the
lockout, the agent clears it with a note; a new chat in the widget then verifies.
Screenshots go to results/artifacts/."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from ops.stack import Stack
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.services import identity
from tests.browser.test_widget_handoff import TIMEOUT_MS, _ask, _open_widget, _sign_in

DANA = "QC-100004"  # security answer Lagos


def _fail_in_other_chats(stack: Stack, failures: int) -> None:
    """Earlier failed answers for Dana from other chats, through the same service."""
    engine = make_engine(stack.settings.database_url)
    try:
        for _ in range(failures):
            with unit_of_work(engine) as session:
                chat = f"earlier-{uuid.uuid4().hex[:10]}"
                identity.identify_account(session, chat, DANA, client_key="ip:127.66.0.1")
                identity.verify_factor(session, chat, DANA, "Abuja", client_key="ip:127.66.0.1")
    finally:
        engine.dispose()


def test_agent_clears_a_lockout_in_the_console(
    browser: Any, web_stack: Stack, artifacts: Path
) -> None:
    _fail_in_other_chats(web_stack, identity.ACCOUNT_MAX_FAILURES - 1)
    customer = browser.new_context(viewport={"width": 1100, "height": 800})
    agent = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = customer.new_page()
        _open_widget(page, web_stack)
        _ask(page, "what plan am I on?")
        assert "first pet" not in _ask(page, DANA)
        locked = _ask(page, "Accra")  # the account's fifth failed answer
        assert "paused in chat" in locked
        page.screenshot(path=str(artifacts / "lockout-customer.png"))

        console = agent.new_page()
        _sign_in(console, web_stack)
        item = console.locator("#lockouts .lockout").filter(has_text=DANA)
        item.wait_for(timeout=TIMEOUT_MS)
        assert "Dana Okafor" in item.inner_text() and "holder notified" in item.inner_text()
        console.screenshot(path=str(artifacts / "lockout-console.png"))
        console.once("dialog", lambda dialog: dialog.accept("Called her back on file number"))
        item.get_by_role("button", name=f"Clear lockout of {DANA}").click()
        console.locator("#flash").filter(has_text=f"Lockout of {DANA} cleared").wait_for(
            timeout=TIMEOUT_MS
        )
        assert console.locator("#lockouts .lockout").filter(has_text=DANA).count() == 0

        # a new browser context: a new session token, so a new conversation
        other = browser.new_context(viewport={"width": 1100, "height": 800})
        try:
            again = other.new_page()
            _open_widget(again, web_stack)
            _ask(again, "what plan am I on?")
            _ask(again, DANA)
            assert "Thanks, Dana" in _ask(again, "Lagos")
        finally:
            other.close()
    finally:
        customer.close()
        agent.close()
