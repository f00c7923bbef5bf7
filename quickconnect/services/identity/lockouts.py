"""Account lockouts: opened by the failure that reaches the limit, told to the account
holder, listed and cleared by agents in the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
    VerificationLockout,
    utcnow,
)
from quickconnect.services.identity.common import _LOG_KIND
from quickconnect.services.identity.limits import ACCOUNT_LOCKOUT, account_failures, active_lockout
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

LOCKOUT_NOTICE_SUBJECT = "Unsuccessful attempts to verify as you"


LOCKOUT_NOTICE_BODY = (
    "Hello {first_name},\n\n"
    "Someone tried {failures} times to confirm they were you in the QuickConnect chat, for "
    "account {account_number}, and did not give the right details. To keep your account "
    "safe, we have paused identity checks for it in chat until {until} UTC. Nothing on your "
    "account was shown or changed.\n\n"
    "If this was you, our support team can still help you at any time: ask for an agent in "
    "the chat or call us. If it was not you, you do not need to do anything, but you may "
    "want to change your security question and password.\n\nQuickConnect Support"
)


def _lock_account(session: Session, customer: Customer) -> VerificationLockout:
    """Open the account's lockout (once) and tell the account holder at the contact on file."""
    existing = active_lockout(session, customer.id)
    if existing is not None:
        return existing
    now = utcnow()
    failures = account_failures(session, customer.id, now)
    lockout = VerificationLockout(
        customer_id=customer.id,
        locked_at=now,
        locked_until=now + ACCOUNT_LOCKOUT,
        failures=failures,
    )
    session.add(lockout)
    session.flush()
    channel = customer.preferred_contact if customer.preferred_contact in ("email", "sms") else None
    address = customer.phone if channel == "sms" else customer.email
    if not address:
        channel, address = ("sms", customer.phone) if customer.phone else (None, None)
    if channel and address:
        lockout.notification_id = queue_notification(
            session,
            customer_id=customer.id,
            channel=channel,
            to_address=address,
            subject=LOCKOUT_NOTICE_SUBJECT,
            body=LOCKOUT_NOTICE_BODY.format(
                first_name=customer.first_name,
                failures=failures,
                account_number=customer.account_number,
                until=f"{lockout.locked_until:%Y-%m-%d %H:%M}",
            ),
        )
    session.flush()
    return lockout


@dataclass(frozen=True)
class LockoutInfo:
    """A lockout as the agent console shows it."""

    id: int
    account_number: str
    customer_name: str
    locked_at: datetime
    locked_until: datetime
    failures: int
    holder_notified: bool

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_number": self.account_number,
            "customer_name": self.customer_name,
            "locked_at": self.locked_at.isoformat(),
            "locked_until": self.locked_until.isoformat(),
            "failures": self.failures,
            "holder_notified": self.holder_notified,
        }


def active_lockouts(session: Session) -> list[LockoutInfo]:
    """Every lockout in force, newest first (agent console)."""
    rows = session.execute(
        select(VerificationLockout, Customer)
        .join(Customer, Customer.id == VerificationLockout.customer_id)
        .where(
            VerificationLockout.cleared_at.is_(None),
            VerificationLockout.locked_until > utcnow(),
        )
        .order_by(VerificationLockout.locked_at.desc(), VerificationLockout.id.desc())
    ).all()
    return [_lockout_info(lockout, customer) for lockout, customer in rows]


def clear_lockout(session: Session, lockout_id: int, agent_id: int, note: str) -> LockoutInfo:
    """An agent ends a lockout (they checked who the customer is); failures before it no
    longer count. LookupError when it is not in force."""
    row = session.execute(
        select(VerificationLockout, Customer)
        .join(Customer, Customer.id == VerificationLockout.customer_id)
        .where(VerificationLockout.id == lockout_id)
        .with_for_update()
    ).first()
    if row is None:
        raise LookupError(f"no lockout {lockout_id}")
    lockout, customer = row
    now = utcnow()
    if lockout.cleared_at is not None or lockout.locked_until <= now:
        raise LookupError(f"lockout {lockout_id} is no longer in force")
    lockout.cleared_at = now
    lockout.cleared_by_agent_id = agent_id
    lockout.clear_note = (note or "").strip()[:1000] or None
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=None,
        kind=_LOG_KIND,
        summary="Chat verification lockout cleared by an agent."
        + (f" Note: {lockout.clear_note}" if lockout.clear_note else ""),
        outcome="lockout_cleared",
    )
    session.flush()
    return _lockout_info(lockout, customer)


def _lockout_info(lockout: VerificationLockout, customer: Customer) -> LockoutInfo:
    return LockoutInfo(
        id=lockout.id,
        account_number=customer.account_number,
        customer_name=f"{customer.first_name} {customer.last_name}",
        locked_at=lockout.locked_at,
        locked_until=lockout.locked_until,
        failures=lockout.failures,
        holder_notified=lockout.notification_id is not None,
    )
