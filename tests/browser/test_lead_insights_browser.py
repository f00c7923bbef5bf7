"""The support lead's insights in Chromium on a history driven through the real stack (#31).

`qa.insights_drive` runs QC_INSIGHTS_DRIVE conversations (default 70: ten of each of its seven
kinds) through the REST channel of the shared test stack: the trained model, the action
server, the databases. Then the lead signs in, and every figure the pages show is compared
with SQL counts on the stack's own account database and tracker store (not with what the
drive meant to happen: the model decides). The funnel's "left here" link lists exactly the
conversations SQL says stopped there; a transcript shows intents and confidences; a tag is
added; a fallback line is labelled in the NLU inbox and exported. An agent gets 403 on the
page. Screenshots go to results/artifacts/lead-*.png.
"""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.stack import Stack
from qa import insights_drive
from quickconnect.seed import (
    DEMO_AGENT_PASSWORD,
    DEMO_AGENT_USERNAME,
    DEMO_LEAD_PASSWORD,
    DEMO_LEAD_USERNAME,
)
from tests.webstack import http, web_url

TIMEOUT_MS = 60_000
DRIVE = int(os.environ.get("QC_INSIGHTS_DRIVE") or 70)


def _start() -> str:
    """The lead page's default period starts 29 days before today (UTC), as SQLite stores it."""
    day = datetime.now(UTC).date() - timedelta(days=29)
    return f"{day.isoformat()} 00:00:00"


def _sql(stack: Stack, database: str, query: str, *params: Any) -> Any:
    url = (
        stack.settings.database_url if database == "accounts" else stack.settings.tracker_store_url
    )
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(query, params).fetchall()


def _one(stack: Stack, database: str, query: str, *params: Any) -> int:
    return int(_sql(stack, database, query, *params)[0][0] or 0)


def sql_figures(stack: Stack) -> dict[str, Any]:
    """The lead's figures counted directly in SQL, independently of quickconnect.insights."""
    start = _start()
    senders = {
        s for (s,) in _sql(stack, "tracker", "SELECT DISTINCT sender_id FROM events")
    }  # every conversation started today or in this test session
    handed = {
        c for (c,) in _sql(stack, "accounts", "SELECT DISTINCT conversation_id FROM cases")
    } & senders
    fallback = _one(
        stack,
        "tracker",
        "SELECT COUNT(DISTINCT sender_id) FROM events WHERE (type_name = 'user' AND "
        "intent_name = 'nlu_fallback') OR (type_name = 'action' AND "
        "action_name = 'action_default_fallback')",
    )
    attempts = dict(
        _sql(
            stack,
            "accounts",
            "SELECT success, COUNT(*) FROM verification_attempts WHERE created_at >= ? "
            "AND stage = 'verify' GROUP BY success",
            start,
        )
    )
    plan_started = _one(
        stack,
        "tracker",
        "SELECT COUNT(DISTINCT sender_id) FROM events WHERE (type_name = 'user' AND "
        "intent_name = 'change_plan') OR (type_name IN ('action', 'active_loop') AND action_name "
        "IN ('action_start_plan_change', 'plan_change_form', 'action_quote_plan_change'))",
    )
    quoted = {
        s
        for (s,) in _sql(
            stack,
            "tracker",
            "SELECT DISTINCT sender_id FROM events WHERE type_name = 'action' AND "
            "action_name = 'action_quote_plan_change'",
        )
    }
    confirmed = {
        s
        for (s,) in _sql(
            stack,
            "tracker",
            "SELECT DISTINCT sender_id FROM events WHERE type_name = 'action' AND "
            "action_name = 'action_confirm_change'",
        )
    }
    applied_plan = {
        c
        for (c,) in _sql(
            stack,
            "accounts",
            "SELECT conversation_id FROM pending_changes WHERE status = 'applied' AND "
            "kind = 'plan_change'",
        )
    }
    return {
        "conversations": len(senders),
        "handed_off": len(handed),
        "with_fallback": fallback,
        "verification_succeeded": int(attempts.get(1, 0)),
        "verification_failed": int(attempts.get(0, 0)),
        "unknown_account": _one(
            stack,
            "accounts",
            "SELECT COUNT(*) FROM verification_attempts WHERE created_at >= ? AND "
            "stage = 'identify' AND success = 0",
            start,
        ),
        "lockouts": _one(
            stack,
            "accounts",
            "SELECT COUNT(*) FROM verification_lockouts WHERE locked_at >= ?",
            start,
        ),
        "plan_changes_applied": _one(
            stack,
            "accounts",
            "SELECT COUNT(*) FROM pending_changes WHERE status = 'applied' AND "
            "kind = 'plan_change' AND applied_at >= ?",
            start,
        ),
        "plan_started": plan_started,
        # quoted, and neither confirmed nor applied: left at "proposed"
        "plan_left_at_proposed": quoted - confirmed - applied_plan,
    }


@pytest.fixture(scope="module")
def driven(web_stack: Stack) -> list[insights_drive.Chat]:
    return insights_drive.drive(web_stack.rasa_url, DRIVE, prefix=f"lead-{uuid.uuid4().hex[:6]}")


def _sign_in(page: Any, stack: Stack, username: str, password: str) -> None:
    page.goto(web_url(stack, "agent"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#me-name").filter(has_text=" ").first.wait_for(timeout=TIMEOUT_MS)


def _kpi(page: Any, name: str) -> str:
    return str(page.locator(f"#kpi-{name}").inner_text())


def test_lead_answers_the_three_questions_from_the_console(
    web_stack: Stack,
    browser: Any,
    artifacts: Path,
    driven: list[insights_drive.Chat],
    tmp_path: Path,
) -> None:
    assert len(driven) == DRIVE
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _sign_in(page, web_stack, DEMO_LEAD_USERNAME, DEMO_LEAD_PASSWORD)
        page.locator("#lead-link").click()
        page.locator("#kpi-conversations").wait_for(timeout=TIMEOUT_MS)
        expected = sql_figures(web_stack)  # after the page indexed everything driven so far
        print(f"\n[lead insights] {DRIVE} conversations driven; SQL figures: {expected}")
        assert expected["conversations"] >= DRIVE  # the drive reached the tracker store

        # 1. how many chats did the bot finish without a person
        assert _kpi(page, "conversations") == str(expected["conversations"])
        assert _kpi(page, "handed-off").startswith(f"{expected['handed_off']} (")
        contained = expected["conversations"] - expected["handed_off"]
        assert _kpi(page, "containment") == f"{100 * contained / expected['conversations']:.1f} %"
        assert _kpi(page, "fallback") == str(expected["with_fallback"])
        assert _kpi(page, "verification") == (
            f"{expected['verification_succeeded']} / {expected['verification_failed']}"
        )
        assert _kpi(page, "lockouts") == str(expected["lockouts"])
        assert _kpi(page, "unknown-account") == str(expected["unknown_account"])
        assert page.locator("#chart-daily canvas").count() >= 1  # uPlot drew the chart
        _, _, figures = http(web_stack, "GET", "agent/api/lead/overview", headers=_cookie(context))
        assert (
            figures["overview"]["changes_applied"]["plan_change"]
            == expected["plan_changes_applied"]
        )
        page.screenshot(path=str(artifacts / "lead-overview.png"), full_page=True)

        # 2. where do customers drop out of each flow
        page.locator("#tab-funnels").click()
        plan = page.locator('.funnel[data-flow="plan_change"]')
        started = plan.locator('.step[data-step="started"] .reached')
        assert started.inner_text() == str(expected["plan_started"])
        page.screenshot(path=str(artifacts / "lead-funnels.png"), full_page=True)
        left = expected["plan_left_at_proposed"]
        link = plan.locator('.step[data-step="proposed"] a.stopped')
        if left:
            assert link.inner_text() == f"{len(left)} left here"
            link.click()
            page.locator("#review-total").filter(has_text=_exactly(len(left))).wait_for(
                timeout=TIMEOUT_MS
            )
            rows = page.locator("#conv-rows tr.conv")
            shown = {rows.nth(i).get_attribute("data-conversation") for i in range(rows.count())}
            assert shown == left
            page.screenshot(path=str(artifacts / "lead-left-at-proposed.png"), full_page=True)
        else:
            assert link.count() == 0

        # conversation review: a chat with a fallback, its intents and confidences, a tag
        page.locator("#tab-review").click()
        page.locator("#f-flow").select_option("")
        page.locator("#f-stopped").select_option("")
        page.locator("#f-fallback").select_option("yes")
        page.get_by_role("button", name="Filter").click()
        page.locator("#review-total").filter(has_text=_exactly(expected["with_fallback"])).wait_for(
            timeout=TIMEOUT_MS
        )
        page.locator("#conv-rows tr.conv").first.click()
        nlu = page.locator("#detail-transcript .msg.customer .nlu")
        nlu.first.wait_for(timeout=TIMEOUT_MS)
        labels = [nlu.nth(i).inner_text() for i in range(nlu.count())]
        assert labels and all(re.fullmatch(r"\S+ [01]\.\d\d", x) for x in labels), labels
        page.locator("#tag-input").fill("misread")
        page.locator("#tag-input").press("Enter")
        page.locator("#detail-tags .tag").filter(has_text="misread").wait_for(timeout=TIMEOUT_MS)
        page.screenshot(path=str(artifacts / "lead-review.png"), full_page=True)

        # 3. what did it fail to understand: label a fallback line, export it
        page.locator("#tab-inbox").click()
        # the drive's unreadable line, if the model fell back on it; else any line in the inbox
        rows = page.locator("#inbox-rows tr.inbox-item")
        rows.first.wait_for(timeout=TIMEOUT_MS)
        wanted = rows.filter(has_text="zxqv blorp wint flurb")
        plain = rows.filter(has_not_text="***")  # masked contact details do not export
        row = wanted.first if wanted.count() else plain.first
        text = row.locator("td").first.inner_text().strip()
        row.locator("select").select_option("out_of_scope")
        row.get_by_role("button", name="Accept").click()
        page.locator("#flash").filter(has_text="Labelled: out_of_scope").wait_for(
            timeout=TIMEOUT_MS
        )
        page.screenshot(path=str(artifacts / "lead-inbox.png"), full_page=True)
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.locator("#inbox-export").click()
        saved = tmp_path / "inbox.yml"
        download.value.save_as(saved)
        exported = yaml.safe_load(saved.read_text())
        by_intent = {item["intent"]: item["examples"] for item in exported["nlu"]}
        assert f"- {text}\n" in by_intent["out_of_scope"]
        logged = _sql(
            web_stack, "accounts", "SELECT actor, what FROM export_log ORDER BY id DESC LIMIT 1"
        )
        assert logged == [(DEMO_LEAD_USERNAME, "nlu_inbox_yml")]
    finally:
        http(web_stack, "POST", "agent/logout", {}, _cookie(context))
        context.close()


def _exactly(n: int) -> re.Pattern[str]:
    return re.compile(rf"^{n}$")


def _cookie(context: Any) -> dict[str, str]:
    found = [c for c in context.cookies() if c["name"] == "qc_agent_session"]
    return {"Cookie": f"qc_agent_session={found[0]['value']}"} if found else {}


def test_an_agent_cannot_open_the_lead_page(
    web_stack: Stack, browser: Any, artifacts: Path
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        _sign_in(page, web_stack, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD)
        assert page.locator("#lead-link").is_hidden()
        answer = page.goto(web_url(web_stack, "agent/lead"))
        assert answer is not None and answer.status == 403
        assert "for the support lead" in page.content()
        page.screenshot(path=str(artifacts / "lead-agent-403.png"))
    finally:
        http(web_stack, "POST", "agent/logout", {}, _cookie(context))
        context.close()


def test_an_agent_marks_a_misread_line_for_the_leads_inbox(
    web_stack: Stack, browser: Any, artifacts: Path
) -> None:
    from tests.browser.test_widget_handoff import _ask, _open_widget

    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    customer_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    agent, customer = agent_ctx.new_page(), customer_ctx.new_page()
    line = f"my box does the wobbly light dance {uuid.uuid4().hex[:4]}"
    try:
        _sign_in(agent, web_stack, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD)
        agent.locator("#conn").filter(has_text="online").wait_for(timeout=TIMEOUT_MS)
        _open_widget(customer, web_stack)
        _ask(customer, "hi")
        _ask(customer, line)
        answer = _ask(customer, "I want to talk to a person")
        case_number = re.search(r"CS-\d{6}", answer).group(0)
        agent.locator(f".qitem[data-case='{case_number}']").wait_for(timeout=TIMEOUT_MS)
        agent.get_by_role("button", name=f"Take chat {case_number}").click()
        mine = agent.locator("#transcript .line.user").filter(has_text=line)
        mine.wait_for(timeout=TIMEOUT_MS)
        mine.get_by_role("button", name="Bot misunderstood").click()
        mine.get_by_role("button", name="Sent to the NLU inbox").wait_for(timeout=TIMEOUT_MS)
        agent.screenshot(path=str(artifacts / "lead-agent-marks-misunderstood.png"))
        agent_id = _one(
            web_stack, "accounts", "SELECT id FROM agents WHERE username = ?", DEMO_AGENT_USERNAME
        )
        assert _sql(
            web_stack, "accounts", "SELECT marked_by, status FROM nlu_inbox WHERE text = ?", line
        ) == [(agent_id, "new")]
        lead = _cookie_of(web_stack, DEMO_LEAD_USERNAME, DEMO_LEAD_PASSWORD)
        try:
            status, _, listed = http(web_stack, "GET", "agent/api/lead/inbox", headers=lead)
            assert status == 200 and line in [i["text"] for i in listed["items"]]
        finally:
            http(web_stack, "POST", "agent/logout", {}, lead)
        agent.locator("#resolve-open").click()
        agent.locator("#resolve-note").fill("Checked the router; line sent to the NLU inbox.")
        agent.get_by_role("button", name="Resolve and leave chat").click()
        agent.locator("#chat-actions").wait_for(state="hidden", timeout=TIMEOUT_MS)
    finally:
        http(web_stack, "POST", "agent/logout", {}, _cookie(agent_ctx))
        agent_ctx.close()
        customer_ctx.close()


def _cookie_of(stack: Stack, username: str, password: str) -> dict[str, str]:
    status, headers, _ = http(
        stack, "POST", "agent/login", {"username": username, "password": password}
    )
    assert status == 200
    return {"Cookie": headers["Set-Cookie"].split(";", 1)[0]}
