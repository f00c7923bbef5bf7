"""Identity verification: the gate before any account-specific answer or change.

Spec, "Identity verification": identify the account (account number, or the phone number on
it), then check one knowledge factor (registered email, last bill amount, or a security
answer). Three failed attempts end verification for the conversation. A success yields a
random token bound to one conversation and one account; actions present it on every turn,
so verification never carries over to another conversation or account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.config import load_settings
from quickconnect.db.models import (
    Bill,
    Customer,
    SecurityQuestion,
    VerificationAttempt,
    VerificationSession,
    utcnow,
)
from quickconnect.identifiers import (
    ACCOUNT_PREFIX,
    find_identifier,
    hash_answer,
    hash_token,
    mask_email,
    mask_phone,
    needs_rehash,
    new_token,
    normalize_account_number,
    normalize_email,
    normalize_phone,
    parse_amount,
    verify_answer,
)
from quickconnect.services.interactions import log_interaction

MAX_ATTEMPTS = 3
_LOG_KIND = "identity_verification"


@dataclass(frozen=True)
class IdentifyResult:
    found: bool
    account_number: str | None
    security_question: str | None
    attempts_left: int
    locked_out: bool


@dataclass(frozen=True)
class VerifyResult:
    status: str  # 'verified' | 'retry' | 'locked_out'
    token: str | None
    attempts_left: int
    first_name: str | None
    masked_email: str | None


@dataclass(frozen=True)
class VerifiedCustomer:
    customer_id: int
    account_number: str
    first_name: str
    masked_email: str | None
    masked_phone: str | None


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


def _find_customer(session: Session, identifier: str | None) -> Customer | None:
    """The customer an account number (any loose format) or account phone number names."""
    if not identifier:
        return None
    account_number = normalize_account_number(identifier) or find_identifier(
        identifier, ACCOUNT_PREFIX
    )
    if account_number:
        query = select(Customer).where(Customer.account_number == account_number)
        return session.execute(query).scalar_one_or_none()
    phone = normalize_phone(identifier)
    if phone:
        return session.execute(select(Customer).where(Customer.phone == phone)).scalar_one_or_none()
    return None


def identify_account(session: Session, conversation_id: str, identifier: str) -> IdentifyResult:
    """Step 1: find the account. An identifier that matches nothing counts as a failure."""
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, identifier)
    if failures >= MAX_ATTEMPTS:
        _record_attempt(session, conversation_id, customer, "identify", identifier, success=False)
        return IdentifyResult(False, None, None, 0, True)
    _record_attempt(
        session, conversation_id, customer, "identify", identifier, success=customer is not None
    )
    if customer is None:
        left = MAX_ATTEMPTS - failures - 1
        return IdentifyResult(False, None, None, max(left, 0), left <= 0)
    question = session.execute(
        select(SecurityQuestion.question)
        .where(SecurityQuestion.customer_id == customer.id)
        .order_by(SecurityQuestion.id)
        .limit(1)
    ).scalar_one_or_none()
    return IdentifyResult(True, customer.account_number, question, MAX_ATTEMPTS - failures, False)


@dataclass(frozen=True)
class FactorCheck:
    """Which factor an answer matched, worked out before the attempt is recorded.

    Comparing a security answer costs a deliberately slow hash (Argon2id, 19 MiB). Done
    inside `verify_factor`'s unit of work it would hold the database's write lock on SQLite
    the whole time, so concurrent chats would queue behind each other's hashing. Callers
    that care read `factor_material` in one short unit of work, run `check_factor` outside
    any, and pass its result to `verify_factor` in a second one.
    """

    account_number: str
    answer: str
    factor: str | None
    # (matched hash, its replacement) when the answer matched a hash with old parameters
    rehash: tuple[str, str] | None = None


@dataclass(frozen=True)
class FactorMaterial:
    """What the factors are checked against, read in one short unit of work."""

    email: str | None
    last_bill: Decimal | None
    answer_hashes: tuple[str, ...]


def factor_material(session: Session, account_number: str) -> FactorMaterial | None:
    """The account's email, last bill amount and security-answer hashes (None: no account)."""
    customer = _find_customer(session, account_number)
    if customer is None:
        return None
    hashes = session.execute(
        select(SecurityQuestion.answer_hash)
        .where(SecurityQuestion.customer_id == customer.id)
        .order_by(SecurityQuestion.id)
    ).scalars()
    return FactorMaterial(customer.email, _last_bill_amount(session, customer.id), tuple(hashes))


def _match(material: FactorMaterial | None, answer: str) -> tuple[str | None, str | None]:
    """Which knowledge factor `answer` matches (email, last bill amount or security answer),
    and the security-answer hash that matched, if that was the factor.

    No database access: the slow hash comparisons run here, outside any transaction.
    """
    if material is None or not answer or not answer.strip():
        return None, None
    email = normalize_email(answer)
    if email is not None:
        return ("email" if email == normalize_email(material.email or "") else None), None
    amount = parse_amount(answer)
    if amount is not None and amount == material.last_bill:
        return "last_bill", None
    for stored in material.answer_hashes:
        if verify_answer(answer, stored):
            return "security_answer", stored
    return None, None


def check_factor(material: FactorMaterial | None, account_number: str, answer: str) -> FactorCheck:
    """`verify_factor`'s slow part, run between two units of work (see `FactorCheck`).

    A security answer that matched a hash made with older parameters (PBKDF2 before Argon2)
    also gets its replacement hash here, so `verify_factor` only has to store it.
    """
    factor, matched = _match(material, answer)
    rehash = None
    if matched is not None and needs_rehash(matched):
        rehash = (matched, hash_answer(answer))
    return FactorCheck(account_number, answer, factor, rehash)


def verify_factor(
    session: Session,
    conversation_id: str,
    account_number: str,
    answer: str,
    *,
    ttl_minutes: int | None = None,
    checked: FactorCheck | None = None,
) -> VerifyResult:
    """Step 2: check one knowledge factor; on success, issue a token for this conversation.

    Once the conversation has MAX_ATTEMPTS failures every call is refused, even with a
    correct answer, so guessing cannot continue in the same chat. `checked` is the result of
    `check_factor` for the same account and answer, computed beforehand (see `FactorCheck`).
    """
    if checked is not None and (checked.account_number, checked.answer) != (
        account_number,
        answer,
    ):
        raise ValueError("`checked` was computed for another account or answer")
    failures = failed_attempts(session, conversation_id)
    customer = _find_customer(session, account_number)
    if failures >= MAX_ATTEMPTS:
        _record_attempt(session, conversation_id, customer, "verify", account_number, success=False)
        summary = "Verification refused: too many failed attempts earlier in this conversation."
        _log(session, customer, conversation_id, summary, "locked_out")
        return VerifyResult("locked_out", None, 0, None, None)

    if customer is None:
        factor = None
    else:
        if checked is None:
            checked = check_factor(factor_material(session, account_number), account_number, answer)
        factor = checked.factor
    _record_attempt(
        session,
        conversation_id,
        customer,
        "verify",
        account_number,
        success=factor is not None,
        factor=factor,
    )
    if customer is None or factor is None:
        left = max(MAX_ATTEMPTS - failures - 1, 0)
        status = "locked_out" if left == 0 else "retry"
        summary = (
            f"Identity verification failed ({MAX_ATTEMPTS - left} of {MAX_ATTEMPTS} attempts)."
        )
        _log(session, customer, conversation_id, summary, status)
        return VerifyResult(status, None, left, None, None)

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


def verified_customer(
    session: Session, conversation_id: str, token: str | None
) -> VerifiedCustomer | None:
    """Who this conversation is verified as; None for an unknown, expired or foreign token."""
    if not token or not conversation_id:
        return None
    row = session.execute(
        select(VerificationSession, Customer)
        .join(Customer, Customer.id == VerificationSession.customer_id)
        .where(VerificationSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    verification, customer = row
    if (
        verification.conversation_id != conversation_id
        or verification.revoked_at is not None
        or verification.expires_at <= utcnow()
    ):
        return None
    return VerifiedCustomer(
        customer_id=customer.id,
        account_number=customer.account_number,
        first_name=customer.first_name,
        masked_email=mask_email(customer.email),
        masked_phone=mask_phone(customer.phone),
    )


def check_account_access(
    session: Session, conversation_id: str, token: str | None, account_number_mentioned: str | None
) -> bool:
    """May this conversation act on the account it mentions? False for a different account.

    No account mentioned means the verified one. Something that is not an account number at
    all is refused too, rather than guessed at.
    """
    customer = verified_customer(session, conversation_id, token)
    if customer is None:
        return False
    if not account_number_mentioned or not account_number_mentioned.strip():
        return True
    return normalize_account_number(account_number_mentioned) == customer.account_number


def end_verification(session: Session, conversation_id: str) -> int:
    """Revoke every live token of a conversation (restart, sign-out); returns how many."""
    result = session.execute(
        update(VerificationSession)
        .where(
            VerificationSession.conversation_id == conversation_id,
            VerificationSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def _last_bill_amount(session: Session, customer_id: int) -> Decimal | None:
    return session.execute(
        select(Bill.amount)
        .where(Bill.customer_id == customer_id)
        .order_by(Bill.period_start.desc(), Bill.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _record_attempt(
    session: Session,
    conversation_id: str,
    customer: Customer | None,
    stage: str,
    identifier: str,
    *,
    success: bool,
    factor: str | None = None,
) -> None:
    """Every identify/verify attempt is kept; the failures drive the per-conversation limit."""
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            customer_id=customer.id if customer else None,
            stage=stage,
            identifier_tried=(identifier or "")[:255],
            factor=factor,
            success=success,
        )
    )
    session.flush()


def _log(
    session: Session, customer: Customer | None, conversation_id: str, summary: str, outcome: str
) -> None:
    if customer is not None:
        log_interaction(
            session,
            customer_id=customer.id,
            conversation_id=conversation_id,
            kind=_LOG_KIND,
            summary=summary,
            outcome=outcome,
        )
