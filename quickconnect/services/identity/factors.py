"""The knowledge factors: what an answer is checked against, the slow comparison outside any
transaction, and bill amounts that the price list gives away."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    AddonTier,
    ProtectionTier,
    SecurityQuestion,
    ServicePlan,
)
from quickconnect.identifiers import (
    hash_answer,
    needs_rehash,
    new_token,
    normalize_answer,
    normalize_email,
    parse_amount,
    verify_secret,
)
from quickconnect.services.identity.common import _find_customer, _last_bill_amount

# How many add-on or protection prices a guessable bill may add to a plan price.
GUESSABLE_EXTRAS = 2


WEAK_FACTOR = "weak_amount"  # an amount anyone could guess: asks for another factor


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
    factor: str | None  # 'email' | 'last_bill' | 'security_answer' | WEAK_FACTOR | None
    # (matched hash, its replacement) when the answer matched a hash with old parameters
    rehash: tuple[str, str] | None = None
    # Slow hash comparisons made: the same for every answer to an account with one security
    # question and for an account that does not exist, so timing tells nothing apart.
    hash_checks: int = 0


@dataclass(frozen=True)
class FactorMaterial:
    """What the factors are checked against, read in one short unit of work."""

    email: str | None
    last_bill: Decimal | None
    answer_hashes: tuple[str, ...]
    # Bill amounts anyone could work out from the public price list (see is_guessable_amount).
    catalogue_amounts: frozenset[Decimal] = frozenset()


def catalogue_amounts(session: Session) -> frozenset[Decimal]:
    """Every plan price, alone and plus up to GUESSABLE_EXTRAS add-on or protection prices."""
    plans = set(session.execute(select(ServicePlan.monthly_price)).scalars())
    extras = {
        price
        for price in [
            *session.execute(select(AddonTier.monthly_price)).scalars(),
            *session.execute(select(ProtectionTier.monthly_price)).scalars(),
        ]
        if price
    }
    sums = set(plans)
    for count in range(1, GUESSABLE_EXTRAS + 1):
        for combo in combinations(sorted(extras), count):
            extra = sum(combo, Decimal("0"))
            sums.update(plan + extra for plan in plans)
    return frozenset(Decimal(amount).quantize(Decimal("0.01")) for amount in sums)


def is_guessable_amount(amount: Decimal, catalogue: frozenset[Decimal]) -> bool:
    """A whole-dollar amount, or one the price list adds up to, proves nothing on its own."""
    return amount == amount.to_integral_value() or amount.quantize(Decimal("0.01")) in catalogue


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
    return FactorMaterial(
        customer.email,
        _last_bill_amount(session, customer.id),
        tuple(hashes),
        catalogue_amounts(session),
    )


@cache
def _decoy_hash() -> str:
    """A hash no answer matches, compared when there is no real one, so that every answer
    costs the same slow comparisons (no account, no security question, an email)."""
    return hash_answer(new_token())


def _match(material: FactorMaterial | None, answer: str) -> tuple[str | None, str | None, int]:
    """Which knowledge factor `answer` matches, the security-answer hash that matched (if that
    was the factor), and how many slow hash comparisons were made.

    No database access: the slow hash comparisons run here, outside any transaction. Every
    answer is compared with every stored hash (or the decoy), whatever it looks like and
    whether or not the account exists, so a wrong answer takes the same time either way.
    """
    hashes = material.answer_hashes if material is not None else ()
    normalized = normalize_answer(answer or "") or "\x00"
    matched: str | None = None
    for stored in hashes or (_decoy_hash(),):
        if verify_secret(normalized, stored) and matched is None and stored in hashes:
            matched = stored
    checks = max(len(hashes), 1)
    if material is None or not answer or not answer.strip():
        return None, None, checks
    email = normalize_email(answer)
    if email is not None:
        return ("email" if email == normalize_email(material.email or "") else None), None, checks
    amount = parse_amount(answer)
    guessable = amount is not None and is_guessable_amount(amount, material.catalogue_amounts)
    if amount is not None and amount == material.last_bill and not guessable:
        return "last_bill", None, checks
    if matched is not None:
        return "security_answer", matched, checks
    if guessable:
        return WEAK_FACTOR, None, checks
    return None, None, checks


def check_factor(material: FactorMaterial | None, account_number: str, answer: str) -> FactorCheck:
    """`verify_factor`'s slow part, run between two units of work (see `FactorCheck`).

    A security answer that matched a hash made with older parameters (PBKDF2 before Argon2)
    also gets its replacement hash here, so `verify_factor` only has to store it.
    """
    factor, matched, checks = _match(material, answer)
    rehash = None
    if matched is not None and needs_rehash(matched):
        rehash = (matched, hash_answer(answer))
    return FactorCheck(account_number, answer, factor, rehash, checks)
