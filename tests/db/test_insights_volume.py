"""Volume test of the lead's overview (issue #31): a seeded history of QC_INSIGHTS_VOLUME
conversations (default 2000; `QC_INSIGHTS_VOLUME=100000` for the figure in docs/benchmark.md)
is indexed and queried; the figures are checked against the scripts, the timings printed
(`-s` shows them), never asserted."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from qa import insights_history as history
from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work
from quickconnect.insights import indexer, report, tracker
from quickconnect.insights.period import Period

START = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 90


def test_overview_on_a_large_history(scratch_engine: Engine, backend: str) -> None:
    count = int(os.environ.get("QC_INSIGHTS_VOLUME") or 2000)
    scripts = history.scripts(count, start=START, days=DAYS, seed=99, prefix="vol")
    with scratch_engine.begin() as conn:
        tracker.ensure_events_table(conn)
    with unit_of_work(scratch_engine) as session:
        customer = session.execute(
            select(m.Customer.id).where(m.Customer.account_number == "QC-100001")
        ).scalar_one()
    t0 = time.perf_counter()
    with scratch_engine.begin() as conn:
        history.write(conn, conn, scripts, customer_id=customer, batch=5000)
    seeded = time.perf_counter() - t0
    with scratch_engine.connect() as conn:
        rows = tracker.max_event_id(conn)
    t0 = time.perf_counter()
    with unit_of_work(scratch_engine) as session:
        assert indexer.refresh(session, scratch_engine) == count
    indexed = time.perf_counter() - t0
    t0 = time.perf_counter()
    with unit_of_work(scratch_engine) as session:
        again = indexer.refresh(session, scratch_engine)
    incremental = time.perf_counter() - t0
    period = Period.days(START.date(), (START + timedelta(days=DAYS - 1)).date())
    timings: dict[str, float] = {}
    with unit_of_work(scratch_engine) as session:
        for name, call in (
            ("overview", lambda: report.overview(session, period)),
            ("funnels", lambda: report.funnels(session, period)),
            (
                "list",
                lambda: report.conversations(
                    session,
                    report.Filters.from_query(
                        {"from": "2026-06-01", "to": "2026-08-29", "fallback": "yes"}
                    ),
                ),
            ),
        ):
            best = float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                result = call()
                best = min(best, time.perf_counter() - t0)
            timings[name] = best
            if name == "overview":
                figures = result
    assert figures["conversations"] == count
    assert figures["handed_off"] == sum(1 for s in scripts if s.handoff_reason)
    assert figures["changes_applied"]["plan_change"] == sum(
        1 for s in scripts if s.flow == "plan_change" and s.reach >= 4
    )
    print(
        f"\n[insights volume] {backend}: {count} conversations, {rows} tracker events; "
        f"seed {seeded:.1f} s, first index {indexed:.1f} s, "
        f"refresh with nothing new {incremental * 1000:.0f} ms ({again} re-read); "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())
        + " (best of 3)"
    )
