"""Keep `insight_conversations` / `insight_flows` up to date with the tracker store.

Why pre-aggregate: the overview over 100k conversations must not replay millions of events
per page view. Each refresh reads only the events added since the last one (a cursor on the
events' row id), rebuilds the summary of every conversation they belong to from all its
events, and looks up that conversation's case and applied changes here. A rebuild is
idempotent, so the small overlap re-read each time (rows that another transaction committed
late under a lower id) costs a few conversations and never double-counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Case,
    InsightConversation,
    InsightCursor,
    InsightFlow,
    PendingChange,
    utcnow,
)
from quickconnect.insights import inbox, tracker
from quickconnect.insights.flows import STEPS, flow_of_change
from quickconnect.insights.summary import Summary, low_confidence_threshold, summarise

CURSOR = "events"
OVERLAP_ROWS = 200  # re-read this many rows before the cursor (late commits on PostgreSQL)
CHUNK = 500  # conversations rebuilt per round trip


def _cursor(session: Session) -> InsightCursor:
    """The cursor row, locked: two refreshes at once take turns (PostgreSQL FOR UPDATE)."""
    query = select(InsightCursor).where(InsightCursor.name == CURSOR).with_for_update()
    row = session.execute(query).scalar_one_or_none()
    if row is None:
        row = InsightCursor(name=CURSOR, last_event_id=0, updated_at=utcnow())
        session.add(row)
        session.flush()
        row = session.execute(query).scalar_one()
    return row


def refresh(session: Session, tracker_bind: Engine | Connection | None = None) -> int:
    """Index the tracker events added since the last refresh; returns conversations rebuilt."""
    cursor = _cursor(session)
    with tracker.reading(tracker_bind, beside=session.connection()) as conn:
        top = tracker.max_event_id(conn)
        if top <= cursor.last_event_id and cursor.last_event_id > 0:
            return 0
        senders = tracker.senders_after(conn, max(0, cursor.last_event_id - OVERLAP_ROWS), top)
        for start in range(0, len(senders), CHUNK):
            chunk = senders[start : start + CHUNK]
            events = tracker.events_of(conn, chunk, up_to_id=top)
            _store(session, [summarise(s, events[s]) for s in chunk])
    cursor.last_event_id = top
    cursor.updated_at = utcnow()
    session.flush()
    return len(senders)


def rebuild(session: Session, tracker_bind: Engine | Connection | None = None) -> int:
    """Forget the summaries and index the whole tracker store again (after a flow change)."""
    session.execute(delete(InsightFlow))
    session.execute(delete(InsightConversation))
    _cursor(session).last_event_id = 0
    session.flush()
    return refresh(session, tracker_bind)


def _cases(session: Session, ids: list[str]) -> dict[str, Case]:
    rows = session.execute(select(Case).where(Case.conversation_id.in_(ids)).order_by(Case.id))
    return {case.conversation_id: case for case in rows.scalars()}  # the latest case wins


def _applied(session: Session, ids: list[str]) -> dict[str, dict[str, datetime]]:
    query = select(
        PendingChange.conversation_id, PendingChange.kind, PendingChange.applied_at
    ).where(PendingChange.conversation_id.in_(ids), PendingChange.status == "applied")
    result: dict[str, dict[str, datetime]] = {}
    for conversation_id, kind, applied_at in session.execute(query):
        flow = flow_of_change(kind)
        if flow is not None:
            result.setdefault(conversation_id, {}).setdefault(flow, applied_at or utcnow())
    return result


def _store(session: Session, summaries: Iterable[Summary | None]) -> None:
    found = [s for s in summaries if s is not None]
    if not found:
        return
    ids = [s.conversation_id for s in found]
    cases, applied = _cases(session, ids), _applied(session, ids)
    threshold = low_confidence_threshold()
    now = utcnow()
    conversations, flows = [], []
    for s in found:
        case = cases.get(s.conversation_id)
        done = applied.get(s.conversation_id, {})
        steps = {name: (p.started_at, p.step) for name, p in s.flows.items()}
        for flow, at in done.items():
            started = steps.get(flow, (min(at, s.started_at), 0))[0]
            steps[flow] = (started, STEPS.index("applied"))
        outcome = "handed_off" if case is not None else ("completed" if done else "contained")
        minimum = s.min_confidence
        conversations.append(
            {
                "conversation_id": s.conversation_id,
                "started_at": s.started_at,
                "last_event_at": s.last_event_at,
                "channel": (s.channel or None) and str(s.channel)[:40],
                "user_messages": s.user_messages,
                "fallbacks": s.fallbacks,
                "low_confidence": s.low_confidence(threshold),
                "min_confidence": None if minimum is None else round(minimum, 3),
                "verified": s.verified,
                "verification_failed": s.verification_failed,
                "handed_off": case is not None,
                "case_number": case.case_number if case else None,
                "handoff_reason": case.reason if case else None,
                "outcome": outcome,
                "flows": ",".join(sorted(steps))[:200],
                "last_intent": (s.last_intent or None) and s.last_intent[:80],
                "indexed_at": now,
            }
        )
        flows.extend(
            {"conversation_id": s.conversation_id, "flow": f, "started_at": at, "step": step}
            for f, (at, step) in steps.items()
        )
    session.execute(delete(InsightFlow).where(InsightFlow.conversation_id.in_(ids)))
    session.execute(delete(InsightConversation).where(InsightConversation.conversation_id.in_(ids)))
    session.execute(insert(InsightConversation), conversations)
    if flows:
        session.execute(insert(InsightFlow), flows)
    inbox.collect(session, found)  # fallbacks and low-confidence lines for the NLU inbox
    session.flush()
