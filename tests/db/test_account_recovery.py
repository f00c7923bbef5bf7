"""Account recovery: reset links, unlock, security questions, contact details, common issues.

Every test runs on SQLite and PostgreSQL against the seeded demo accounts (rolled back after).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work
from quickconnect.identifiers import hash_token, verify_answer
from quickconnect.services import account_recovery as ar
from quickconnect.services import changes, identity

ALICE = "QC-100001"  # not locked
BRUNO = "QC-100002"  # locked after 5 failed logins, prefers SMS
CHEN = "QC-100003"  # security hold


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _verify(session: Session, conversation_id: str, account_number: str, answer: str) -> str:
    result = identity.verify_factor(session, conversation_id, account_number, answer)
    assert result.status == "verified" and result.token
    return result.token


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _outbox(session: Session, customer_id: int) -> list[m.NotificationOutbox]:
    query = (
        select(m.NotificationOutbox)
        .where(m.NotificationOutbox.customer_id == customer_id)
        .order_by(m.NotificationOutbox.id)
    )
    return list(session.execute(query).scalars())


def _confirm(session: Session, conversation_id: str, change_id: str) -> changes.ChangeOutcome:
    return changes.confirm_change(
        session, conversation_id=conversation_id, change_id=change_id, consent_text="yes"
    )


# --- password reset ---------------------------------------------------------------------------


def test_reset_link_goes_to_the_email_on_file_with_a_hashed_single_use_token(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    alice = _customer(session, ALICE)
    sent = ar.send_reset_link(
        session, conversation_id=conversation_id, token=token, channel="email"
    )
    assert sent.channel == "email" and sent.masked_to == "a***@example.com"
    assert sent.links_in_conversation == 1
    message = session.get(m.NotificationOutbox, sent.outbox_id)
    assert message.to_address == "alice.martin@example.com" and message.channel == "email"
    assert f"/webhooks/webchat/reset#token={sent.token}" in message.body
    stored = session.execute(
        select(m.PasswordResetToken).where(m.PasswordResetToken.customer_id == alice.id)
    ).scalar_one()
    assert stored.token_hash == hash_token(sent.token) and sent.token not in stored.token_hash
    assert stored.channel == "email" and stored.used_at is None
    lifetime = stored.expires_at - stored.created_at
    assert timedelta(minutes=29) < lifetime <= ar.RESET_LINK_TTL


def test_reset_link_by_sms_goes_to_the_phone_on_file(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, BRUNO, "Porto")
    sent = ar.send_reset_link(session, conversation_id=conversation_id, token=token, channel="sms")
    message = session.get(m.NotificationOutbox, sent.outbox_id)
    assert (message.channel, message.to_address) == ("sms", "+15550100002")
    assert sent.masked_to == "•••-•••-0002"


def test_reset_token_works_once_and_unlocks_a_failed_login_lock(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, BRUNO, "Porto")
    sent = ar.send_reset_link(session, conversation_id=conversation_id, token=token, channel="sms")
    redeemed = ar.redeem_reset_token(session, sent.token)
    assert redeemed.unlocked
    state = session.get(m.LoginState, _customer(session, BRUNO).id)
    assert (state.locked, state.lock_reason, state.failed_attempts) == (False, "none", 0)
    with pytest.raises(ar.ResetLinkInvalid, match="already been used"):
        ar.redeem_reset_token(session, sent.token)


def test_reset_token_expires(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    sent = ar.send_reset_link(
        session, conversation_id=conversation_id, token=token, channel="email"
    )
    later = sent.expires_at + timedelta(seconds=1)
    with pytest.raises(ar.ResetLinkInvalid, match="expired"):
        ar.redeem_reset_token(session, sent.token, now=later)
    with pytest.raises(ar.ResetLinkInvalid, match="isn't valid"):
        ar.redeem_reset_token(session, "not-a-real-token")


def test_a_new_link_expires_the_previous_one(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    first = ar.send_reset_link(
        session, conversation_id=conversation_id, token=token, channel="email"
    )
    second = ar.send_reset_link(
        session, conversation_id=conversation_id, token=token, channel="sms"
    )
    assert second.links_in_conversation == 2
    with pytest.raises(ar.ResetLinkInvalid, match="expired"):
        ar.redeem_reset_token(session, first.token)
    assert not ar.redeem_reset_token(session, second.token).unlocked


def test_no_reset_link_without_verification_or_on_a_security_hold(
    session: Session, conversation_id: str
) -> None:
    with pytest.raises(ar.NotVerified):
        ar.send_reset_link(session, conversation_id=conversation_id, token=None, channel="email")
    other = _verify(session, "another-conversation", ALICE, "Biscuit")
    with pytest.raises(ar.NotVerified):  # a token from another conversation does not count
        ar.send_reset_link(session, conversation_id=conversation_id, token=other, channel="email")
    chen = _verify(session, conversation_id, CHEN, "Mochi")
    with pytest.raises(ar.AccountOnHold):
        ar.send_reset_link(session, conversation_id=conversation_id, token=chen, channel="email")
    assert _count(session, m.PasswordResetToken) == 0
    assert _count(session, m.NotificationOutbox) == 0


def test_follow_up_logs_the_outcome_and_escalates_after_repeated_failures(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    ar.send_reset_link(session, conversation_id=conversation_id, token=token, channel="email")
    first = ar.record_reset_outcome(
        session, conversation_id=conversation_id, token=token, worked=False
    )
    assert first.case is None  # first failure: offer to resend / SMS instead
    ar.send_reset_link(session, conversation_id=conversation_id, token=token, channel="sms")
    second = ar.record_reset_outcome(
        session, conversation_id=conversation_id, token=token, worked=False
    )
    assert second.case is not None and second.case.case_number.startswith("CS-")
    case = session.execute(
        select(m.Case).where(m.Case.case_number == second.case.case_number)
    ).scalar_one()
    assert case.reason == "guide_escalation" and "2 reset links" in case.summary
    worked = ar.record_reset_outcome(
        session, conversation_id=conversation_id, token=token, worked=True
    )
    assert worked.worked and worked.case is None
    outcomes = session.execute(
        select(m.InteractionLog.outcome).where(
            m.InteractionLog.conversation_id == conversation_id,
            m.InteractionLog.kind == ar.LOG_KIND,
        )
    ).scalars()
    assert list(outcomes) == ["link_sent", "reset_failed", "link_sent", "reset_failed", "resolved"]


def test_reset_delivery_shows_where_the_link_went_masked(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "alice.martin@example.com")
    nothing = ar.reset_delivery(session, conversation_id=conversation_id, token=token)
    assert not nothing.sent and nothing.contacts.masked_email == "a***@example.com"
    ar.send_reset_link(session, conversation_id=conversation_id, token=token, channel="email")
    found = ar.reset_delivery(session, conversation_id=conversation_id, token=token)
    assert (found.sent, found.channel, found.masked_to, found.status) == (
        True, "email", "a***@example.com", "active",
    )  # fmt: skip
    with pytest.raises(ar.NotVerified):
        ar.reset_delivery(session, conversation_id="someone-else", token=token)


@pytest.mark.parametrize(
    ("text", "channel"),
    [("sms please", "sms"), ("send it by text", "sms"), ("by email", "email"),
     ("not email, text me", "sms"), ("resend it", None), ("to my phone", "sms")],
)  # fmt: skip
def test_parse_channel(text: str, channel: str | None) -> None:
    assert ar.parse_channel(text) == channel


# --- unlock -----------------------------------------------------------------------------------


def test_unlock_after_failed_logins_needs_consent_and_resets_the_counter(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, BRUNO, "porto")
    bruno = _customer(session, BRUNO)
    check = ar.check_lock(session, conversation_id=conversation_id, token=token)
    assert check.status == "proposed" and check.lock.failed_attempts == 5
    assert "5 failed sign-in attempts" in check.proposal.summary
    state = session.get(m.LoginState, bruno.id)
    assert state.locked  # nothing changes before the yes
    outcome = _confirm(session, conversation_id, check.proposal.change_id)
    assert outcome.status == "applied"
    session.refresh(state)
    assert (state.locked, state.lock_reason, state.failed_attempts) == (False, "none", 0)
    assert _count(session, m.ConsentRecord, customer_id=bruno.id, change_kind=ar.UNLOCK_KIND) == 1
    assert any("unlocked" in message.subject for message in _outbox(session, bruno.id))
    again = _confirm(session, conversation_id, check.proposal.change_id)
    assert again.status == "already_applied"
    assert _count(session, m.ConsentRecord, customer_id=bruno.id) == 1


def test_security_hold_is_escalated_with_a_case_not_unlocked(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, CHEN, "Mochi")
    check = ar.check_lock(session, conversation_id=conversation_id, token=token)
    assert check.status == "escalated" and check.proposal is None
    assert check.case.case_number.startswith("CS-")
    case = session.execute(
        select(m.Case).where(m.Case.case_number == check.case.case_number)
    ).scalar_one()
    assert case.reason == "guide_escalation" and "security hold" in case.summary
    assert session.get(m.LoginState, _customer(session, CHEN).id).locked
    with pytest.raises(ar.AccountOnHold):
        ar.propose_unlock(session, conversation_id=conversation_id, token=token)


def test_an_account_that_is_not_locked_gets_nothing_to_confirm(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    check = ar.check_lock(session, conversation_id=conversation_id, token=token)
    assert check.status == "not_locked" and check.proposal is None
    assert _count(session, m.PendingChange) == 0


def test_unverified_customer_can_never_unlock(connection: Connection, conversation_id: str) -> None:
    with unit_of_work(connection) as session:
        with pytest.raises(ar.NotVerified):
            ar.check_lock(session, conversation_id=conversation_id, token=None)
        with pytest.raises(ar.NotVerified):
            ar.propose_unlock(session, conversation_id=conversation_id, token="forged-token")
    # Proposed while verified, but the verification ended before the yes: nothing applied.
    with unit_of_work(connection) as session:
        token = _verify(session, conversation_id, BRUNO, "Porto")
        proposal = ar.propose_unlock(session, conversation_id=conversation_id, token=token)
        identity.end_verification(session, conversation_id)
    with pytest.raises(ar.NotVerified), unit_of_work(connection) as session:
        _confirm(session, conversation_id, proposal.change_id)
    with unit_of_work(connection) as session:
        bruno = _customer(session, BRUNO)
        assert session.get(m.LoginState, bruno.id).locked
        assert _count(session, m.ConsentRecord, customer_id=bruno.id) == 0


# --- security questions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "index"),
    [("3", 2), ("the first school one", 2), ("my first pet", 0), ("city where I was born", 1),
     ("What is the name of the street you grew up on?", 3), ("car", 4), ("the second one", 1)],
)  # fmt: skip
def test_find_security_question(text: str, index: int) -> None:
    assert ar.find_security_question(text) == ar.SECURITY_QUESTIONS[index]


def test_new_security_question_is_stored_hashed_after_consent(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "alice.martin@example.com")
    alice = _customer(session, ALICE)
    question = ar.SECURITY_QUESTIONS[2]
    proposal = ar.propose_security_question(
        session, conversation_id=conversation_id, token=token, question=question,
        answer="Oakwood Primary",
    )  # fmt: skip
    pending = session.get(m.PendingChange, proposal.change_id)
    assert "Oakwood" not in str(pending.params) and "Oakwood" not in pending.summary
    assert ar.security_answer_matches(session, alice.id, "Biscuit")  # unchanged before the yes
    assert _confirm(session, conversation_id, proposal.change_id).status == "applied"
    rows = session.execute(
        select(m.SecurityQuestion).where(m.SecurityQuestion.customer_id == alice.id)
    ).scalars().all()  # fmt: skip
    assert [row.question for row in rows] == [question]
    assert "Oakwood" not in rows[0].answer_hash
    assert verify_answer("oakwood primary", rows[0].answer_hash)
    assert not ar.security_answer_matches(session, alice.id, "Biscuit")
    # The new answer now verifies the customer in a new conversation, the old one no longer.
    assert identity.verify_factor(session, "later-chat", ALICE, "Oakwood Primary").token
    assert identity.verify_factor(session, "later-chat-2", ALICE, "Biscuit").status == "retry"
    assert any("security question" in message.subject for message in _outbox(session, alice.id))


def test_security_question_change_refused_when_unverified_or_bad_answer(
    session: Session, conversation_id: str
) -> None:
    question = ar.SECURITY_QUESTIONS[0]
    with pytest.raises(ar.NotVerified):
        ar.propose_security_question(
            session, conversation_id=conversation_id, token=None, question=question, answer="Rex"
        )
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    with pytest.raises(ar.RecoveryError, match="too short"):
        ar.propose_security_question(
            session, conversation_id=conversation_id, token=token, question=question, answer="x"
        )
    with pytest.raises(ar.RecoveryError, match="pick one"):
        ar.propose_security_question(
            session, conversation_id=conversation_id, token=token, question="Favourite colour?",
            answer="green",
        )  # fmt: skip
    assert _count(session, m.PendingChange) == 0


# --- contact details --------------------------------------------------------------------------


def test_email_change_confirms_to_the_new_address_and_notifies_the_old_one(
    session: Session, conversation_id: str
) -> None:
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    alice = _customer(session, ALICE)
    contact, proposal = ar.propose_contact_change(
        session, conversation_id=conversation_id, token=token,
        new_contact="my new email is Alice.M@NewMail.example",
    )  # fmt: skip
    assert (contact.field, contact.value) == ("email", "alice.m@newmail.example")
    assert "a***@example.com to a***@newmail.example" in proposal.summary
    assert alice.email == "alice.martin@example.com"  # not before the yes
    assert _confirm(session, conversation_id, proposal.change_id).status == "applied"
    session.refresh(alice)
    assert alice.email == "alice.m@newmail.example"
    sent = {(message.to_address, message.channel) for message in _outbox(session, alice.id)}
    assert ("alice.martin@example.com", "email") in sent  # the notice to the old address
    assert ("alice.m@newmail.example", "email") in sent  # the confirmation to the new one
    notice = next(
        msg for msg in _outbox(session, alice.id) if msg.to_address.startswith("alice.mar")
    )
    assert "didn't make this change" in notice.body


def test_phone_change_texts_the_old_number(session: Session, conversation_id: str) -> None:
    token = _verify(session, conversation_id, BRUNO, "Porto")
    bruno = _customer(session, BRUNO)
    _, proposal = ar.propose_contact_change(
        session, conversation_id=conversation_id, token=token, new_contact="(555) 010-0199"
    )
    _confirm(session, conversation_id, proposal.change_id)
    session.refresh(bruno)
    assert bruno.phone == "+15550100199"
    sms = [msg.to_address for msg in _outbox(session, bruno.id) if msg.channel == "sms"]
    assert "+15550100002" in sms and "+15550100199" in sms
    # The new phone identifies the account from now on.
    assert identity.identify_account(session, "next-chat", "555 010 0199").found


def test_contact_change_refusals(session: Session, conversation_id: str) -> None:
    with pytest.raises(ar.NotVerified):
        ar.propose_contact_change(
            session, conversation_id=conversation_id, token=None, new_contact="x@example.org"
        )
    token = _verify(session, conversation_id, ALICE, "Biscuit")
    for text, error in [
        ("alice.martin@example.com", "already the email"),
        ("+1 555 010 0002", "can't use that phone"),  # Bruno's number
        ("blue", "doesn't look like"),
    ]:
        with pytest.raises(ar.RecoveryError, match=error):
            ar.propose_contact_change(
                session, conversation_id=conversation_id, token=token, new_contact=text
            )
    chen = _verify(session, "chen-chat", CHEN, "Mochi")
    with pytest.raises(ar.AccountOnHold):
        ar.propose_contact_change(
            session, conversation_id="chen-chat", token=chen, new_contact="chen@new.example"
        )
    assert _count(session, m.PendingChange) == 0


def test_unverified_customer_can_never_change_contact_details(
    connection: Connection, conversation_id: str
) -> None:
    with unit_of_work(connection) as session:
        token = _verify(session, conversation_id, ALICE, "Biscuit")
        _, proposal = ar.propose_contact_change(
            session,
            conversation_id=conversation_id,
            token=token,
            new_contact="evil@attacker.example",
        )
        identity.end_verification(session, conversation_id)
    with pytest.raises(ar.NotVerified), unit_of_work(connection) as session:
        _confirm(session, conversation_id, proposal.change_id)
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert alice.email == "alice.martin@example.com"
        assert _count(session, m.NotificationOutbox, customer_id=alice.id) == 0
        assert session.get(m.PendingChange, proposal.change_id).status == "proposed"


@pytest.mark.parametrize(
    ("text", "keep"),
    [("no", True), ("keep them", True), ("they're correct", True), ("no changes", True),
     ("new@example.org", False), ("yes change the email", False)],
)  # fmt: skip
def test_wants_to_keep_contacts(text: str, keep: bool) -> None:
    assert ar.wants_to_keep_contacts(text) is keep
