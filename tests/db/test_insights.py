"""The lead's insights on the real database (SQLite and PostgreSQL): a scripted history is
written as tracker rows and account records, indexed, and every figure is checked against
what the scripts say happened (issue #31)."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from qa import insights_history as history
from quickconnect.db import models as m
from quickconnect.insights import exports, indexer, report, review, tracker
from quickconnect.insights.flows import FLOWS, STEPS
from quickconnect.insights.period import Period
from quickconnect.services.agent_console import AgentInfo

START = datetime(2026, 11, 1, tzinfo=UTC)
LEAD = AgentInfo(1, "lead.demo", "Robin", "lead")
AGENT = AgentInfo(2, "agent.demo", "Sam", "agent")


@pytest.fixture(scope="module", autouse=True)
def _events_table(engine: Engine) -> None:
    with engine.begin() as conn:
        tracker.ensure_events_table(conn)


def _customer(session: Session) -> int:
    query = select(m.Customer.id).where(m.Customer.account_number == "QC-100001")
    return int(session.execute(query).scalar_one())


def _seeded(session: Session, count: int = 240) -> list[history.Script]:
    scripts = history.scripts(count, start=START, days=20, seed=7)
    history.write(
        session.connection(), session.connection(), scripts, customer_id=_customer(session)
    )
    assert indexer.refresh(session, session.connection()) == count
    return scripts


def test_overview_matches_the_scripted_history(session: Session) -> None:
    scripts = _seeded(session)
    period = Period.days(START.date(), (START + timedelta(days=9)).date())
    inside = [s for s in scripts if period.start <= s.started_at < period.end]
    got = report.overview(session, period)
    handed = [s for s in inside if s.handoff_reason]
    assert got["conversations"] == len(inside) > 0
    assert got["handed_off"] == len(handed)
    assert got["contained"] == len(inside) - len(handed)
    assert got["containment_rate"] == round((len(inside) - len(handed)) / len(inside), 4)
    assert got["completed"] == sum(1 for s in inside if s.reach >= 4 and not s.handoff_reason)
    assert got["with_fallback"] == sum(1 for s in inside if s.fallback)
    reasons = {r["reason"]: r["count"] for r in got["handoff_reasons"]}
    assert reasons == {
        reason: n
        for reason in history.REASONS
        if (n := sum(1 for s in handed if s.handoff_reason == reason))
    }
    flowed = [s for s in inside if s.flow]
    assert got["verification"] == {
        "succeeded": sum(1 for s in flowed if s.reach >= 1),
        "failed": sum(1 for s in flowed if s.verify_failed),
        "unknown_account": 0,
        "lockouts": sum(1 for s in flowed if s.verify_failed and s.reach == 0),
    }
    assert len(got["daily"]) == 10  # every day of the period, empty days too
    for flow in FLOWS:
        assert got["changes_applied"][flow.name] == sum(
            1 for s in flowed if s.flow == flow.name and s.reach >= 4
        )
    # cases are resolved a few minutes after they open; all of these resolve in the period
    resolved = [
        s.handling_seconds for s in handed if s.started_at < period.end - timedelta(hours=1)
    ]
    assert got["cases_resolved"] >= len(resolved)
    assert got["median_handling_seconds"] is not None
    assert sum(d["conversations"] for d in got["daily"]) == len(inside)
    all_time = report.overview(
        session, Period.days(START.date(), (START + timedelta(days=25)).date())
    )
    assert all_time["median_handling_seconds"] == round(
        statistics.median(s.handling_seconds for s in scripts if s.handoff_reason)
    )


def test_funnels_count_each_step_and_where_customers_left(session: Session) -> None:
    scripts = _seeded(session)
    period = Period.days(START.date(), (START + timedelta(days=25)).date())
    for flow in FLOWS:
        mine = [s for s in scripts if s.flow == flow.name]
        got = report.funnel(session, flow.name, period)
        for step in got["steps"]:
            i = step["index"]
            assert step["reached"] == sum(1 for s in mine if s.reach >= i), (flow.name, step)
            if i < len(STEPS) - 1:
                assert step["stopped"] == sum(1 for s in mine if s.reach == i)
        # the funnel's link: the conversations that stopped at a step are exactly those
        stopped = report.conversations(
            session,
            report.Filters.from_query(
                {
                    "from": "2026-11-01",
                    "to": "2026-11-26",
                    "flow": flow.name,
                    "stopped_at": "proposed",
                    "limit": "1000",
                }
            ),
        )
        assert {i["conversation_id"] for i in stopped["items"]} == {
            s.conversation_id for s in mine if s.reach == STEPS.index("proposed")
        }


def test_conversation_filters(session: Session) -> None:
    scripts = _seeded(session)
    base = {"from": "2026-11-01", "to": "2026-11-30", "limit": "1000"}

    def ids(**extra: str) -> set[str]:
        got = report.conversations(session, report.Filters.from_query({**base, **extra}))
        assert got["total"] == len(got["items"])
        return {i["conversation_id"] for i in got["items"]}

    assert ids(fallback="yes") == {s.conversation_id for s in scripts if s.fallback}
    assert ids(handed_off="no") == {s.conversation_id for s in scripts if not s.handoff_reason}
    assert ids(outcome="completed") == {
        s.conversation_id for s in scripts if s.reach >= 4 and not s.handoff_reason
    }
    assert ids(flow="plan_change", handed_off="yes") == {
        s.conversation_id for s in scripts if s.flow == "plan_change" and s.handoff_reason
    }
    day = report.Filters.from_query({"from": "2026-11-03", "to": "2026-11-03", "limit": "1000"})
    assert {i["conversation_id"] for i in report.conversations(session, day)["items"]} == {
        s.conversation_id for s in scripts if s.started_at.date().isoformat() == "2026-11-03"
    }
    with pytest.raises(ValueError):
        report.Filters.from_query({"flow": "no_such_flow"})


def test_refresh_picks_up_new_events_of_a_known_conversation(session: Session) -> None:
    script = history.Script(
        "conv-incremental", START + timedelta(hours=2), flow="plan_change", reach=2
    )
    history.write(
        session.connection(), session.connection(), [script], customer_id=_customer(session)
    )
    assert indexer.refresh(session, session.connection()) == 1
    row = session.get(m.InsightConversation, "conv-incremental")
    assert (row.outcome, row.handed_off) == ("contained", False)
    later = history.Script(
        "conv-incremental", START + timedelta(hours=3), handoff_reason="customer_request"
    )
    history.write(
        session.connection(), session.connection(), [later], customer_id=_customer(session)
    )
    assert indexer.refresh(session, session.connection()) >= 1
    session.expire_all()
    row = session.get(m.InsightConversation, "conv-incremental")
    assert (row.outcome, row.handoff_reason) == ("handed_off", "customer_request")
    assert row.started_at == script.started_at  # the whole conversation, not the new part
    step = session.execute(
        select(m.InsightFlow.step).where(m.InsightFlow.conversation_id == "conv-incremental")
    ).scalar_one()
    assert step == STEPS.index("proposed")
    assert (
        indexer.refresh(session, session.connection()) <= indexer.OVERLAP_ROWS
    )  # only the overlap


def test_transcript_shows_intents_and_masks_contact_details(session: Session) -> None:
    script = history.Script("conv-review", START, fallback=True)
    history.write(
        session.connection(), session.connection(), [script], customer_id=_customer(session)
    )
    typed = history._user(
        "mail me at jane.doe@example.com or call +1 415 555 0134, account QC-100001",
        "inform",
        0.42,
        START.timestamp() + 100,
    )
    session.connection().execute(
        tracker.EVENTS.insert(),
        [dict(next(history.tracker_rows(script)), data=json.dumps(typed))],
    )
    lead = review.transcript(session, "conv-review", LEAD, session.connection())
    customer = [x for x in lead["messages"] if x["sender"] == "customer"]
    assert [(x["intent"], x["confidence"]) for x in customer] == [
        ("greet", 0.97),
        ("nlu_fallback", 0.21),
        ("inform", 0.42),
    ]
    last = customer[-1]["text"]
    assert "jane.doe@example.com" not in last and "j***@e***.com" in last
    assert "415 555 0134" not in last and "34" in last
    assert "QC-100001" in last  # a lead sees account numbers
    agent_view = review.transcript(session, "conv-review", AGENT, session.connection())
    assert "QC-100001" not in agent_view["messages"][-1]["text"]
    with pytest.raises(LookupError):
        review.transcript(session, "conv-nobody", LEAD, session.connection())


def test_tags_filter_and_the_logged_csv_exports(session: Session) -> None:
    scripts = _seeded(session, 30)
    first, second = scripts[0].conversation_id, scripts[1].conversation_id
    assert review.add_tag(session, first, "Billing confusion", None) == ["billing confusion"]
    review.add_tag(session, first, "billing confusion", None)  # twice: still one tag
    review.add_tag(session, second, "good-example", None)
    with pytest.raises(ValueError):
        review.add_tag(session, first, "=HYPERLINK()", None)
    query = {"from": "2026-11-01", "to": "2026-11-30", "tag": "billing confusion"}
    got = report.conversations(session, report.Filters.from_query(query))
    assert [i["conversation_id"] for i in got["items"]] == [first]
    assert got["items"][0]["tags"] == ["billing confusion"]
    assert review.remove_tag(session, first, "billing confusion") == []
    everything = report.conversations(
        session,
        report.Filters.from_query({"from": "2026-11-01", "to": "2026-11-30", "limit": "100"}),
    )
    text = exports.conversations_csv(everything["items"])
    assert len(text.strip().splitlines()) == len(scripts) + 1
    overview_text, rows = exports.overview_csv(
        report.overview(session, Period.days(START.date(), (START + timedelta(days=25)).date()))
    )
    assert f"conversations,{len(scripts)}" in overview_text and rows > 10
    before = session.execute(select(func.count()).select_from(m.ExportLog)).scalar_one()
    exports.log_export(
        session, agent_id=None, actor="lead.demo", what="conversations_csv", filters=query, rows=1
    )
    assert session.execute(select(func.count()).select_from(m.ExportLog)).scalar_one() == before + 1
