"""Conversation review: one conversation's transcript with the intent and confidence of each
customer message, who verified (account number for a lead only), and tags."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quickconnect.db.models import ConversationTag, Customer, VerificationSession, utcnow
from quickconnect.insights import tracker
from quickconnect.insights.privacy import mask_account, mask_text
from quickconnect.insights.summary import low_confidence_threshold
from quickconnect.services.agent_console import AgentInfo

TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")


def transcript(
    session: Session,
    conversation_id: str,
    viewer: AgentInfo,
    tracker_bind: Engine | Connection | None = None,
) -> dict[str, Any]:
    """Every message of a conversation as the lead pages show it (contact details masked)."""
    with tracker.reading(tracker_bind, beside=session.connection()) as conn:
        rows = tracker.events_of(conn, [conversation_id])[conversation_id]
    if not rows:
        raise LookupError(f"no conversation {conversation_id}")
    show = viewer.is_lead
    threshold = low_confidence_threshold()
    messages: list[dict[str, Any]] = []
    for event_id, event in rows:
        kind = event.get("event")
        at = datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC).isoformat()
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            confidence = intent.get("confidence")
            messages.append(
                {
                    "event_id": event_id,
                    "at": at,
                    "sender": "customer",
                    "text": mask_text(str(event.get("text") or ""), show_accounts=show),
                    "intent": intent.get("name"),
                    "confidence": round(float(confidence), 3)
                    if isinstance(confidence, int | float)
                    else None,
                    "low_confidence": isinstance(confidence, int | float)
                    and confidence < threshold,
                }
            )
        elif kind == "bot":
            meta = event.get("metadata") or {}
            sender = "agent" if meta.get("qc_from") == "agent" else "bot"
            if meta.get("qc_event"):
                sender = "system"
            messages.append(
                {
                    "event_id": event_id,
                    "at": at,
                    "sender": sender,
                    "agent_name": meta.get("agent_name"),
                    "text": mask_text(str(event.get("text") or ""), show_accounts=show),
                }
            )
        elif kind == "action" and event.get("name") in (
            "action_default_fallback",
            "action_handoff",
        ):
            messages.append(
                {"event_id": event_id, "at": at, "sender": "marker", "text": event.get("name")}
            )
    return {
        "conversation_id": conversation_id,
        "account_number": _account(session, conversation_id, show),
        "messages": messages,
        "tags": tags(session, conversation_id),
    }


def _account(session: Session, conversation_id: str, show: bool) -> str | None:
    number = session.execute(
        select(Customer.account_number)
        .join(VerificationSession, VerificationSession.customer_id == Customer.id)
        .where(VerificationSession.conversation_id == conversation_id)
        .order_by(VerificationSession.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if number is None:
        return None
    return number if show else mask_account(number)


def tags(session: Session, conversation_id: str) -> list[str]:
    rows = session.execute(
        select(ConversationTag.tag)
        .where(ConversationTag.conversation_id == conversation_id)
        .order_by(ConversationTag.tag)
    )
    return list(rows.scalars())


def add_tag(session: Session, conversation_id: str, tag: str, agent_id: int | None) -> list[str]:
    """Tag a conversation (lower case, letters, digits, space, - and _; at most 40)."""
    clean = (tag or "").strip().lower()
    if not TAG.match(clean):
        raise ValueError("a tag is 1-40 letters, digits, spaces, - or _")
    if clean not in tags(session, conversation_id):
        session.add(
            ConversationTag(
                conversation_id=conversation_id, tag=clean, agent_id=agent_id, created_at=utcnow()
            )
        )
        session.flush()
    return tags(session, conversation_id)


def remove_tag(session: Session, conversation_id: str, tag: str) -> list[str]:
    session.execute(
        delete(ConversationTag).where(
            ConversationTag.conversation_id == conversation_id,
            ConversationTag.tag == (tag or "").strip().lower(),
        )
    )
    return tags(session, conversation_id)
