"""Escalation to a person (spec, "Escalation to a person").

A `CS-` case records why and what happened so far; the customer gets its number and either
the expected wait for an online agent or, with nobody online, how we will follow up.
Asking again in the same conversation returns the open case instead of opening another, and
failed verifications keep one open case per account tried: a guesser who starts chat after
chat gets that case's number again, not a new case each time (`account_tried_id`).

Nobody online and nobody verified means we have no way to reach the visitor, so the bot asks
for an email address or phone number (`parse_follow_up_contact`, `book_follow_up`): it is
stored on the case for the agent and a confirmation is queued in the outbox.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    CASE_REASONS,
    Agent,
    Case,
    CaseNote,
    Customer,
    NotificationOutbox,
    utcnow,
)
from quickconnect.identifiers import (
    CASE_PREFIX,
    allocate_identifier,
    mask_email,
    mask_phone,
    normalize_email,
    normalize_phone,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

# A case's follow-up contact can be corrected, but only this many confirmations are sent.
MAX_FOLLOW_UP_CONFIRMATIONS = 3

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
    # True when another conversation's open case about the same account was reused (failed
    # verifications): the team follows it up with the account holder, not with this chat.
    shared: bool = False

    @property
    def needs_contact(self) -> bool:
        """Nobody can join the chat and we don't know how to reach the customer: ask them."""
        return not self.queued and self.masked_contact is None and not self.shared


@dataclass(frozen=True)
class FollowUpContact:
    channel: str  # 'email' | 'sms' (a phone number: an agent can call or text it)
    address: str  # normalised: lower-case email or E.164 phone number

    @property
    def masked(self) -> str:
        masked = mask_email(self.address) if self.channel == "email" else mask_phone(self.address)
        return masked or ""


@dataclass(frozen=True)
class FollowUpBooked:
    case_number: str
    channel: str
    masked_contact: str
    confirmation_id: int | None  # outbox row; None: contact already booked, or cap reached


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
    account_tried_id: int | None = None,
) -> CaseOpened:
    """Open (or return this conversation's open) escalation case and say what happens next.

    `live_chat` says whether the customer's channel can show an agent's messages (the web
    chat can, the plain REST channel cannot): only then is the chat queued for an agent;
    otherwise, as with nobody online, the case stays open for a follow-up.
    `account_tried_id` (failed verifications) is the account the conversation tried to verify
    as: an open verification_failed case about it from another conversation is reused, with a
    note for the agent, instead of opening another.
    """
    if reason not in REASONS:
        raise ValueError(f"unknown escalation reason {reason!r}; expected one of {REASONS}")
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    case = _open_case(session, conversation_id)
    is_new = case is None
    if case is None and reason == "verification_failed" and account_tried_id is not None:
        shared = _open_case_about(session, account_tried_id, reason)
        if shared is not None:
            session.add(
                CaseNote(
                    case_id=shared.id,
                    agent_id=None,
                    body=f"Another conversation ({conversation_id}) failed verification for "
                    f"this account at {utcnow():%Y-%m-%d %H:%M} UTC: {summary}",
                    created_at=utcnow(),
                )
            )
            session.flush()
            return CaseOpened(
                shared.case_number, agents_online(session), None, None, None, False, False, True
            )
    if case is None:
        case = Case(
            case_number=allocate_identifier(session, Case, Case.case_number, CASE_PREFIX),
            customer_id=customer.id if customer else None,
            conversation_id=conversation_id,
            reason=reason,
            summary=summary,
            status="open",
            created_at=utcnow(),
            account_tried_id=account_tried_id if reason == "verification_failed" else None,
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
    elif case.follow_up_contact:  # given earlier in this chat
        channel = case.follow_up_channel
        contact = FollowUpContact(channel or "email", case.follow_up_contact).masked
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


# --- follow-up contact (no agent online, customer not verified) ------------------------------

_EMAIL_IN_TEXT = re.compile(r"[^@\s<>(),;:\"']+@[^@\s<>(),;:\"']+\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s().\-/]{6,}\d")


def parse_follow_up_contact(text: str | None) -> FollowUpContact | None:
    """An email address or phone number in what the customer typed, normalised; else None.

    Accepts the bare value ("bob@example.com", "555 010 0199") or a sentence around it
    ("you can email me at bob@example.com"); an email wins over a number.
    """
    if not text:
        return None
    email = normalize_email(text)
    if email is None:
        found = _EMAIL_IN_TEXT.search(text)
        email = normalize_email(found.group(0).rstrip(".")) if found else None
    if email is not None:
        return FollowUpContact("email", email)
    for candidate in [text, *(m.group(0) for m in _PHONE_IN_TEXT.finditer(text))]:
        phone = normalize_phone(candidate)
        if phone is not None:
            return FollowUpContact("sms", phone)
    return None


def open_case_number(session: Session, conversation_id: str) -> str | None:
    """The number of this conversation's open case, if it has one."""
    case = _open_case(session, conversation_id)
    return case.case_number if case else None


def book_follow_up(session: Session, *, conversation_id: str, contact: str) -> FollowUpBooked:
    """Store where to follow up on the conversation's open case and queue a confirmation.

    The confirmation goes to the given address so a typo or someone else's address shows up
    early; giving the same contact again queues nothing new. Raises ValueError when `contact`
    is neither an email address nor a phone number, LookupError when there is no open case.
    """
    parsed = parse_follow_up_contact(contact)
    if parsed is None:
        raise ValueError("not an email address or phone number")
    case = _open_case(session, conversation_id)
    if case is None:
        raise LookupError(f"no open case in conversation {conversation_id!r}")
    if (case.follow_up_channel, case.follow_up_contact) == (parsed.channel, parsed.address):
        return FollowUpBooked(case.case_number, parsed.channel, parsed.masked, None)
    case.follow_up_channel = parsed.channel
    case.follow_up_contact = parsed.address
    if _confirmations_sent(session, case) >= MAX_FOLLOW_UP_CONFIRMATIONS:
        # Stored for the agent, but no more messages: a visitor must not be able to make us
        # send confirmations to address after address.
        session.flush()
        return FollowUpBooked(case.case_number, parsed.channel, parsed.masked, None)
    subject = _confirmation_subject(parsed.channel, case.case_number)
    if parsed.channel == "email":
        body = (
            f"Hello,\n\nyou asked us in our chat to follow up on case {case.case_number}. "
            "A member of our support team will contact you at this address within one "
            "business day.\n\nIf you didn't ask for this, you can ignore this message.\n\n"
            "QuickConnect Support"
        )
    else:
        body = (
            f"QuickConnect: we'll follow up on case {case.case_number} at this number within "
            "one business day. Didn't ask for this? Please ignore this message."
        )
    confirmation = queue_notification(
        session,
        customer_id=case.customer_id,
        channel=parsed.channel,
        to_address=parsed.address,
        subject=subject,
        body=body,
    )
    session.flush()
    return FollowUpBooked(case.case_number, parsed.channel, parsed.masked, confirmation)


def _confirmation_subject(channel: str, case_number: str) -> str:
    if channel == "email":
        return f"QuickConnect case {case_number}: we'll be in touch"
    return f"Case {case_number}"


def _confirmations_sent(session: Session, case: Case) -> int:
    """Follow-up confirmations already queued for `case` (found by their exact subjects)."""
    subjects = [_confirmation_subject(c, case.case_number) for c in ("email", "sms")]
    return int(
        session.execute(
            select(func.count())
            .select_from(NotificationOutbox)
            .where(NotificationOutbox.subject.in_(subjects))
        ).scalar_one()
    )


def _open_case(session: Session, conversation_id: str) -> Case | None:
    return session.execute(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.status.in_(("open", "assigned")))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _open_case_about(session: Session, account_tried_id: int, reason: str) -> Case | None:
    """The open case for this reason about an account someone tried to verify as."""
    return session.execute(
        select(Case)
        .where(
            Case.account_tried_id == account_tried_id,
            Case.reason == reason,
            Case.status.in_(("open", "assigned")),
        )
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
