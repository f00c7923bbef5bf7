"""Shared by the verification steps: results, the customer lookup, the attempt and the
log records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Bill,
    Customer,
    VerificationAttempt,
)
from quickconnect.identifiers import (
    ACCOUNT_PREFIX,
    find_identifier,
    normalize_account_number,
    normalize_phone,
)
from quickconnect.services.interactions import log_interaction

_LOG_KIND = "identity_verification"


@dataclass(frozen=True)
class IdentifyResult:
    found: bool
    account_number: str | None
    security_question: str | None
    attempts_left: int
    locked_out: bool
    refusal: str | None = None  # REFUSED_*: which limit ended it, when locked_out


@dataclass(frozen=True)
class VerifyResult:
    status: str  # 'verified' | 'retry' | 'weak_factor' | 'locked_out'
    token: str | None
    attempts_left: int
    first_name: str | None
    masked_email: str | None
    refusal: str | None = None  # REFUSED_*: which limit ended it, when locked_out


@dataclass(frozen=True)
class VerifiedCustomer:
    customer_id: int
    account_number: str
    first_name: str
    masked_email: str | None
    masked_phone: str | None


def _find_customer(
    session: Session, identifier: str | None, *, for_update: bool = False
) -> Customer | None:
    """The customer an account number (any loose format) or account phone number names.

    `for_update` locks the customer's row (PostgreSQL), so that concurrent failures for one
    account are counted one after the other and open a single lockout.
    """
    if not identifier:
        return None
    account_number = normalize_account_number(identifier) or find_identifier(
        identifier, ACCOUNT_PREFIX
    )
    if account_number:
        query = select(Customer).where(Customer.account_number == account_number)
    else:
        phone = normalize_phone(identifier)
        if not phone:
            return None
        query = select(Customer).where(Customer.phone == phone)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).scalar_one_or_none()


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
    success: bool,
    client_key: str | None,
    *,
    factor: str | None = None,
) -> None:
    """Every identify/verify attempt is kept; the failures drive the three limits."""
    session.add(
        VerificationAttempt(
            conversation_id=conversation_id,
            customer_id=customer.id if customer else None,
            stage=stage,
            identifier_tried=(identifier or "")[:255],
            factor=factor,
            success=success,
            client_key=(client_key or None) and client_key[:80],
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
