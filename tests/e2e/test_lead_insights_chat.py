"""The lead's figures on both production setups (issue #31): real chats driven through the
REST channel of the SQLite stack and of the PostgreSQL + Redis stack, then the lead API's
overview, funnel and conversation list compared with SQL counts on that stack's stores."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from ops.stack import Stack
from qa import insights_drive
from qa.live import AccountDatabase
from quickconnect.seed import DEMO_LEAD_PASSWORD, DEMO_LEAD_USERNAME
from tests.e2e.conftest import query


def _api(
    stack: Stack, path: str, body: object | None = None, cookie: str = ""
) -> tuple[int, Any, dict]:
    request = urllib.request.Request(
        f"{stack.rasa_url}/webhooks/webchat/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 (local)
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def _tracker(stack: Stack, sql: str) -> list[tuple]:
    url = stack.settings.tracker_store_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def seeded_after(stack: Stack) -> Iterator[None]:
    """The drive changes demo accounts (plans accepted, cases opened) on the session's shared
    stack: the account database goes back to the seed afterwards, for the tests after it."""
    yield
    database = AccountDatabase(stack.settings.database_url)
    try:
        database.reset()
    finally:
        database.close()


def test_lead_figures_match_sql_on_this_stack(stack: Stack, seeded_after: None) -> None:
    insights_drive.drive(stack.rasa_url, 14, prefix=f"e2e-lead-{uuid.uuid4().hex[:6]}")
    status, _, headers = _api(
        stack, "agent/login", {"username": DEMO_LEAD_USERNAME, "password": DEMO_LEAD_PASSWORD}
    )
    assert status == 200
    cookie = {k.lower(): v for k, v in headers.items()}["set-cookie"].split(";", 1)[0]
    try:
        status, figures, _ = _api(stack, "agent/api/lead/overview", cookie=cookie)
        assert status == 200
        overview = figures["overview"]
        senders = {s for (s,) in _tracker(stack, "SELECT DISTINCT sender_id FROM events")}
        handed = {c for (c,) in query(stack, "SELECT DISTINCT conversation_id FROM cases")}
        fallback = _tracker(
            stack,
            "SELECT COUNT(DISTINCT sender_id) FROM events WHERE (type_name = 'user' AND "
            "intent_name = 'nlu_fallback') OR (type_name = 'action' AND "
            "action_name = 'action_default_fallback')",
        )[0][0]
        answers = dict(
            query(
                stack,
                "SELECT success, COUNT(*) FROM verification_attempts WHERE stage = 'verify' "
                "GROUP BY success",
            )
        )
        applied = query(
            stack,
            "SELECT COUNT(*) FROM pending_changes "
            "WHERE status = 'applied' AND kind = 'plan_change'",
        )[0][0]
        assert overview["conversations"] == len(senders)
        assert overview["handed_off"] == len(handed & senders)
        assert overview["with_fallback"] == fallback
        assert overview["verification"]["succeeded"] == answers.get(True, 0)
        assert overview["verification"]["failed"] == answers.get(False, 0)
        assert overview["changes_applied"]["plan_change"] == applied
        quoted = {
            s
            for (s,) in _tracker(
                stack,
                "SELECT DISTINCT sender_id FROM events WHERE type_name = 'action' AND "
                "action_name = 'action_quote_plan_change'",
            )
        }
        confirmed = {
            s
            for (s,) in _tracker(
                stack,
                "SELECT DISTINCT sender_id FROM events WHERE type_name = 'action' AND "
                "action_name = 'action_confirm_change'",
            )
        }
        plan = next(f for f in figures["funnels"] if f["flow"] == "plan_change")
        assert plan["steps"][2]["reached"] == len(quoted)
        status, listed, _ = _api(
            stack,
            "agent/api/lead/conversations?flow=plan_change&stopped_at=proposed&limit=1000",
            cookie=cookie,
        )
        assert status == 200
        assert {i["conversation_id"] for i in listed["items"]} == quoted - confirmed
    finally:
        _api(stack, "agent/logout", {}, cookie)
