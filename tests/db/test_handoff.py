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
