"""The three limits on failed attempts (conversation, account, client), counted in the
database so neither a new conversation nor another replica starts from zero."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
    VerificationAttempt,
    VerificationLockout,
    utcnow,
)

MAX_ATTEMPTS = 3  # failures per conversation (spec)


ACCOUNT_MAX_FAILURES = 5  # failed answers per account within ACCOUNT_WINDOW, all conversations


ACCOUNT_WINDOW = timedelta(hours=24)


ACCOUNT_LOCKOUT = timedelta(hours=24)  # how long chat verification of the account is refused


CLIENT_MAX_FAILURES = 10  # failures per client address within CLIENT_WINDOW, any accounts


CLIENT_WINDOW = timedelta(hours=1)


# Why verification was refused before the answer was even looked at.
REFUSED_CONVERSATION = "conversation"


REFUSED_ACCOUNT = "account"


REFUSED_CLIENT = "client"


def failed_attempts(session: Session, conversation_id: str) -> int:
    """Failed identify/verify attempts so far in this conversation."""
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.conversation_id == conversation_id,
        VerificationAttempt.success.is_(False),
    )
    return int(session.execute(query).scalar_one())


def attempts_left(session: Session, conversation_id: str) -> int:
    """How many more failures this conversation may have before it is locked out."""
    return max(0, MAX_ATTEMPTS - failed_attempts(session, conversation_id))


def client_failures(session: Session, client_key: str | None, now: datetime | None = None) -> int:
    """Failed attempts from one client address within CLIENT_WINDOW (0 when unknown)."""
    if not client_key:
        return 0
    since = (now or utcnow()) - CLIENT_WINDOW
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.client_key == client_key,
        VerificationAttempt.success.is_(False),
        VerificationAttempt.created_at >= since,
    )
    return int(session.execute(query).scalar_one())


def active_lockout(
    session: Session, customer_id: int, now: datetime | None = None
) -> VerificationLockout | None:
    """The account's lockout in force (not expired, not cleared), if any."""
    return session.execute(
        select(VerificationLockout)
        .where(
            VerificationLockout.customer_id == customer_id,
            VerificationLockout.cleared_at.is_(None),
            VerificationLockout.locked_until > (now or utcnow()),
        )
        .order_by(VerificationLockout.locked_until.desc())
        .limit(1)
    ).scalar_one_or_none()


def account_failures(session: Session, customer_id: int, now: datetime | None = None) -> int:
    """Failed answers for an account within ACCOUNT_WINDOW, counted from the end of its last
    lockout (expiry or an agent's clearing), so a finished lockout starts the count afresh."""
    now = now or utcnow()
    since = now - ACCOUNT_WINDOW
    last = session.execute(
        select(VerificationLockout)
        .where(VerificationLockout.customer_id == customer_id)
        .order_by(VerificationLockout.locked_at.desc(), VerificationLockout.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is not None:
        ended = last.cleared_at or last.locked_until
        since = max(since, min(ended, now))
    query = select(func.count(VerificationAttempt.id)).where(
        VerificationAttempt.customer_id == customer_id,
        VerificationAttempt.stage == "verify",
        VerificationAttempt.success.is_(False),
        VerificationAttempt.created_at >= since,
    )
    return int(session.execute(query).scalar_one())


def _refusal(
    session: Session,
    conversation_id: str,
    client_key: str | None,
    customer: Customer | None,
    failures: int,
) -> str | None:
    """Which limit refuses this attempt before its answer is looked at, if any."""
    if failures >= MAX_ATTEMPTS:
        return REFUSED_CONVERSATION
    if client_failures(session, client_key) >= CLIENT_MAX_FAILURES:
        return REFUSED_CLIENT
    if customer is not None and active_lockout(session, customer.id) is not None:
        return REFUSED_ACCOUNT
    return None


def _attempts_left(
    session: Session, failures: int, client_key: str | None, customer: Customer | None
) -> int:
    """The smallest number of failures left under any of the three limits."""
    left = [MAX_ATTEMPTS - failures, CLIENT_MAX_FAILURES - client_failures(session, client_key)]
    if customer is not None:
        left.append(ACCOUNT_MAX_FAILURES - account_failures(session, customer.id))
    return max(0, min(left))
