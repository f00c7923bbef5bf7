"""Escalation to a person (spec, "Escalation to a person").

A `CS-` case records why and what happened so far; the customer gets its number and either
the expected wait for an online agent or, with nobody online, how we will follow up.
Asking again in the same conversation returns the open case instead of opening another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import CASE_REASONS, Agent, Case, Customer, utcnow
from quickconnect.identifiers import CASE_PREFIX, allocate_identifier, mask_email, mask_phone
from quickconnect.services.interactions import log_interaction

AGENT_SEEN_WITHIN = timedelta(minutes=5)  # an "online" agent silent for longer is away
CHAT_QUEUE_WINDOW = timedelta(hours=1)  # open cases younger than this are waiting in chat
MINUTES_PER_CHAT = 6  # average time an agent spends on one escalated chat
MIN_WAIT_MINUTES = 2

REASONS = CASE_REASONS


@dataclass(frozen=True)
class CaseOpened:
    case_number: str
    agents_online: int
    expected_wait_minutes: int | None  # None when no agent is online
    follow_up_channel: str | None  # 'email' | 'sms' when no agent is online and we know who
    masked_contact: str | None  # where the follow-up goes, masked
    is_new: bool = True  # False when the conversation's open case was returned again
    queued: bool = False  # True when the chat waits in the agents' live queue


def agents_online(session: Session) -> int:
    """Agents marked online and seen in the last few minutes."""
    query = select(func.count(Agent.id)).where(
        Agent.is_online.is_(True), Agent.last_seen_at >= utcnow() - AGENT_SEEN_WITHIN
    )
    return int(session.execute(query).scalar_one())


def open_case(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int | None,
    reason: str,
    summary: str,
    live_chat: bool = True,
) -> CaseOpened:
    """Open (or return this conversation's open) escalation case and say what happens next.

    `live_chat` says whether the customer's channel can show an agent's messages (the web
    chat can, the plain REST channel cannot): only then is the chat queued for an agent;
    otherwise, as with nobody online, the case stays open for a follow-up.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown escalation reason {reason!r}; expected one of {REASONS}")
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    case = session.execute(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.status.in_(("open", "assigned")))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    is_new = case is None
    if case is None:
        case = Case(
            case_number=allocate_identifier(session, Case, Case.case_number, CASE_PREFIX),
            customer_id=customer.id if customer else None,
            conversation_id=conversation_id,
            reason=reason,
            summary=summary,
            status="open",
            created_at=utcnow(),
        )
        session.add(case)
    elif case.customer_id is None and customer is not None:
        case.customer_id = customer.id  # verified since the case was opened
    elif case.customer_id is not None and customer is None:
        customer = session.get(Customer, case.customer_id)

    online = agents_online(session)
    wait: int | None = None
    channel: str | None = None
    contact: str | None = None
    queued = bool(online) and live_chat
    if queued:
        if case.chat_state not in ("queued", "agent"):
            case.chat_state = "queued"
            case.queued_at = utcnow()
            session.flush()
        wait = _expected_wait(session, case, online)
    elif customer is not None:
        channel = customer.preferred_contact
        contact = mask_phone(customer.phone) if channel == "sms" else mask_email(customer.email)
        case.follow_up_channel = channel
    session.flush()

    if is_new and customer is not None:
        next_step = (
            f"queued for an agent (about {wait} min)"
            if queued
            else f"no live agent; follow up by {channel}"
        )
        log_interaction(
            session,
            customer_id=customer.id,
            conversation_id=conversation_id,
            kind="escalation",
            summary=f"Case {case.case_number} opened ({reason}): {summary}",
            outcome=next_step,
        )
    return CaseOpened(case.case_number, online, wait, channel, contact, is_new, queued)


def _expected_wait(session: Session, case: Case, online: int) -> int:
    """Queue position (recent queued chats up to this one) times handling time, per agent."""
    position = session.execute(
        select(func.count(Case.id)).where(
            Case.chat_state == "queued",
            Case.queued_at >= utcnow() - CHAT_QUEUE_WINDOW,
            Case.queued_at <= case.queued_at,
        )
    ).scalar_one()
    return max(MIN_WAIT_MINUTES, math.ceil(max(int(position), 1) * MINUTES_PER_CHAT / online))
