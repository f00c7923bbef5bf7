"""Identity verification, the gate before anything account-specific (spec)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.identifiers import verify_answer
from quickconnect.services import identity

ALICE = "QC-100001"


def _verify(session: Session, conversation_id: str, answer: str) -> identity.VerifyResult:
    assert identity.identify_account(session, conversation_id, ALICE).found
    return identity.verify_factor(session, conversation_id, ALICE, answer)


def _attempts(session: Session, conversation_id: str) -> list[tuple[str, bool]]:
    rows = session.execute(
        select(m.VerificationAttempt.stage, m.VerificationAttempt.success)
        .where(m.VerificationAttempt.conversation_id == conversation_id)
        .order_by(m.VerificationAttempt.id)
    )
    return [(stage, success) for stage, success in rows]


@pytest.mark.parametrize(
    "typed",
    ["QC-100001", "qc100001", "QC 100001", "qc-100001", "555-010-0001", "(555) 010 0001",
     "+1 555 010 0001"],
)  # fmt: skip
def test_identify_by_loose_account_number_or_phone(
    session: Session, conversation_id: str, typed: str
) -> None:
    result = identity.identify_account(session, conversation_id, typed)
    assert result == identity.IdentifyResult(
        found=True,
        account_number=ALICE,
        security_question="What was the name of your first pet?",
        attempts_left=3,
        locked_out=False,
    )


def test_unknown_identifier_counts_as_a_failed_attempt(
    session: Session, conversation_id: str
) -> None:
    first = identity.identify_account(session, conversation_id, "QC-999999")
    assert (first.found, first.attempts_left, first.locked_out) == (False, 2, False)
    second = identity.identify_account(session, conversation_id, "555-999-0000")
    assert (second.found, second.attempts_left, second.locked_out) == (False, 1, False)
    third = identity.identify_account(session, conversation_id, "no idea")
    assert (third.found, third.attempts_left, third.locked_out) == (False, 0, True)
    after = identity.identify_account(session, conversation_id, ALICE)
    assert (after.found, after.locked_out) == (False, True)


@pytest.mark.parametrize(
    "answer",
    [
        "alice.martin@example.com",
        "  Alice.Martin@EXAMPLE.com ",
        "$84.2",
        "84.20",
        "84,20 dollars",
        "USD 84.20",
        "Biscuit",
        "  biscuit  ",
        "BISCUIT!",
    ],
)
def test_each_factor_verifies(session: Session, conversation_id: str, answer: str) -> None:
    result = _verify(session, conversation_id, answer)
    assert result.status == "verified"
    assert result.token and result.first_name == "Alice"
    assert result.masked_email == "a***@example.com"
    assert result.attempts_left == 3
    assert _attempts(session, conversation_id)[-1] == ("verify", True)
    customer = identity.verified_customer(session, conversation_id, result.token)
    assert customer is not None and customer.account_number == ALICE
    assert customer.masked_phone == "•••-•••-0001"
    stored = session.execute(select(m.VerificationSession.token_hash)).scalars().all()
    assert result.token not in stored  # only the hash is kept


@pytest.mark.parametrize(
    ("answer", "factor"),
    [
        ("alice.martin@example.com", "email"),
        ("$84.20", "last_bill"),
        ("biscuit", "security_answer"),
        ("Porto", None),
        ("bruno.silva@example.com", None),
    ],
)
def test_factor_checked_outside_the_transaction_gives_the_same_result(
    session: Session, conversation_id: str, answer: str, factor: str | None
) -> None:
    """The action's path: read the material, hash outside any transaction, then record."""
    assert identity.identify_account(session, conversation_id, ALICE).found
    material = identity.factor_material(session, ALICE)
    assert material is not None and len(material.answer_hashes) >= 1
    assert all(answer_hash.startswith("$argon2id$") for answer_hash in material.answer_hashes)
    checked = identity.check_factor(material, ALICE, answer)
    assert checked.factor == factor
    result = identity.verify_factor(session, conversation_id, ALICE, answer, checked=checked)
    assert result.status == ("verified" if factor else "retry")
    assert _attempts(session, conversation_id)[-1] == ("verify", factor is not None)


def _security_answer_hashes(session: Session, account: str) -> list[str]:
    query = (
        select(m.SecurityQuestion.answer_hash)
        .join(m.Customer, m.Customer.id == m.SecurityQuestion.customer_id)
        .where(m.Customer.account_number == account)
    )
    return list(session.execute(query).scalars())


@pytest.mark.parametrize("checked_outside", [True, False])
def test_a_pbkdf2_answer_from_before_argon2_verifies_and_is_upgraded(
    session: Session, conversation_id: str, checked_outside: bool
) -> None:
    salt, rounds = "0123456789abcdef0123456789abcdef", 1_000
    digest = hashlib.pbkdf2_hmac("sha256", b"biscuit", salt.encode(), rounds).hex()
    legacy = f"pbkdf2_sha256${rounds}${salt}${digest}"
    customer_id = session.execute(
        select(m.Customer.id).where(m.Customer.account_number == ALICE)
    ).scalar_one()
    session.execute(
        update(m.SecurityQuestion)
        .where(m.SecurityQuestion.customer_id == customer_id)
        .values(answer_hash=legacy)
    )
    assert identity.identify_account(session, conversation_id, ALICE).found
    wrong = identity.verify_factor(session, conversation_id, ALICE, "Porto")
    assert wrong.status == "retry"
    assert set(_security_answer_hashes(session, ALICE)) == {legacy}  # nothing rewritten
    checked = None
    if checked_outside:
        checked = identity.check_factor(identity.factor_material(session, ALICE), ALICE, "Biscuit!")
        assert checked.rehash is not None and checked.rehash[0] == legacy
    result = identity.verify_factor(session, conversation_id, ALICE, "Biscuit!", checked=checked)
    assert result.status == "verified"
    upgraded = _security_answer_hashes(session, ALICE)
    assert legacy not in upgraded
    assert any(h.startswith("$argon2id$") and verify_answer("biscuit", h) for h in upgraded)


def test_a_check_for_another_answer_is_refused(session: Session, conversation_id: str) -> None:
    checked = identity.check_factor(identity.factor_material(session, ALICE), ALICE, "biscuit")
    with pytest.raises(ValueError):
        identity.verify_factor(session, conversation_id, ALICE, "Porto", checked=checked)
    assert identity.factor_material(session, "QC-999999") is None
    assert identity.check_factor(None, "QC-999999", "biscuit").factor is None


def test_another_customers_factors_do_not_verify(session: Session, conversation_id: str) -> None:
    assert _verify(session, conversation_id, "bruno.silva@example.com").status == "retry"
    assert identity.verify_factor(session, conversation_id, ALICE, "Porto").status == "retry"


def test_wrong_factors_retry_then_lock_out_the_conversation(
    session: Session, conversation_id: str
) -> None:
    first = _verify(session, conversation_id, "Rex")
    assert (first.status, first.attempts_left, first.token) == ("retry", 2, None)
    second = identity.verify_factor(session, conversation_id, ALICE, "alice@example.org")
    assert (second.status, second.attempts_left) == ("retry", 1)
    third = identity.verify_factor(session, conversation_id, ALICE, "$84.21")
    assert (third.status, third.attempts_left) == ("locked_out", 0)

    correct = identity.verify_factor(session, conversation_id, ALICE, "Biscuit")
    assert (correct.status, correct.token) == ("locked_out", None)
    assert identity.identify_account(session, conversation_id, ALICE).locked_out
    assert identity.attempts_left(session, conversation_id) == 0
    assert session.execute(select(func.count(m.VerificationSession.id))).scalar_one() == 0

    assert _attempts(session, conversation_id) == [
        ("identify", True),
        ("verify", False),
        ("verify", False),
        ("verify", False),
        ("verify", False),
        ("identify", False),
    ]
    outcomes = session.execute(
        select(m.InteractionLog.outcome)
        .join(m.Customer, m.Customer.id == m.InteractionLog.customer_id)
        .where(
            m.Customer.account_number == ALICE,
            m.InteractionLog.conversation_id == conversation_id,
        )
        .order_by(m.InteractionLog.id)
    ).scalars()
    assert list(outcomes) == ["retry", "retry", "locked_out", "locked_out"]


def test_lockout_is_per_conversation(session: Session, conversation_id: str) -> None:
    for answer in ("a", "b", "c"):
        _verify(session, conversation_id, answer)
    assert _verify(session, f"{conversation_id}-new", "Biscuit").status == "verified"


def test_token_belongs_to_its_conversation(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, "Biscuit").token
    assert identity.verified_customer(session, conversation_id, token) is not None
    assert identity.verified_customer(session, "someone-else", token) is None
    assert identity.verified_customer(session, conversation_id, "forged-token") is None
    assert identity.verified_customer(session, conversation_id, None) is None


def test_verified_customer_cannot_act_on_another_account(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, "84.20").token
    assert identity.check_account_access(session, conversation_id, token, "qc100001")
    assert identity.check_account_access(session, conversation_id, token, None)
    assert not identity.check_account_access(session, conversation_id, token, "QC-100002")
    assert not identity.check_account_access(session, conversation_id, token, "my other one")
    assert not identity.check_account_access(session, "other-chat", token, "QC-100001")


def test_expired_token_is_refused(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, "Biscuit").token
    session.execute(
        update(m.VerificationSession)
        .where(m.VerificationSession.conversation_id == conversation_id)
        .values(expires_at=m.utcnow() - timedelta(seconds=1))
    )
    assert identity.verified_customer(session, conversation_id, token) is None


def test_token_lifetime_follows_the_setting(session: Session, conversation_id: str) -> None:
    result = identity.identify_account(session, conversation_id, ALICE)
    assert result.found
    verified = identity.verify_factor(session, conversation_id, ALICE, "Biscuit", ttl_minutes=15)
    row = session.execute(
        select(m.VerificationSession).where(
            m.VerificationSession.conversation_id == conversation_id
        )
    ).scalar_one()
    assert row.expires_at - row.verified_at == timedelta(minutes=15)
    assert identity.verified_customer(session, conversation_id, verified.token) is not None


def test_end_verification_revokes_the_token(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, "Biscuit").token
    assert identity.end_verification(session, conversation_id) == 1
    assert identity.verified_customer(session, conversation_id, token) is None
