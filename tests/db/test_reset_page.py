"""The password reset page's service (issue #27): the link is checked without being used up,
the new password must follow the rules and is stored hashed, the link then works no more,
and the chat's follow-up sees that the password really changed. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.identifiers import verify_secret
from quickconnect.services import account_recovery as ar
from quickconnect.services import identity

BRUNO = "QC-100002"  # locked after 5 failed logins; security answer Porto


def _link(session: Session, conversation_id: str) -> tuple[str, str]:
    verified = identity.verify_factor(session, conversation_id, BRUNO, "Porto")
    assert verified.token
    sent = ar.send_reset_link(
        session, conversation_id=conversation_id, token=verified.token, channel="email"
    )
    return sent.token, verified.token


def _state(session: Session) -> m.LoginState:
    return session.execute(
        select(m.LoginState)
        .join(m.Customer, m.Customer.id == m.LoginState.customer_id)
        .where(m.Customer.account_number == BRUNO)
    ).scalar_one()


@pytest.mark.parametrize(
    ("password", "confirm", "problem"),
    [
        ("Harbour-Lights-7", "Harbour-Lights-8", "don't match"),
        ("short1!", "short1!", "at least 10"),
        ("onlyletterslong", "onlyletterslong", "number or symbol"),
        ("password123", "password123", "too easy"),
        ("aaaaaaaaaa1", "aaaaaaaaaa1", "too easy"),
        ("bruno.silva-2026", "bruno.silva-2026", "name or email"),
    ],
)
def test_a_weak_password_is_refused_and_the_link_still_works(
    session: Session, conversation_id: str, password: str, confirm: str, problem: str
) -> None:
    link, _ = _link(session, conversation_id)
    with pytest.raises(ar.WeakPassword, match=problem):
        ar.reset_password(session, link, password, confirm)
    assert ar.check_reset_link(session, link) == "Bruno"  # not used up
    assert _state(session).password_hash is None


def test_a_good_password_is_stored_hashed_and_the_link_is_used_up(
    session: Session, conversation_id: str
) -> None:
    link, chat_token = _link(session, conversation_id)
    assert ar.check_reset_link(session, link) == "Bruno"
    redeemed = ar.reset_password(session, link, "Harbour-Lights-7", "Harbour-Lights-7")
    assert redeemed.unlocked  # the failed-login lock goes with the reset
    state = _state(session)
    assert state.password_hash.startswith("$argon2id$")
    assert verify_secret("Harbour-Lights-7", state.password_hash)
    assert "Harbour" not in state.password_hash and state.password_changed_at is not None
    with pytest.raises(ar.ResetLinkInvalid, match="already been used"):
        ar.reset_password(session, link, "Another-Pass-9", "Another-Pass-9")
    with pytest.raises(ar.ResetLinkInvalid):
        ar.check_reset_link(session, link)

    follow_up = ar.record_reset_outcome(
        session, conversation_id=conversation_id, token=chat_token, worked=True
    )
    assert follow_up.password_changed_at == state.password_changed_at


def test_the_follow_up_knows_when_no_password_was_set(
    session: Session, conversation_id: str
) -> None:
    _, chat_token = _link(session, conversation_id)
    follow_up = ar.record_reset_outcome(
        session, conversation_id=conversation_id, token=chat_token, worked=True
    )
    assert follow_up.password_changed_at is None


def test_unknown_links_are_refused(session: Session) -> None:
    with pytest.raises(ar.ResetLinkInvalid, match="isn't valid"):
        ar.check_reset_link(session, "not-a-token")
    with pytest.raises(ar.ResetLinkInvalid):
        ar.reset_password(session, "", "Harbour-Lights-7", "Harbour-Lights-7")
