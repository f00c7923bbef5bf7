"""Agent console business rules: sign-in, presence, the live queue, take, notes, resolve, hand back.

No Rasa imports: the web chat channel (rasa_extensions/webchat/) calls these functions and
does the chat side (pausing the bot, writing agent messages to the tracker, live pushes).
A case's live chat moves `none -> queued -> agent -> bot`; see `Case.chat_state`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    AGENT_ROLES,
    Agent,
    AgentLoginAttempt,
    AgentSession,
    Case,
    CaseNote,
    Customer,
    utcnow,
)
from quickconnect.identifiers import (
    hash_secret,
    hash_token,
    needs_rehash,
    new_token,
    verify_secret,
)
from quickconnect.services.handoff import AGENT_SEEN_WITHIN
from quickconnect.services.interactions import log_interaction

SESSION_TTL = timedelta(hours=12)  # one shift
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME = 5  # within LOGIN_WINDOW; then 429 until failures age out
MAX_FAILURES_PER_ADDRESS = 20
MAX_NOTE_CHARS = 4000
LIVE_STATES = ("queued", "agent")


class LoginRateLimited(Exception):
    """Too many recent failed sign-ins for this username or address."""


class Forbidden(Exception):
    """The signed-in account's role does not allow this (an agent on a lead page): 403."""


class CaseUnavailable(Exception):
    """The case is not in a state where this agent may do that (taken, resolved, unknown)."""


@dataclass(frozen=True)
class AgentInfo:
    id: int
    username: str
    display_name: str
    role: str = "agent"

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


def require_lead(agent: AgentInfo) -> None:
    """Insights (overview, review, inbox, exports) are for leads only; raises Forbidden."""
    if not agent.is_lead:
        raise Forbidden("this page is for the support lead")


def set_role(session: Session, username: str, role: str) -> None:
    """Make a console account an agent or a lead (`python -m quickconnect.agents`)."""
    if role not in AGENT_ROLES:
        raise ValueError(f"role must be one of {', '.join(AGENT_ROLES)}")
    agent = session.execute(
        select(Agent).where(Agent.username == username.strip().lower())
    ).scalar_one_or_none()
    if agent is None:
        raise LookupError(f"no agent {username}")
    agent.role = role
    session.flush()


@dataclass(frozen=True)
class SignedIn:
    agent: AgentInfo
    token: str  # goes into an HttpOnly cookie; only its SHA-256 is stored
    expires_at: datetime


@dataclass(frozen=True)
class LiveCase:
    """A conversation's case while its chat is with (or waiting for) an agent."""

    case_number: str
    conversation_id: str
    chat_state: str
    agent_id: int | None
    agent_name: str | None


@dataclass(frozen=True)
class QueueItem:
    case_number: str
    conversation_id: str
    chat_state: str
    reason: str
    summary: str
    verified_account: str | None
    customer_name: str | None
    queued_at: datetime | None
    waiting_seconds: int
    agent_id: int | None
    agent_name: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "case_number": self.case_number,
            "chat_state": self.chat_state,
            "reason": self.reason,
            "summary": self.summary,
            "verified": self.verified_account is not None,
            "verified_account": self.verified_account,
            "customer_name": self.customer_name,
            "queued_at": self.queued_at.isoformat() if self.queued_at else None,
            "waiting_seconds": self.waiting_seconds,
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
        }


def _agent_info(agent: Agent) -> AgentInfo:
    return AgentInfo(agent.id, agent.username, agent.display_name, agent.role or "agent")


# --- sign-in and presence --------------------------------------------------------------------


def recent_failures(session: Session, *, username: str, remote_addr: str) -> tuple[int, int]:
    """Failed sign-ins in the window, per username and per address."""
    since = utcnow() - LOGIN_WINDOW
    base = select(func.count(AgentLoginAttempt.id)).where(
        AgentLoginAttempt.success.is_(False), AgentLoginAttempt.created_at >= since
    )
    by_user = session.execute(base.where(AgentLoginAttempt.username == username)).scalar_one()
    by_addr = session.execute(base.where(AgentLoginAttempt.remote_addr == remote_addr)).scalar_one()
    return int(by_user), int(by_addr)


def sign_in(session: Session, *, username: str, password: str, remote_addr: str) -> SignedIn | None:
    """Check a password and open a console session; None when wrong.

    Raises LoginRateLimited before checking anything once too many recent attempts failed,
    so guessing is capped at a few tries per username (and per address) every 15 minutes.
    """
    # PostgreSQL text cannot hold NUL (psycopg2 raises ValueError, a 500 at sign-in: found by
    # tests/faults/test_bad_input_channels.py); no username has one, so it is dropped and the
    # attempt still counts towards that username's limit.
    username = username.replace("\x00", "").strip().lower()[:80]
    remote_addr = (remote_addr or "unknown").replace("\x00", "")[:64]
    by_user, by_addr = recent_failures(session, username=username, remote_addr=remote_addr)
    if by_user >= MAX_FAILURES_PER_USERNAME or by_addr >= MAX_FAILURES_PER_ADDRESS:
        raise LoginRateLimited(username)
    agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
    ok = agent is not None and verify_secret(password, agent.password_hash)
    session.add(
        AgentLoginAttempt(
            username=username, remote_addr=remote_addr, success=ok, created_at=utcnow()
        )
    )
    if not ok or agent is None:
        session.flush()
        return None
    if needs_rehash(agent.password_hash):  # e.g. a PBKDF2 hash from before Argon2
        agent.password_hash = hash_secret(password)
    token = new_token()
    now = utcnow()
    expires = now + SESSION_TTL
    session.add(
        AgentSession(
            agent_id=agent.id, token_hash=hash_token(token), created_at=now, expires_at=expires
        )
    )
    agent.is_online = True
    agent.last_seen_at = now
    session.flush()
    return SignedIn(_agent_info(agent), token, expires)


def agent_for_token(session: Session, token: str | None) -> AgentInfo | None:
    """The agent a console session token belongs to, if it is valid now."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(Agent)
        .join(AgentSession, AgentSession.agent_id == Agent.id)
        .where(
            AgentSession.token_hash == hash_token(token),
            AgentSession.revoked_at.is_(None),
            AgentSession.expires_at > utcnow(),
        )
    ).scalar_one_or_none()
    return _agent_info(row) if row is not None else None


def sign_out(session: Session, token: str) -> None:
    """Revoke a console session; the agent goes offline."""
    row = session.execute(
        select(AgentSession).where(AgentSession.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None:
        return
    row.revoked_at = utcnow()
    set_presence(session, row.agent_id, online=False)


def set_presence(session: Session, agent_id: int, *, online: bool) -> None:
    """Online agents (seen within minutes) make the bot queue chats, not offer follow-ups."""
    session.execute(
        update(Agent).where(Agent.id == agent_id).values(is_online=online, last_seen_at=utcnow())
    )


# --- queue and cases ---------------------------------------------------------------------------


def live_case(session: Session, conversation_id: str) -> LiveCase | None:
    """The case whose chat is queued for or with an agent, for routing a customer's message."""
    row = session.execute(
        select(Case, Agent)
        .outerjoin(Agent, Agent.id == Case.assigned_agent_id)
        .where(
            Case.conversation_id == conversation_id,
            Case.status.in_(("open", "assigned")),
            Case.chat_state.in_(LIVE_STATES),
        )
        .order_by(Case.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    case, agent = row
    return LiveCase(
        case.case_number,
        case.conversation_id,
        case.chat_state,
        agent.id if agent else None,
        agent.display_name if agent else None,
    )


def queue(session: Session) -> list[QueueItem]:
    """Chats waiting for an agent (longest wait first), then chats agents are in."""
    now = utcnow()
    rows = session.execute(
        select(Case, Customer, Agent)
        .outerjoin(Customer, Customer.id == Case.customer_id)
        .outerjoin(Agent, Agent.id == Case.assigned_agent_id)
        .where(Case.status.in_(("open", "assigned")), Case.chat_state.in_(LIVE_STATES))
        .order_by(Case.chat_state.desc(), Case.queued_at, Case.id)
    ).all()
    items = []
    for case, customer, agent in rows:
        start = case.queued_at or case.created_at
        items.append(
            QueueItem(
                case_number=case.case_number,
                conversation_id=case.conversation_id,
                chat_state=case.chat_state,
                reason=case.reason,
                summary=case.summary,
                verified_account=customer.account_number if customer else None,
                customer_name=f"{customer.first_name} {customer.last_name}" if customer else None,
                queued_at=case.queued_at,
                waiting_seconds=max(0, int((now - start).total_seconds())),
                agent_id=agent.id if agent else None,
                agent_name=agent.display_name if agent else None,
            )
        )
    return items


def _case(session: Session, case_number: str, *, for_update: bool = True) -> Case:
    query = select(Case).where(Case.case_number == case_number)
    if for_update:
        query = query.with_for_update()
    case = session.execute(query).scalar_one_or_none()
    if case is None:
        raise CaseUnavailable(f"no case {case_number}")
    return case


def _owned(session: Session, case_number: str, agent_id: int) -> Case:
    """A case this agent has taken and that is still live."""
    case = _case(session, case_number)
    if case.chat_state != "agent" or case.assigned_agent_id != agent_id:
        raise CaseUnavailable(f"{case_number} is not your live chat")
    return case


def take(session: Session, case_number: str, agent_id: int) -> LiveCase:
    """Assign a queued chat to this agent; the row lock makes two agents' clicks take it once."""
    case = _case(session, case_number)
    if case.chat_state == "agent" and case.assigned_agent_id == agent_id:
        pass  # taking your own chat again (second tab) is harmless
    elif case.chat_state != "queued" or case.status == "resolved":
        raise CaseUnavailable(f"{case_number} is no longer waiting")
    else:
        case.status = "assigned"
        case.chat_state = "agent"
        case.assigned_agent_id = agent_id
        case.assigned_at = utcnow()
        session.flush()
    agent = session.get(Agent, agent_id)
    return LiveCase(
        case.case_number, case.conversation_id, case.chat_state, agent_id, agent.display_name
    )


def check_reply(session: Session, case_number: str, agent_id: int) -> LiveCase:
    """May this agent write to the customer of this case? (The text goes to the tracker.)"""
    case = _owned(session, case_number, agent_id)
    agent = session.get(Agent, agent_id)
    agent.last_seen_at = utcnow()
    return LiveCase(case.case_number, case.conversation_id, "agent", agent_id, agent.display_name)


def add_note(session: Session, case_number: str, agent_id: int, body: str) -> CaseNote:
    """An internal note: stored with the case, never sent to the customer."""
    text = (body or "").strip()
    if not text:
        raise ValueError("a note needs text")
    case = _case(session, case_number, for_update=False)
    note = CaseNote(
        case_id=case.id, agent_id=agent_id, body=text[:MAX_NOTE_CHARS], created_at=utcnow()
    )
    session.add(note)
    session.flush()
    return note


def notes(session: Session, case_number: str) -> list[dict[str, object]]:
    case = _case(session, case_number, for_update=False)
    rows = session.execute(
        select(CaseNote, Agent)
        .outerjoin(Agent, Agent.id == CaseNote.agent_id)
        .where(CaseNote.case_id == case.id)
        .order_by(CaseNote.id)
    ).all()
    return [
        {
            "body": note.body,
            "agent_name": agent.display_name if agent else None,
            "created_at": note.created_at.isoformat(),
        }
        for note, agent in rows
    ]


def _close(
    session: Session, case_number: str, agent_id: int, resolution: str, note: str | None
) -> LiveCase:
    case = _owned(session, case_number, agent_id)
    now = utcnow()
    case.status = "resolved"
    case.chat_state = "bot"
    case.resolution = resolution
    case.resolution_note = (note or "").strip()[:MAX_NOTE_CHARS] or None
    case.resolved_at = now
    agent = session.get(Agent, agent_id)
    if case.customer_id is not None:
        log_interaction(
            session,
            customer_id=case.customer_id,
            conversation_id=case.conversation_id,
            kind="escalation",
            summary=f"Case {case.case_number} {resolution.replace('_', ' ')} by "
            f"{agent.display_name}: {case.resolution_note or 'no note'}",
            outcome=resolution,
        )
    session.flush()
    return LiveCase(case.case_number, case.conversation_id, "bot", agent_id, agent.display_name)


def resolve(session: Session, case_number: str, agent_id: int, note: str) -> LiveCase:
    """Close the case with a resolution note; the chat goes back to the bot."""
    if not (note or "").strip():
        raise ValueError("resolving a case needs a note")
    return _close(session, case_number, agent_id, "resolved", note)


def hand_back(
    session: Session, case_number: str, agent_id: int, note: str | None = None
) -> LiveCase:
    """Return the chat to the bot, which continues with the slots it had."""
    return _close(session, case_number, agent_id, "handed_back", note)


def conversation_of(session: Session, case_number: str) -> str:
    """The conversation a case was opened in (for reading its transcript)."""
    return str(_case(session, case_number, for_update=False).conversation_id)


def case_context(session: Session, case_number: str) -> dict[str, object]:
    """What the agent sees next to the transcript: the case and who the customer is."""
    case = _case(session, case_number, for_update=False)
    customer = session.get(Customer, case.customer_id) if case.customer_id else None
    return {
        "case_number": case.case_number,
        "status": case.status,
        "chat_state": case.chat_state,
        "reason": case.reason,
        "summary": case.summary,
        "created_at": case.created_at.isoformat(),
        "verified": customer is not None,
        "customer": None
        if customer is None
        else {
            "name": f"{customer.first_name} {customer.last_name}",
            "account_number": customer.account_number,
            "email": customer.email,
            "phone": customer.phone,
            "preferred_contact": customer.preferred_contact,
        },
        "follow_up": _follow_up(case, customer),
        "notes": notes(session, case_number),
    }


def _follow_up(case: Case, customer: Customer | None) -> dict[str, str] | None:
    """How to reach the customer when nobody could chat: the contact given in the chat (for
    visitors who are not verified) or, for a verified customer, the preferred one on file."""
    if case.follow_up_contact:
        return {"channel": case.follow_up_channel or "email", "contact": case.follow_up_contact}
    if case.follow_up_channel and customer is not None:
        on_file = customer.phone if case.follow_up_channel == "sms" else customer.email
        if on_file:
            return {"channel": case.follow_up_channel, "contact": on_file}
    return None


def stale_agents_offline(session: Session) -> int:
    """Mark agents offline whose console has not been seen for a while (closed laptop)."""
    result = session.execute(
        update(Agent)
        .where(
            Agent.is_online.is_(True),
            or_(Agent.last_seen_at.is_(None), Agent.last_seen_at < utcnow() - AGENT_SEEN_WITHIN),
        )
        .values(is_online=False)
    )
    return int(result.rowcount or 0)
