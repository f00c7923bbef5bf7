"""The two steps of the verification form: identify the account, then check one factor."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quickconnect.config import load_settings
from quickconnect.db.models import (
    Customer,
    SecurityQuestion,
    VerificationAttempt,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    hash_token,
    mask_email,
    new_token,
)
from quickconnect.services.identity.common import (
    IdentifyResult,
    VerifyResult,
    _find_customer,
    _log,
    _record_attempt,
)
from quickconnect.services.identity.factors import (
    WEAK_FACTOR,
    FactorCheck,
    check_factor,
    factor_material,
)
from quickconnect.services.identity.limits import (
    ACCOUNT_MAX_FAILURES,
    MAX_ATTEMPTS,
    REFUSED_ACCOUNT,
    REFUSED_CLIENT,
    REFUSED_CONVERSATION,
    _attempts_left,
    _refusal,
    account_failures,
    failed_attempts,
)
from quickconnect.services.identity.lockouts import _lock_account


def identify_account(
    session: Session, conversation_id: str, identifier: str, *, client_key: str | None = None
) -> IdentifyResult:
    """Step 1: find the account. An identifier that matches nothing counts as a failure."""
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, identifier)
    refusal = _refusal(session, conversation_id, client_key, customer, failures)
    if refusal is not None:
        _record_attempt(
            session, conversation_id, customer, "identify", identifier, False, client_key
        )
        return IdentifyResult(False, None, None, 0, True, refusal)
    _record_attempt(
        session, conversation_id, customer, "identify", identifier, customer is not None, client_key
    )
    if customer is None:
        left = _attempts_left(session, failures + 1, client_key, None)
        refused = REFUSED_CONVERSATION if failures + 1 >= MAX_ATTEMPTS else REFUSED_CLIENT
        return IdentifyResult(False, None, None, left, left <= 0, refused if left <= 0 else None)
    question = session.execute(
        select(SecurityQuestion.question)
        .where(SecurityQuestion.customer_id == customer.id)
        .order_by(SecurityQuestion.id)
        .limit(1)
    ).scalar_one_or_none()
    left = _attempts_left(session, failures, client_key, customer)
    return IdentifyResult(True, customer.account_number, question, left, False)


def verify_factor(
    session: Session,
    conversation_id: str,
    account_number: str,
    answer: str,
    *,
    ttl_minutes: int | None = None,
    checked: FactorCheck | None = None,
    client_key: str | None = None,
    bind_client: bool = False,
) -> VerifyResult:
    """Step 2: check one knowledge factor; on success, issue a token for this conversation.

    Once a limit is reached (conversation, account or client; see the module docstring) every
    call is refused, even with a correct answer, so guessing cannot go on. `checked` is the
    result of `check_factor` for the same account and answer, computed beforehand (see
    `FactorCheck`). A guessable bill amount (`WEAK_FACTOR`) is neither a success nor a failure.
    `bind_client` (channels where the client names the conversation: REST) makes the
    verification hold only for messages from `client_key` (see `verified_customer`).
    """
    if checked is not None and (checked.account_number, checked.answer) != (
        account_number,
        answer,
    ):
        raise ValueError("`checked` was computed for another account or answer")
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, account_number, for_update=True)
    refusal = _refusal(session, conversation_id, client_key, customer, failures)
    if refusal is not None:
        _record_attempt(
            session, conversation_id, customer, "verify", account_number, False, client_key
        )
        summary = f"Verification refused: the {refusal}'s limit of failed attempts was reached."
        _log(session, customer, conversation_id, summary, "locked_out")
        return VerifyResult("locked_out", None, 0, None, None, refusal)

    if customer is None:
        factor = None
    else:
        if checked is None:
            checked = check_factor(factor_material(session, account_number), account_number, answer)
        factor = checked.factor
    if factor == WEAK_FACTOR:
        left = _attempts_left(session, failures, client_key, customer)
        return VerifyResult("weak_factor", None, left, None, None)
    _record_attempt(
        session,
        conversation_id,
        customer,
        "verify",
        account_number,
        factor is not None,
        client_key,
        factor=factor,
    )
    if customer is None or factor is None:
        return _failed(session, conversation_id, customer, failures + 1, client_key)

    if checked is not None and checked.rehash is not None:
        old_hash, new_hash = checked.rehash
        session.execute(
            update(SecurityQuestion)
            .where(
                SecurityQuestion.customer_id == customer.id,
                SecurityQuestion.answer_hash == old_hash,
            )
            .values(answer_hash=new_hash)
        )
    token = new_token()
    now = utcnow()
    ttl = ttl_minutes if ttl_minutes is not None else load_settings().verification_ttl_minutes
    session.add(
        VerificationSession(
            token_hash=hash_token(token),
            conversation_id=conversation_id,
            customer_id=customer.id,
            verified_at=now,
            expires_at=now + timedelta(minutes=ttl),
            client_key=(client_key or None) and client_key[:80] if bind_client else None,
        )
    )
    _log(session, customer, conversation_id, f"Identity verified in chat ({factor}).", "verified")
    return VerifyResult(
        "verified",
        token,
        MAX_ATTEMPTS - failures,
        customer.first_name,
        mask_email(customer.email),
    )


def _failed(
    session: Session,
    conversation_id: str,
    customer: Customer | None,
    failures: int,
    client_key: str | None,
) -> VerifyResult:
    """After a recorded failure: retry, or which limit it reached (locking the account)."""
    if customer is not None and account_failures(session, customer.id) >= ACCOUNT_MAX_FAILURES:
        lockout = _lock_account(session, customer)
        summary = (
            f"Identity verification failed; chat verification of the account is locked until "
            f"{lockout.locked_until:%Y-%m-%d %H:%M} UTC after {lockout.failures} failed attempts."
        )
        _log(session, customer, conversation_id, summary, "locked_out")
        return VerifyResult("locked_out", None, 0, None, None, REFUSED_ACCOUNT)
    left = _attempts_left(session, failures, client_key, customer)
    refusal = None
    if left == 0:
        refusal = REFUSED_CONVERSATION if failures >= MAX_ATTEMPTS else REFUSED_CLIENT
    summary = f"Identity verification failed ({failures} of {MAX_ATTEMPTS} attempts in the chat)."
    _log(session, customer, conversation_id, summary, "retry" if left else "locked_out")
    return VerifyResult("retry" if left else "locked_out", None, left, None, None, refusal)


def account_tried(session: Session, conversation_id: str) -> int | None:
    """The customer id of the account this conversation last tried to verify as, if any."""
    return session.execute(
        select(VerificationAttempt.customer_id)
        .where(
            VerificationAttempt.conversation_id == conversation_id,
            VerificationAttempt.customer_id.is_not(None),
        )
        .order_by(VerificationAttempt.id.desc())
        .limit(1)
    ).scalar_one_or_none()
