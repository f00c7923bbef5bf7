"""Escalation to a person: CS- case, same case when asked again, wait or follow-up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.services import handoff


def _customer_id(session: Session, account_number: str) -> int:
    query = select(m.Customer.id).where(m.Customer.account_number == account_number)
    return int(session.execute(query).scalar_one())


def _set_agent(session: Session, *, online: bool, seen_minutes_ago: float | None) -> None:
    seen = None if seen_minutes_ago is None else m.utcnow() - timedelta(minutes=seen_minutes_ago)
    session.execute(
        update(m.Agent)
        .where(m.Agent.username == "agent.demo")
        .values(is_online=online, last_seen_at=seen)
    )


def _open(session: Session, conversation_id: str, customer_id: int | None) -> handoff.CaseOpened:
    return handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason="customer_request",
        summary="Customer asked for a person while changing plan.",
    )


def test_no_agent_online_offers_follow_up_on_preferred_channel(
    session: Session, conversation_id: str
) -> None:
    alice = _customer_id(session, "QC-100001")
    case = _open(session, conversation_id, alice)
    assert re.fullmatch(r"CS-\d{6}", case.case_number)
    assert (case.agents_online, case.expected_wait_minutes) == (0, None)
    assert (case.follow_up_channel, case.masked_contact) == ("email", "a***@example.com")
    row = session.execute(select(m.Case).where(m.Case.case_number == case.case_number)).scalar_one()
    assert (row.customer_id, row.reason, row.status, row.follow_up_channel) == (
        alice, "customer_request", "open", "email",
    )  # fmt: skip
    assert "changing plan" in row.summary
    log = session.execute(
        select(m.InteractionLog).where(m.InteractionLog.conversation_id == conversation_id)
    ).scalar_one()
    assert log.kind == "escalation" and case.case_number in log.summary


def test_sms_customers_are_followed_up_by_sms(session: Session, conversation_id: str) -> None:
    case = _open(session, conversation_id, _customer_id(session, "QC-100002"))
    assert (case.follow_up_channel, case.masked_contact) == ("sms", "•••-•••-0002")


def test_unverified_visitor_gets_a_case_without_contact(
    session: Session, conversation_id: str
) -> None:
    case = handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=None,
        reason="verification_failed",
        summary="Three failed verification attempts.",
    )
    assert re.fullmatch(r"CS-\d{6}", case.case_number)
    assert (case.follow_up_channel, case.masked_contact) == (None, None)
    logs = select(func.count()).where(m.InteractionLog.conversation_id == conversation_id)
    assert session.execute(logs).scalar_one() == 0


def test_asking_again_returns_the_same_open_case(session: Session, conversation_id: str) -> None:
    alice = _customer_id(session, "QC-100001")
    first = _open(session, conversation_id, alice)
    again = _open(session, conversation_id, alice)
    assert again.case_number == first.case_number and (first.is_new, again.is_new) == (True, False)
    assert _open(session, f"{conversation_id}-b", alice).case_number != first.case_number
    count = select(func.count()).where(m.Case.conversation_id == conversation_id)
    assert session.execute(count).scalar_one() == 1


def test_resolved_case_is_not_reused(session: Session, conversation_id: str) -> None:
    first = _open(session, conversation_id, None)
    session.execute(
        update(m.Case).where(m.Case.case_number == first.case_number).values(status="resolved")
    )
    assert _open(session, conversation_id, None).case_number != first.case_number


def test_online_agent_gives_an_expected_wait(session: Session, conversation_id: str) -> None:
    _set_agent(session, online=True, seen_minutes_ago=1)
    case = _open(session, conversation_id, _customer_id(session, "QC-100001"))
    assert case.agents_online == 1
    assert isinstance(case.expected_wait_minutes, int) and case.expected_wait_minutes >= 2
    assert (case.follow_up_channel, case.masked_contact) == (None, None)
    longer = _open(session, f"{conversation_id}-2", None)
    assert longer.expected_wait_minutes > case.expected_wait_minutes  # queued behind the first


def test_agent_not_seen_recently_counts_as_offline(session: Session, conversation_id: str) -> None:
    _set_agent(session, online=True, seen_minutes_ago=10)
    case = _open(session, conversation_id, _customer_id(session, "QC-100001"))
    assert (case.agents_online, case.follow_up_channel) == (0, "email")


def test_unknown_reason_is_refused(session: Session, conversation_id: str) -> None:
    with pytest.raises(ValueError, match="reason"):
        handoff.open_case(
            session, conversation_id=conversation_id, customer_id=None, reason="bored", summary=""
        )


# --- follow-up contact: no agent online and the visitor is not verified -----------------------


def _outbox(session: Session, address: str) -> list[m.NotificationOutbox]:
    query = select(m.NotificationOutbox).where(m.NotificationOutbox.to_address == address)
    return list(session.execute(query).scalars())


def test_unverified_visitor_with_no_agent_online_is_asked_for_a_contact(
    session: Session, conversation_id: str
) -> None:
    visitor = _open(session, conversation_id, None)
    assert visitor.needs_contact and visitor.agents_online == 0
    alice = _open(session, f"{conversation_id}-alice", _customer_id(session, "QC-100001"))
    assert not alice.needs_contact  # verified: we follow up at the contact on file


def test_queued_chat_needs_no_contact(session: Session, conversation_id: str) -> None:
    _set_agent(session, online=True, seen_minutes_ago=1)
    case = _open(session, conversation_id, None)
    assert case.queued and not case.needs_contact


@pytest.mark.parametrize(
    ("typed", "channel", "address"),
    [
        ("bob.smith@example.org", "email", "bob.smith@example.org"),
        ("you can email me at Bob.Smith@Example.org.", "email", "bob.smith@example.org"),
        ("555-010-0199", "sms", "+15550100199"),
        ("call me on (555) 010 0199 please", "sms", "+15550100199"),
        ("+44 20 7946 0958", "sms", "+442079460958"),
    ],
)
def test_contact_is_read_from_what_the_visitor_typed(
    typed: str, channel: str, address: str
) -> None:
    assert handoff.parse_follow_up_contact(typed) == handoff.FollowUpContact(channel, address)


@pytest.mark.parametrize(
    "typed", ["", "no thanks", "bob at example dot com", "QC-100001", "12345", "2026-05-01"]
)
def test_anything_else_is_not_a_contact(typed: str) -> None:
    assert handoff.parse_follow_up_contact(typed) is None


def test_booked_email_is_stored_on_the_case_with_a_confirmation(
    session: Session, conversation_id: str
) -> None:
    opened = _open(session, conversation_id, None)
    booked = handoff.book_follow_up(
        session, conversation_id=conversation_id, contact="my email is Bob.Smith@Example.org"
    )
    assert (booked.case_number, booked.channel, booked.masked_contact) == (
        opened.case_number, "email", "b***@example.org",
    )  # fmt: skip
    row = session.execute(
        select(m.Case).where(m.Case.case_number == opened.case_number)
    ).scalar_one()
    assert (row.status, row.follow_up_channel, row.follow_up_contact) == (
        "open", "email", "bob.smith@example.org",
    )  # fmt: skip
    [confirmation] = _outbox(session, "bob.smith@example.org")
    assert confirmation.id == booked.confirmation_id
    assert (confirmation.channel, confirmation.status, confirmation.customer_id) == (
        "email", "queued", None,
    )  # fmt: skip
    assert opened.case_number in confirmation.subject and opened.case_number in confirmation.body

    # The same contact again queues nothing new; asking for a person again now knows it.
    again = handoff.book_follow_up(
        session, conversation_id=conversation_id, contact="bob.smith@example.org"
    )
    assert again.confirmation_id is None and len(_outbox(session, "bob.smith@example.org")) == 1
    reopened = _open(session, conversation_id, None)
    assert (reopened.case_number, reopened.is_new, reopened.needs_contact) == (
        opened.case_number, False, False,
    )  # fmt: skip
    assert (reopened.follow_up_channel, reopened.masked_contact) == ("email", "b***@example.org")


def test_booked_phone_number_gets_an_sms_and_a_correction_replaces_it(
    session: Session, conversation_id: str
) -> None:
    opened = _open(session, conversation_id, None)
    first = handoff.book_follow_up(session, conversation_id=conversation_id, contact="555 010 0198")
    fixed = handoff.book_follow_up(session, conversation_id=conversation_id, contact="555 010 0199")
    assert (first.channel, fixed.channel, fixed.masked_contact) == ("sms", "sms", "•••-•••-0199")
    row = session.execute(
        select(m.Case).where(m.Case.case_number == opened.case_number)
    ).scalar_one()
    assert (row.follow_up_channel, row.follow_up_contact) == ("sms", "+15550100199")
    [sms] = _outbox(session, "+15550100199")
    assert sms.channel == "sms" and opened.case_number in sms.body
    assert len(_outbox(session, "+15550100198")) == 1  # the typo was confirmed too, once


def test_confirmations_per_case_are_capped(session: Session, conversation_id: str) -> None:
    """Changing the contact again and again must not make us message address after address."""
    opened = _open(session, conversation_id, None)
    addresses = [f"someone{n}@example.org" for n in range(5)]
    booked = [
        handoff.book_follow_up(session, conversation_id=conversation_id, contact=address)
        for address in addresses
    ]
    sent = [b.confirmation_id for b in booked]
    assert all(c is not None for c in sent[: handoff.MAX_FOLLOW_UP_CONFIRMATIONS])
    assert all(c is None for c in sent[handoff.MAX_FOLLOW_UP_CONFIRMATIONS :])
    assert [len(_outbox(session, a)) for a in addresses] == [1, 1, 1, 0, 0]
    row = session.execute(
        select(m.Case).where(m.Case.case_number == opened.case_number)
    ).scalar_one()
    assert row.follow_up_contact == addresses[-1]  # the latest contact is still kept


def test_booking_needs_a_contact_and_an_open_case(session: Session, conversation_id: str) -> None:
    with pytest.raises(LookupError):
        handoff.book_follow_up(session, conversation_id=conversation_id, contact="a@example.com")
    _open(session, conversation_id, None)
    with pytest.raises(ValueError):
        handoff.book_follow_up(session, conversation_id=conversation_id, contact="no thanks")
    assert handoff.open_case_number(session, conversation_id) is not None
    assert handoff.open_case_number(session, f"{conversation_id}-none") is None
