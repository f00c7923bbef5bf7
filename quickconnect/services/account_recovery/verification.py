"""What every step checks or reads first: a live verification, the login state, a hold."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Customer,
    LoginState,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    mask_email,
    mask_phone,
)
from quickconnect.services import handoff, identity
from quickconnect.services.account_recovery.common import (
    LOG_KIND,
    AccountOnHold,
    LockStatus,
    NotVerified,
    RecoveryContacts,
)
from quickconnect.services.handoff import CaseOpened
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.interactions import log_interaction

# --- shared lookups ---------------------------------------------------------------------------


def require_verified(session: Session, conversation_id: str, token: str | None) -> VerifiedCustomer:
    """The customer this conversation is verified as; raises NotVerified otherwise."""
    customer = identity.verified_customer(session, conversation_id, token)
    if customer is None:
        raise NotVerified(
            "For your security I need to verify your identity before I can help with that."
        )
    return customer


def _has_live_verification(session: Session, conversation_id: str, customer_id: int) -> bool:
    """At confirmation time: is this conversation still verified for this customer?"""
    query = select(func.count(VerificationSession.id)).where(
        VerificationSession.conversation_id == conversation_id,
        VerificationSession.customer_id == customer_id,
        VerificationSession.revoked_at.is_(None),
        VerificationSession.expires_at > utcnow(),
    )
    return int(session.execute(query).scalar_one()) > 0


def _require_live_verification(session: Session, params: dict[str, Any], customer_id: int) -> None:
    conversation_id = str(params.get("conversation_id") or "")
    if not conversation_id or not _has_live_verification(session, conversation_id, customer_id):
        raise NotVerified(
            "your verification in this chat has ended, so I can't change the account. "
            "Please verify again and ask me once more."
        )


def _customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    if lock:
        query = query.with_for_update()
    return session.execute(query).scalar_one()


def _login_state(session: Session, customer_id: int, *, lock: bool = False) -> LoginState:
    query = select(LoginState).where(LoginState.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    state = session.execute(query).scalar_one_or_none()
    if state is None:  # every seeded account has one; a new account may not yet
        state = LoginState(customer_id=customer_id, locked=False, lock_reason="none")
        session.add(state)
        session.flush()
    return state


def recovery_contacts(session: Session, customer_id: int) -> RecoveryContacts:
    customer = _customer(session, customer_id)
    return RecoveryContacts(
        mask_email(customer.email), mask_phone(customer.phone), customer.preferred_contact
    )


def lock_status(session: Session, customer_id: int) -> LockStatus:
    state = _login_state(session, customer_id)
    return LockStatus(
        bool(state.locked), state.lock_reason, int(state.failed_attempts or 0), state.locked_at
    )


def _log(
    session: Session, customer_id: int, conversation_id: str | None, summary: str, outcome: str
) -> None:
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=LOG_KIND,
        summary=summary,
        outcome=outcome,
    )


def escalate_hold(
    session: Session, *, conversation_id: str, customer_id: int, asked_for: str
) -> CaseOpened:
    """A security hold (or any lock not caused by failed logins): a case for a person."""
    state = _login_state(session, customer_id)
    note = f" Note on the account: {state.note}" if state.note else ""
    return handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason="guide_escalation",
        summary=(
            f"Account recovery: customer asked to {asked_for}, but sign-in is locked "
            f"({state.lock_reason.replace('_', ' ')}), which the assistant cannot lift.{note}"
        ),
    )


def check_hold(
    session: Session, *, conversation_id: str, token: str | None, asked_for: str
) -> CaseOpened | None:
    """Before any recovery step: a case for the security team if the account is on hold."""
    customer = require_verified(session, conversation_id, token)
    if not lock_status(session, customer.customer_id).on_hold:
        return None
    return escalate_hold(
        session,
        conversation_id=conversation_id,
        customer_id=customer.customer_id,
        asked_for=asked_for,
    )


def _refuse_on_hold(session: Session, customer_id: int) -> None:
    if lock_status(session, customer_id).on_hold:
        raise AccountOnHold(
            "your account has a security hold, so our security team needs to handle this."
        )


def _unlock(state: LoginState) -> None:
    state.locked = False
    state.lock_reason = "none"
    state.failed_attempts = 0
    state.locked_at = None
    state.note = None
