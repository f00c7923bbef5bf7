"""The support lead's pages and API (issue #31) on the real stack: an agent gets 403 from
every one, nobody signed in gets 401, another origin 403, and a lead gets the page, the
figures and the exports, each export logged in the account database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from ops.stack import Stack
from quickconnect.seed import (
    DEMO_AGENT_PASSWORD,
    DEMO_AGENT_USERNAME,
    DEMO_LEAD_PASSWORD,
    DEMO_LEAD_USERNAME,
)
from tests.webstack import http

LEAD_ENDPOINTS = [
    ("GET", "agent/api/lead/flows", None),
    ("GET", "agent/api/lead/overview", None),
    ("GET", "agent/api/lead/conversations", None),
    ("GET", "agent/api/lead/conversations/web-0000", None),
    ("POST", "agent/api/lead/conversations/web-0000/tags", {"tag": "x"}),
    ("POST", "agent/api/lead/conversations/web-0000/tags/delete", {"tag": "x"}),
    ("GET", "agent/api/lead/export/overview.csv", None),
    ("GET", "agent/api/lead/export/conversations.csv", None),
    ("GET", "agent/api/lead/inbox", None),
    ("POST", "agent/api/lead/inbox/1", {"dismiss": True}),
    ("GET", "agent/api/lead/export/inbox.yml", None),
]


def _sign_in(stack: Stack, username: str, password: str) -> str:
    status, headers, answer = http(
        stack, "POST", "agent/login", {"username": username, "password": password}
    )
    assert status == 200, answer
    return headers["Set-Cookie"].split(";", 1)[0]


@pytest.fixture(scope="module")
def agent_cookie(web_stack: Stack) -> Iterator[str]:
    cookie = _sign_in(web_stack, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD)
    yield cookie
    http(web_stack, "POST", "agent/logout", {}, {"Cookie": cookie})


@pytest.fixture(scope="module")
def lead_cookie(web_stack: Stack) -> Iterator[str]:
    cookie = _sign_in(web_stack, DEMO_LEAD_USERNAME, DEMO_LEAD_PASSWORD)
    yield cookie
    http(web_stack, "POST", "agent/logout", {}, {"Cookie": cookie})


def _exports_logged(stack: Stack) -> list[tuple[str, str, int]]:
    path = stack.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT actor, what, rows FROM export_log ORDER BY id").fetchall()


@pytest.mark.parametrize(("method", "path", "body"), LEAD_ENDPOINTS)
def test_an_agent_gets_403_from_the_lead_api(
    web_stack: Stack, agent_cookie: str, method: str, path: str, body: object
) -> None:
    status, _, answer = http(web_stack, method, path, body, {"Cookie": agent_cookie})
    assert status == 403 and "lead" in answer["error"]
    status, _, _ = http(web_stack, method, path, body)
    assert status == 401


def test_an_agent_gets_403_from_the_lead_page(web_stack: Stack, agent_cookie: str) -> None:
    status, _, body = http(web_stack, "GET", "agent/lead", headers={"Cookie": agent_cookie})
    assert status == 403 and "support lead" in body
    status, _, _ = http(web_stack, "GET", "agent/lead")
    assert status == 401
    # the agent's own console still works with the same session
    status, _, me = http(web_stack, "GET", "agent/api/me", headers={"Cookie": agent_cookie})
    assert status == 200 and me["role"] == "agent"


def test_the_lead_gets_the_page_the_figures_and_logged_exports(
    web_stack: Stack, lead_cookie: str
) -> None:
    status, headers, body = http(web_stack, "GET", "agent/lead", headers={"Cookie": lead_cookie})
    assert status == 200 and "Lead insights" in body
    assert (
        "frame-ancestors 'none'"
        in {k.lower(): v for k, v in headers.items()}["content-security-policy"]
    )
    status, _, chart_js = http(web_stack, "GET", "agent/lead/vendor/uPlot.iife.min.js")
    assert status == 200 and "uPlot" in chart_js  # served here, no CDN
    status, _, figures = http(
        web_stack, "GET", "agent/api/lead/overview", headers={"Cookie": lead_cookie}
    )
    assert status == 200 and set(figures) == {"overview", "funnels"}
    assert {f["flow"] for f in figures["funnels"]} >= {"plan_change", "account_recovery"}
    before = len(_exports_logged(web_stack))
    status, headers, text = http(
        web_stack, "GET", "agent/api/lead/export/overview.csv", headers={"Cookie": lead_cookie}
    )
    headers = {k.lower(): v for k, v in headers.items()}
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"] and text.startswith("metric,value")
    status, _, listing = http(
        web_stack,
        "GET",
        "agent/api/lead/export/conversations.csv?fallback=yes",
        headers={"Cookie": lead_cookie},
    )
    assert status == 200 and listing.startswith("conversation_id,")
    logged = _exports_logged(web_stack)[before:]
    assert [(actor, what) for actor, what, _ in logged] == [
        (DEMO_LEAD_USERNAME, "overview_csv"),
        (DEMO_LEAD_USERNAME, "conversations_csv"),
    ]
    assert logged[1][2] == len(listing.strip().splitlines()) - 1


def test_lead_api_refuses_other_origins_and_form_posts(web_stack: Stack, lead_cookie: str) -> None:
    evil = {"Cookie": lead_cookie, "Origin": "http://evil.example"}
    status, _, _ = http(web_stack, "GET", "agent/api/lead/overview", headers=evil)
    assert status == 403
    status, _, _ = http(
        web_stack,
        "POST",
        "agent/api/lead/conversations/web-0000/tags",
        None,
        {"Cookie": lead_cookie, "Content-Type": "text/plain"},
    )
    assert status == 415


def test_marking_a_misunderstood_line_needs_an_agent(web_stack: Stack, agent_cookie: str) -> None:
    path = "agent/api/cases/CS-000001/misunderstood"
    status, _, _ = http(web_stack, "POST", path, {"ts": 1.0})
    assert status == 401
    status, _, answer = http(web_stack, "POST", path, {"ts": 1.0}, {"Cookie": agent_cookie})
    assert status == 409 and "CS-000001" in answer["error"]  # no such case: nothing marked
