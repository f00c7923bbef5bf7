"""The interaction log: the account notes every guide asks agents to keep."""

from __future__ import annotations

from sqlalchemy.orm import Session

from quickconnect.db.models import InteractionLog


def log_interaction(
    session: Session,
    *,
    customer_id: int | None,
    conversation_id: str | None,
    kind: str,
    summary: str,
    outcome: str,
) -> int:
    """Record what happened in a conversation and how it ended; returns the log row id."""
    entry = InteractionLog(
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=kind,
        summary=summary,
        outcome=outcome,
    )
    session.add(entry)
    session.flush()
    return int(entry.id)
