"""Verification that cannot be brute-forced (issue #25): limits per account and per client
across conversations, bill amounts from the price list, decoy hashing, one case per account.

Real databases (SQLite and PostgreSQL, tests/conftest.py), the services called directly.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.services import handoff, identity

ALICE = "QC-100001"  # email alice.martin@example.com, last bill 84.20, security answer Biscuit
BRUNO = "QC-100002"  # last bill 45.00 (a plan price), security answer Porto, prefers SMS
BRUNO_PHONE = "+15550100002"


def _chat() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def _try(
    session: Session, account: str, answer: str, *, client: str | None = None
) -> identity.VerifyResult:
    """One fresh conversation: identify the account, then give one answer."""
    conversation = _chat()
    found = identity.identify_account(session, conversation, account, client_key=client)
    if not found.found:
        return identity.VerifyResult("locked_out", None, 0, None, None, found.refusal)
    return identity.verify_factor(session, conversation, account, answer, client_key=client)


def _customer_id(session: Session, account: str) -> int:
    query = select(m.Customer.id).where(m.Customer.account_number == account)
    return int(session.execute(query).scalar_one())


def _lockouts(session: Session, account: str) -> list[m.VerificationLockout]:
    query = select(m.VerificationLockout).where(
        m.VerificationLockout.customer_id == _customer_id(session, account)
    )
    return list(session.execute(query).scalars())


def _notices(session: Session, to_address: str) -> list[m.NotificationOutbox]:
    query = select(m.NotificationOutbox).where(
        m.NotificationOutbox.to_address == to_address,
        m.NotificationOutbox.subject == identity.LOCKOUT_NOTICE_SUBJECT,
    )
    return list(session.execute(query).scalars())


def test_the_reported_attack_fails_price_list_amounts_never_verify(session: Session) -> None:
    """The issue's attack: plan prices guessed as Bruno's last bill, chat after chat."""
    guesses = ["$10.00", "$20.00", "$25.00", "$45.00", "45", "$70.00", "$110.00", "54.99"]
    results = [_try(session, BRUNO, guess) for guess in guesses]
    assert [r.status for r in results] == ["weak_factor"] * len(guesses)
    assert all(r.token is None for r in results)
    # "$45.00" is his real last bill: the reply is the same as for the others, nothing counted
    verified = select(func.count()).select_from(m.VerificationSession)
    assert session.execute(verified).scalar_one() == 0
    assert identity.account_failures(session, _customer_id(session, BRUNO)) == 0
    # ... and the real customer still verifies with a factor that is his alone
    assert _try(session, BRUNO, "Porto").status == "verified"


def test_a_bill_amount_that_is_not_a_catalogue_price_still_verifies(session: Session) -> None:
    result = _try(session, ALICE, "$84.20")
    assert result.status == "verified" and result.token


@pytest.mark.parametrize(
    ("amount", "guessable"),
    [
        ("45.00", True),  # a plan price
        ("63.00", True),  # any whole-dollar amount
        ("54.99", True),  # Everyday 20GB + Streaming Standard
        ("61.98", True),  # Everyday 20GB + two add-ons (9.99 + 6.99)
        ("84.20", False),
        ("63.20", False),
        ("126.40", False),
    ],
)
def test_guessable_amounts(session: Session, amount: str, guessable: bool) -> None:
    catalogue = identity.catalogue_amounts(session)
    assert identity.is_guessable_amount(Decimal(amount), catalogue) is guessable


def test_failures_count_per_account_across_conversations_and_lock_it(session: Session) -> None:
    wrong = ["nope@example.com", "Lisbon", "$12.34", "Braga", "Faro"]
    statuses = [_try(session, BRUNO, answer).status for answer in wrong]
    # five fresh conversations, one failure each: the fifth locks the account
    assert statuses == ["retry"] * 4 + ["locked_out"]
    [lockout] = _lockouts(session, BRUNO)
    assert lockout.failures == identity.ACCOUNT_MAX_FAILURES and lockout.cleared_at is None
    assert lockout.locked_until - lockout.locked_at == identity.ACCOUNT_LOCKOUT

    # a sixth conversation with the right answer is refused, at identification already
    conversation = _chat()
    found = identity.identify_account(session, conversation, BRUNO)
    assert (found.found, found.locked_out, found.refusal) == (False, True, "account")
    late = identity.verify_factor(session, conversation, BRUNO, "Porto")
    assert (late.status, late.refusal, late.token) == ("locked_out", "account", None)

    # the holder is told once, at the contact on file (Bruno prefers SMS)
    [notice] = _notices(session, BRUNO_PHONE)
    assert notice.channel == "sms" and notice.status == "queued"
    assert "Nothing on your account was shown or changed" in notice.body
    assert lockout.notification_id == notice.id

    # another account is not affected
    assert _try(session, ALICE, "alice.martin@example.com").status == "verified"


def test_attempts_left_is_the_tightest_limit(session: Session) -> None:
    for answer in ["Lisbon", "Braga", "Faro"]:
        assert _try(session, BRUNO, answer).status == "retry"
    # a new chat has 3 attempts of its own, but the account only 2 more
    conversation = _chat()
    assert identity.identify_account(session, conversation, BRUNO).attempts_left == 2
    assert identity.verify_factor(session, conversation, BRUNO, "Evora").attempts_left == 1


def test_the_real_customer_verifies_after_the_lockout_and_counting_starts_afresh(
    session: Session,
) -> None:
    for answer in ["a@example.com", "b", "c", "d", "e"]:
        _try(session, BRUNO, answer)
    [lockout] = _lockouts(session, BRUNO)
    assert _try(session, BRUNO, "Porto").status == "locked_out"
    # the lockout runs out (moved into the past, as time would)
    past = timedelta(hours=25)
    lockout.locked_at -= past
    lockout.locked_until -= past
    attempts = select(m.VerificationAttempt).where(
        m.VerificationAttempt.customer_id == _customer_id(session, BRUNO)
    )
    for attempt in session.execute(attempts).scalars():
        attempt.created_at -= past
    session.flush()
    # one typo after the lockout does not lock again: the count started afresh
    assert _try(session, BRUNO, "Portugal").status == "retry"
    assert _try(session, BRUNO, "Porto").status == "verified"
    assert len(_lockouts(session, BRUNO)) == 1


def test_an_agent_clears_a_lockout(session: Session) -> None:
    for answer in ["a", "b", "c", "d", "e"]:
        _try(session, BRUNO, answer)
    [shown] = [i for i in identity.active_lockouts(session) if i.account_number == BRUNO]
    assert shown.customer_name == "Bruno Silva" and shown.holder_notified
    agent_id = session.execute(select(m.Agent.id).limit(1)).scalar_one()
    cleared = identity.clear_lockout(session, shown.id, agent_id, "called him back, checked ID")
    assert cleared.id == shown.id
    assert all(i.account_number != BRUNO for i in identity.active_lockouts(session))
    with pytest.raises(LookupError):
        identity.clear_lockout(session, shown.id, agent_id, "twice")
    # the failures before the clearing no longer count
    assert identity.account_failures(session, _customer_id(session, BRUNO)) == 0
    assert _try(session, BRUNO, "Porto").status == "verified"


def test_failures_count_per_client_across_accounts(session: Session) -> None:
    guesser, other = "ip:203.0.113.9", "ip:198.51.100.20"
    unknown = [f"QC-9{n:05d}" for n in range(identity.CLIENT_MAX_FAILURES)]
    for account in unknown:  # ten chats, each naming an account that does not exist
        identity.identify_account(session, _chat(), account, client_key=guesser)
    refused = _try(session, ALICE, "alice.martin@example.com", client=guesser)
    assert (refused.status, refused.refusal, refused.token) == ("locked_out", "client", None)
    # the same account from another client, and Alice's account itself, are unaffected
    assert _try(session, ALICE, "alice.martin@example.com", client=other).status == "verified"
    assert _lockouts(session, ALICE) == []


def test_every_wrong_answer_costs_the_same_hash_comparisons(session: Session) -> None:
    """Timing cannot tell an existing account from a missing one, nor one answer's shape from
    another's: each makes the same slow comparisons (the decoy where nothing is stored)."""
    material = identity.factor_material(session, ALICE)
    assert material is not None and len(material.answer_hashes) == 1
    missing = identity.factor_material(session, "QC-999999")
    assert missing is None
    answers = ["wrong@example.com", "$12.34", "$45.00", "Fido", "", "!!"]
    checks = {
        (exists, answer): identity.check_factor(
            material if exists else missing, ALICE, answer
        ).hash_checks
        for exists in (True, False)
        for answer in answers
    }
    assert set(checks.values()) == {1}
    assert identity.check_factor(material, ALICE, "Biscuit").factor == "security_answer"
    assert identity.check_factor(missing, ALICE, "Biscuit").factor is None


def _open(
    session: Session, customer_id: int, reason: str = "verification_failed", chat: str = ""
) -> handoff.CaseOpened:
    return handoff.open_case(
        session,
        conversation_id=chat or _chat(),
        customer_id=None,
        reason=reason,
        summary="failed verification" if reason == "verification_failed" else "asked",
        live_chat=False,
        account_tried_id=customer_id,
    )


def test_failed_verifications_share_one_open_case_per_account(session: Session) -> None:
    bruno = _customer_id(session, BRUNO)
    first = _open(session, bruno)
    second_chat = _chat()
    second = _open(session, bruno, chat=second_chat)
    assert first.is_new and not first.shared
    assert second.case_number == first.case_number and second.shared and not second.is_new
    assert not second.needs_contact  # followed up with the holder, not with the guesser
    case_id = session.execute(
        select(m.Case.id).where(m.Case.case_number == first.case_number)
    ).scalar_one()
    notes = session.execute(select(m.CaseNote.body).where(m.CaseNote.case_id == case_id))
    assert [second_chat in body for body in notes.scalars()] == [True]
    # another account, or another reason, gets a case of its own
    assert _open(session, _customer_id(session, ALICE)).case_number != first.case_number
    request = _open(session, bruno, reason="customer_request")
    assert request.case_number != first.case_number and request.is_new
