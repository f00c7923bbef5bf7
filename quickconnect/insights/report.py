"""The lead's figures for a period: overview, funnels, the conversation list.

All queries run on the pre-aggregated rows (`insight_conversations`, `insight_flows`, kept by
`indexer.refresh`) and on indexed time columns of cases, changes and verification records,
so a page costs a handful of aggregates whatever the number of conversations.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from quickconnect.db.models import (
    Case,
    ConversationTag,
    InsightConversation,
    InsightFlow,
    PendingChange,
    VerificationAttempt,
    VerificationLockout,
)
from quickconnect.insights.flows import FLOW_BY_NAME, FLOWS, STEP_LABELS, STEPS, flow_of_change
from quickconnect.insights.period import Period

OUTCOMES = ("contained", "completed", "handed_off")
IC = InsightConversation


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def _day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def overview(session: Session, period: Period) -> dict[str, Any]:
    """Conversations, containment, handoffs and reasons, verification, changes, handling time."""
    in_period = _in(IC.started_at, period)
    row = session.execute(
        select(
            func.count(),
            func.sum(case((IC.handed_off.is_(True), 1), else_=0)),
            func.sum(case((IC.outcome == "completed", 1), else_=0)),
            func.sum(case((IC.fallbacks > 0, 1), else_=0)),
            func.sum(case((IC.verified.is_(True), 1), else_=0)),
        ).where(in_period)
    ).one()
    total, handed, completed, with_fallback, verified = (int(v or 0) for v in row)
    reasons = session.execute(
        select(IC.handoff_reason, func.count())
        .where(in_period, IC.handed_off.is_(True))
        .group_by(IC.handoff_reason)
        .order_by(func.count().desc())
    ).all()
    day = _day(session, IC.started_at)
    daily = session.execute(
        select(
            day,
            func.count(),
            func.sum(case((IC.handed_off.is_(True), 1), else_=0)),
        )
        .where(in_period)
        .group_by(day)
        .order_by(day)
    ).all()
    attempts = session.execute(
        select(VerificationAttempt.stage, VerificationAttempt.success, func.count())
        .where(_in(VerificationAttempt.created_at, period))
        .group_by(VerificationAttempt.stage, VerificationAttempt.success)
    ).all()
    by_stage = {(stage, bool(success)): int(n) for stage, success, n in attempts}
    lockouts = session.execute(
        select(func.count()).where(_in(VerificationLockout.locked_at, period))
    ).scalar_one()
    kinds = session.execute(
        select(PendingChange.kind, func.count())
        .where(PendingChange.status == "applied", _in(PendingChange.applied_at, period))
        .group_by(PendingChange.kind)
    ).all()
    applied = {flow.name: 0 for flow in FLOWS}
    for kind, n in kinds:
        flow = flow_of_change(kind) or "other"
        applied[flow] = applied.get(flow, 0) + int(n)
    handling = handling_times(session, period)
    return {
        "period": period.as_json(),
        "conversations": total,
        "contained": total - handed,
        "containment_rate": _rate(total - handed, total),
        "completed": completed,
        "handed_off": handed,
        "handoff_rate": _rate(handed, total),
        "handoff_reasons": [{"reason": r or "unknown", "count": int(n)} for r, n in reasons],
        "with_fallback": with_fallback,
        "verified_conversations": verified,
        "verification": {  # answers to the security question (stage verify)
            "succeeded": by_stage.get(("verify", True), 0),
            "failed": by_stage.get(("verify", False), 0),
            "unknown_account": by_stage.get(("identify", False), 0),
            "lockouts": int(lockouts),
        },
        "changes_applied": applied,
        "cases_resolved": len(handling),
        "median_handling_seconds": round(statistics.median(handling)) if handling else None,
        "daily": _every_day(period, {str(d): (int(n), int(h or 0)) for d, n, h in daily}),
    }


def _every_day(period: Period, counts: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """One entry per day of the period, zero where nothing happened (a chart needs the gaps)."""
    days, day = [], period.start.date()
    while day < period.end.date():
        n, handed = counts.get(day.isoformat(), (0, 0))
        days.append({"day": day.isoformat(), "conversations": n, "handed_off": handed})
        day += timedelta(days=1)
    return days


def handling_times(session: Session, period: Period) -> list[float]:
    """Seconds from an agent taking a case (or its opening) to its resolution, resolved in
    the period. The database subtracts, so only one number a case comes back."""
    start = func.coalesce(Case.assigned_at, Case.created_at)
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", Case.resolved_at - start)
    else:  # SQLite keeps UTC text; julianday reads it
        seconds = (func.julianday(Case.resolved_at) - func.julianday(start)) * 86400.0
    rows = session.execute(
        select(seconds).where(Case.resolved_at.is_not(None), _in(Case.resolved_at, period))
    ).scalars()
    return [max(0.0, round(float(value), 3)) for value in rows if value is not None]  # to ms


def funnel(session: Session, flow: str, period: Period) -> dict[str, Any]:
    """How many conversations of a flow reached each step, and how many stopped there."""
    if flow not in FLOW_BY_NAME:
        raise ValueError(f"no flow {flow}")
    rows = session.execute(
        select(InsightFlow.step, func.count())
        .where(InsightFlow.flow == flow, _in(InsightFlow.started_at, period))
        .group_by(InsightFlow.step)
    ).all()
    at_step = {int(step): int(n) for step, n in rows}
    steps = []
    for index, name in enumerate(STEPS):
        reached = sum(n for step, n in at_step.items() if step >= index)
        steps.append(
            {
                "step": name,
                "index": index,
                "label": STEP_LABELS[name],
                "reached": reached,
                "stopped": at_step.get(index, 0) if index < len(STEPS) - 1 else 0,
            }
        )
    return {
        "flow": flow,
        "label": FLOW_BY_NAME[flow].label,
        "period": period.as_json(),
        "steps": steps,
    }


def funnels(session: Session, period: Period) -> list[dict[str, Any]]:
    return [funnel(session, flow.name, period) for flow in FLOWS]


@dataclass(frozen=True)
class Filters:
    """The conversation review's filters (each optional)."""

    period: Period
    flow: str | None = None
    stopped_at: int | None = None  # with flow: conversations whose furthest step is this
    outcome: str | None = None
    fallback: bool | None = None
    handed_off: bool | None = None
    tag: str | None = None
    limit: int = 50
    offset: int = 0

    @classmethod
    def from_query(cls, args: dict[str, str | None]) -> Filters:
        def flag(name: str) -> bool | None:
            value = (args.get(name) or "").lower()
            return {
                "yes": True,
                "true": True,
                "1": True,
                "no": False,
                "false": False,
                "0": False,
            }.get(value)

        flow = args.get("flow") or None
        if flow is not None and flow not in FLOW_BY_NAME:
            raise ValueError(f"no flow {flow}")
        outcome = args.get("outcome") or None
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {', '.join(OUTCOMES)}")
        stopped = args.get("stopped_at") or None
        stopped_at = None
        if stopped is not None:
            stopped_at = STEPS.index(stopped) if stopped in STEPS else int(stopped)
            if flow is None:
                raise ValueError("stopped_at needs a flow")
        return cls(
            period=Period.parse(args.get("from"), args.get("to")),
            flow=flow,
            stopped_at=stopped_at,
            outcome=outcome,
            fallback=flag("fallback"),
            handed_off=flag("handed_off"),
            tag=(args.get("tag") or "").strip().lower()[:40] or None,
            limit=max(1, min(int(args.get("limit") or 50), 10000)),
            offset=max(0, int(args.get("offset") or 0)),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            **self.period.as_json(),
            "flow": self.flow,
            "stopped_at": None if self.stopped_at is None else STEPS[self.stopped_at],
            "outcome": self.outcome,
            "fallback": self.fallback,
            "handed_off": self.handed_off,
            "tag": self.tag,
        }


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    where = [_in(IC.started_at, filters.period)]
    if filters.flow is not None:
        flow_rows = select(InsightFlow.conversation_id).where(InsightFlow.flow == filters.flow)
        if filters.stopped_at is not None:
            flow_rows = flow_rows.where(InsightFlow.step == filters.stopped_at)
        where.append(IC.conversation_id.in_(flow_rows))
    if filters.outcome is not None:
        where.append(IC.outcome == filters.outcome)
    if filters.fallback is not None:
        where.append(IC.fallbacks > 0 if filters.fallback else IC.fallbacks == 0)
    if filters.handed_off is not None:
        where.append(IC.handed_off.is_(filters.handed_off))
    if filters.tag is not None:
        tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag == filters.tag)
        where.append(IC.conversation_id.in_(tagged))
    return where


def conversations(session: Session, filters: Filters) -> dict[str, Any]:
    """The filtered conversations, newest first, with their tags; `total` before paging."""
    where = _conditions(filters)
    total = session.execute(select(func.count()).select_from(IC).where(*where)).scalar_one()
    rows = (
        session.execute(
            select(IC)
            .where(*where)
            .order_by(IC.started_at.desc(), IC.conversation_id)
            .limit(filters.limit)
            .offset(filters.offset)
        )
        .scalars()
        .all()
    )
    tags = tags_of(session, [r.conversation_id for r in rows])
    return {
        "filters": filters.as_json(),
        "total": int(total),
        "items": [_item(r, tags.get(r.conversation_id, [])) for r in rows],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _item(row: InsightConversation, tags: list[str]) -> dict[str, Any]:
    return {
        "conversation_id": row.conversation_id,
        "started_at": _iso(row.started_at),
        "last_event_at": _iso(row.last_event_at),
        "channel": row.channel,
        "user_messages": row.user_messages,
        "fallbacks": row.fallbacks,
        "low_confidence": row.low_confidence,
        "min_confidence": None if row.min_confidence is None else float(row.min_confidence),
        "verified": row.verified,
        "verification_failed": row.verification_failed,
        "handed_off": row.handed_off,
        "case_number": row.case_number,
        "handoff_reason": row.handoff_reason,
        "outcome": row.outcome,
        "flows": [f for f in (row.flows or "").split(",") if f],
        "last_intent": row.last_intent,
        "tags": tags,
    }


def tags_of(session: Session, ids: list[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    rows = session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag)
        .where(ConversationTag.conversation_id.in_(ids))
        .order_by(ConversationTag.tag)
    )
    result: dict[str, list[str]] = {}
    for conversation_id, tag in rows:
        result.setdefault(conversation_id, []).append(tag)
    return result
