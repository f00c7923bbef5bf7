"""Unlocking sign-in after failed logins; any other lock goes to a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from quickconnect.services import changes
from quickconnect.services.account_recovery.common import (
    FORGOT_PASSWORD_URL,
    SIGN_IN_URL,
    UNLOCK_KIND,
    AccountOnHold,
    RecoveryError,
    UnlockCheck,
)
from quickconnect.services.account_recovery.verification import (
    _customer,
    _log,
    _login_state,
    _refuse_on_hold,
    _require_live_verification,
    _unlock,
    escalate_hold,
    lock_status,
    require_verified,
)
from quickconnect.services.changes import ChangeEffect, ProposedChange

# --- unlock -----------------------------------------------------------------------------------


def check_lock(session: Session, *, conversation_id: str, token: str | None) -> UnlockCheck:
    """Why is sign-in locked? Failed logins: propose the unlock. Anything else: escalate."""
    verified = require_verified(session, conversation_id, token)
    lock = lock_status(session, verified.customer_id)
    if not lock.locked:
        _log(
            session,
            verified.customer_id,
            conversation_id,
            "Checked sign-in: the account is not locked",
            "not_locked",
        )
        return UnlockCheck("not_locked", lock, None, None)
    if lock.on_hold:
        case = escalate_hold(
            session,
            conversation_id=conversation_id,
            customer_id=verified.customer_id,
            asked_for="unlock the account",
        )
        return UnlockCheck("escalated", lock, None, case)
    proposal = propose_unlock(session, conversation_id=conversation_id, token=token)
    return UnlockCheck("proposed", lock, proposal, None)


def propose_unlock(session: Session, *, conversation_id: str, token: str | None) -> ProposedChange:
    """Propose lifting a lock caused by failed logins (the customer must say yes)."""
    verified = require_verified(session, conversation_id, token)
    lock = lock_status(session, verified.customer_id)
    if not lock.locked:
        raise RecoveryError("your account isn't locked, so there's nothing to unlock.")
    _refuse_on_hold(session, verified.customer_id)
    summary = (
        f"Unlock online sign-in for account {verified.account_number} (locked after "
        f"{lock.failed_attempts} failed sign-in attempts) and reset the failed-attempt counter "
        "to 0. There's no fee."
    )
    return changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=verified.customer_id,
        kind=UNLOCK_KIND,
        params={"conversation_id": conversation_id},
        summary=summary,
    )


@changes.register_handler(UNLOCK_KIND)
def apply_unlock(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `account_unlock`: still verified, still locked after failed logins ->
    unlocked with the counter reset, then read back to confirm it is accessible."""
    _require_live_verification(session, params, customer_id)
    customer = _customer(session, customer_id, lock=True)
    state = _login_state(session, customer_id, lock=True)
    if not state.locked:
        raise RecoveryError("your account is already unlocked.")
    if state.lock_reason != "failed_logins":
        raise AccountOnHold(
            "your account now has a security hold, so our security team needs to handle this."
        )
    attempts = int(state.failed_attempts or 0)
    _unlock(state)
    session.flush()
    session.expire(state)
    check = lock_status(session, customer_id)
    if check.locked or check.failed_attempts:
        raise RuntimeError(f"unlock of customer {customer_id} did not show on the account")
    body = (
        f"Hi {customer.first_name},\n\nAs you asked in chat, we've unlocked online sign-in for "
        f"your QuickConnect account {customer.account_number}. It had been locked after "
        f"{attempts} failed sign-in attempts; the counter is back to 0.\n\nYou can sign in at "
        f"{SIGN_IN_URL}. If you've forgotten your password, use {FORGOT_PASSWORD_URL}.\n\n"
        "If you didn't ask for this, please contact us straight away.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={
            "account_number": customer.account_number,
            "failed_attempts_before": attempts,
            "locked": False,
        },
        log_summary=f"Unlocked sign-in after {attempts} failed logins; counter reset to 0",
        notification=("email", "Your QuickConnect account is unlocked", body),
    )
