"""Agent console rules on the real database: sign-in, queue, take, note, resolve, hand back."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.identifiers import verify_secret
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_AGENT_USERNAME
from quickconnect.services import agent_console as console
from quickconnect.services import handoff


def _demo_agent(session: Session) -> m.Agent:
    query = select(m.Agent).where(m.Agent.username == DEMO_AGENT_USERNAME)
    return session.execute(query).scalar_one()


def _second_agent(session: Session) -> m.Agent:
    agent = m.Agent(
        username="agent.two",
        display_name="Kai (Support)",
        password_hash="pbkdf2_sha256$1$x$y",
        is_online=True,
        last_seen_at=m.utcnow(),
        created_at=m.utcnow(),
    )
    session.add(agent)
    session.flush()
    return agent


def _online(session: Session) -> m.Agent:
    agent = _demo_agent(session)
    agent.is_online, agent.last_seen_at = True, m.utcnow()
    session.flush()
    return agent


def _queued_case(session: Session, conversation_id: str, account: str | None = "QC-100001") -> str:
    customer_id = None
    if account:
        query = select(m.Customer.id).where(m.Customer.account_number == account)
        customer_id = session.execute(query).scalar_one()
    case = handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        reason="customer_request",
        summary="Customer: verified. Asked about: change_plan.",
    )
    assert case.queued
    return case.case_number


def _case(session: Session, number: str) -> m.Case:
    return session.execute(select(m.Case).where(m.Case.case_number == number)).scalar_one()


# --- sign-in ---------------------------------------------------------------------------------


def test_sign_in_opens_a_session_and_marks_the_agent_online(session: Session) -> None:
    signed = console.sign_in(
        session, username="Agent.Demo", password=DEMO_AGENT_PASSWORD, remote_addr="10.0.0.1"
    )
    assert signed is not None and signed.agent.username == DEMO_AGENT_USERNAME
    assert console.agent_for_token(session, signed.token) == signed.agent
    stored = session.execute(select(m.AgentSession.token_hash)).scalars().all()
    assert signed.token not in stored  # only the hash is kept
    assert handoff.agents_online(session) == 1
    console.sign_out(session, signed.token)
    assert console.agent_for_token(session, signed.token) is None
    assert handoff.agents_online(session) == 0


def test_a_pbkdf2_password_from_before_argon2_signs_in_and_is_upgraded(session: Session) -> None:
    agent = _demo_agent(session)
    salt, rounds = "0123456789abcdef0123456789abcdef", 1_000
    digest = hashlib.pbkdf2_hmac("sha256", DEMO_AGENT_PASSWORD.encode(), salt.encode(), rounds)
    agent.password_hash = f"pbkdf2_sha256${rounds}${salt}${digest.hex()}"
    session.flush()
    assert console.sign_in(session, username="agent.demo", password="nope", remote_addr="a") is None
    assert agent.password_hash.startswith("pbkdf2_sha256$")  # a wrong password changes nothing
    signed = console.sign_in(
        session, username="agent.demo", password=DEMO_AGENT_PASSWORD, remote_addr="a"
    )
    assert signed is not None
    session.flush()
    session.expire_all()
    upgraded = _demo_agent(session).password_hash
    assert upgraded.startswith("$argon2id$")
    assert verify_secret(DEMO_AGENT_PASSWORD, upgraded)


def test_wrong_password_is_refused_and_recorded(session: Session) -> None:
    assert console.sign_in(session, username="agent.demo", password="nope", remote_addr="a") is None
    assert console.sign_in(session, username="nobody", password="x", remote_addr="a") is None
    assert console.recent_failures(session, username="agent.demo", remote_addr="a") == (1, 2)
    assert console.agent_for_token(session, "not-a-token") is None
    assert console.agent_for_token(session, None) is None


def test_repeated_failures_rate_limit_even_the_right_password(session: Session) -> None:
    for _ in range(console.MAX_FAILURES_PER_USERNAME):
        console.sign_in(session, username="agent.demo", password="guess", remote_addr="b")
    with pytest.raises(console.LoginRateLimited):
        console.sign_in(
            session, username="agent.demo", password=DEMO_AGENT_PASSWORD, remote_addr="c"
        )
    # failures age out of the window
    session.execute(
        update(m.AgentLoginAttempt).values(
            created_at=m.utcnow() - console.LOGIN_WINDOW - timedelta(minutes=1)
        )
    )
    assert console.sign_in(
        session, username="agent.demo", password=DEMO_AGENT_PASSWORD, remote_addr="c"
    )


def test_expired_session_is_refused(session: Session) -> None:
    signed = console.sign_in(
        session, username="agent.demo", password=DEMO_AGENT_PASSWORD, remote_addr="d"
    )
    assert signed is not None
    session.execute(update(m.AgentSession).values(expires_at=m.utcnow() - timedelta(seconds=1)))
    assert console.agent_for_token(session, signed.token) is None


# --- queue, take, reply, note, resolve, hand back ---------------------------------------------


def test_case_creation_queues_the_chat_only_with_an_agent_online(
    session: Session, conversation_id: str
) -> None:
    offline = handoff.open_case(
        session, conversation_id=conversation_id, customer_id=None, reason="customer_request",
        summary="s",
    )  # fmt: skip
    assert (offline.queued, offline.agents_online) == (False, 0)
    assert console.live_case(session, conversation_id) is None
    assert _case(session, offline.case_number).chat_state == "none"

    _online(session)
    again = handoff.open_case(
        session, conversation_id=conversation_id, customer_id=None, reason="customer_request",
        summary="s",
    )  # fmt: skip
    assert again.case_number == offline.case_number and again.queued
    live = console.live_case(session, conversation_id)
    assert live is not None and (live.case_number, live.chat_state) == (again.case_number, "queued")


def test_rest_channel_is_not_queued_even_with_an_agent_online(
    session: Session, conversation_id: str
) -> None:
    _online(session)
    case = handoff.open_case(
        session, conversation_id=conversation_id, customer_id=None, reason="customer_request",
        summary="s", live_chat=False,
    )  # fmt: skip
    assert (case.queued, case.agents_online, case.expected_wait_minutes) == (False, 1, None)
    assert console.live_case(session, conversation_id) is None


def test_queue_shows_waiting_time_reason_verification_and_summary(
    session: Session, conversation_id: str
) -> None:
    _online(session)
    verified = _queued_case(session, conversation_id)
    anonymous = _queued_case(session, f"{conversation_id}-b", account=None)
    _case(session, verified).queued_at = m.utcnow() - timedelta(minutes=3)
    session.flush()
    items = {item.case_number: item for item in console.queue(session)}
    first = items[verified]
    assert first.chat_state == "queued" and first.waiting_seconds >= 180
    assert (first.reason, first.verified_account, first.customer_name) == (
        "customer_request", "QC-100001", "Alice Martin",
    )  # fmt: skip
    assert "change_plan" in first.summary
    assert items[anonymous].verified_account is None
    assert list(items).index(verified) < list(items).index(anonymous)  # longest wait first
    assert "conversation_id" not in first.as_json()


def test_take_assigns_once(session: Session, conversation_id: str) -> None:
    agent = _online(session)
    other = _second_agent(session)
    number = _queued_case(session, conversation_id)
    live = console.take(session, number, agent.id)
    assert (live.chat_state, live.agent_name, live.conversation_id) == (
        "agent", "Sam (Support)", conversation_id,
    )  # fmt: skip
    row = _case(session, number)
    assert (row.status, row.assigned_agent_id) == ("assigned", agent.id)
    assert row.assigned_at is not None
    console.take(session, number, agent.id)  # own chat again: fine
    with pytest.raises(console.CaseUnavailable):
        console.take(session, number, other.id)
    with pytest.raises(console.CaseUnavailable):
        console.take(session, "CS-000000", agent.id)


def test_only_the_assigned_agent_may_reply(session: Session, conversation_id: str) -> None:
    agent = _online(session)
    other = _second_agent(session)
    number = _queued_case(session, conversation_id)
    with pytest.raises(console.CaseUnavailable):
        console.check_reply(session, number, agent.id)  # not taken yet
    console.take(session, number, agent.id)
    assert console.check_reply(session, number, agent.id).conversation_id == conversation_id
    with pytest.raises(console.CaseUnavailable):
        console.check_reply(session, number, other.id)


def test_notes_are_stored_on_the_case(session: Session, conversation_id: str) -> None:
    agent = _online(session)
    number = _queued_case(session, conversation_id)
    console.add_note(session, number, agent.id, "  Customer sounds upset about roaming.  ")
    notes = console.notes(session, number)
    assert [(n["body"], n["agent_name"]) for n in notes] == [
        ("Customer sounds upset about roaming.", "Sam (Support)")
    ]
    with pytest.raises(ValueError):
        console.add_note(session, number, agent.id, "   ")
    context = console.case_context(session, number)
    assert context["verified"] is True and context["notes"] == notes
    assert context["customer"]["account_number"] == "QC-100001"


def test_resolve_needs_a_note_and_returns_the_chat_to_the_bot(
    session: Session, conversation_id: str
) -> None:
    agent = _online(session)
    number = _queued_case(session, conversation_id)
    console.take(session, number, agent.id)
    with pytest.raises(ValueError):
        console.resolve(session, number, agent.id, " ")
    console.resolve(session, number, agent.id, "Explained roaming charges; refund not due.")
    row = _case(session, number)
    assert (row.status, row.chat_state, row.resolution) == ("resolved", "bot", "resolved")
    assert row.resolution_note.startswith("Explained") and row.resolved_at is not None
    assert console.live_case(session, conversation_id) is None
    assert number not in [item.case_number for item in console.queue(session)]
    log = session.execute(
        select(m.InteractionLog.outcome).where(m.InteractionLog.conversation_id == conversation_id)
    ).scalars()
    assert "resolved" in list(log)
    with pytest.raises(console.CaseUnavailable):
        console.resolve(session, number, agent.id, "again")


def test_hand_back_ends_the_live_chat(session: Session, conversation_id: str) -> None:
    agent = _online(session)
    number = _queued_case(session, conversation_id)
    with pytest.raises(console.CaseUnavailable):
        console.hand_back(session, number, agent.id)  # must take it first
    console.take(session, number, agent.id)
    live = console.hand_back(session, number, agent.id)
    assert (live.chat_state, live.conversation_id) == ("bot", conversation_id)
    row = _case(session, number)
    assert (row.status, row.chat_state, row.resolution) == ("resolved", "bot", "handed_back")
    assert console.live_case(session, conversation_id) is None
    # asking for a person again opens a new case and queues it again
    fresh = _queued_case(session, conversation_id)
    assert fresh != number


def test_no_agent_online_keeps_the_case_open_for_follow_up(
    session: Session, conversation_id: str
) -> None:
    agent = _online(session)
    agent.last_seen_at = m.utcnow() - timedelta(minutes=30)  # console closed long ago
    session.flush()
    assert console.stale_agents_offline(session) == 1
    case = handoff.open_case(
        session, conversation_id=conversation_id,
        customer_id=session.execute(
            select(m.Customer.id).where(m.Customer.account_number == "QC-100001")
        ).scalar_one(),
        reason="customer_request", summary="s",
    )  # fmt: skip
    assert (case.queued, case.follow_up_channel, case.masked_contact) == (
        False, "email", "a***@example.com",
    )  # fmt: skip
    row = _case(session, case.case_number)
    assert (row.status, row.chat_state) == ("open", "none")
    assert console.queue(session) == []


def test_case_context_shows_how_to_follow_up(session: Session, conversation_id: str) -> None:
    """No agent online: the contact a visitor left, or a verified customer's preferred one."""
    visitor = handoff.open_case(
        session,
        conversation_id=conversation_id,
        customer_id=None,
        reason="customer_request",
        summary="Customer: unverified.",
    )
    assert console.case_context(session, visitor.case_number)["follow_up"] is None
    handoff.book_follow_up(session, conversation_id=conversation_id, contact="+1 555 010 0199")
    context = console.case_context(session, visitor.case_number)
    assert context["follow_up"] == {"channel": "sms", "contact": "+15550100199"}

    query = select(m.Customer).where(m.Customer.account_number == "QC-100001")
    alice = session.execute(query).scalar_one()
    verified = handoff.open_case(
        session,
        conversation_id=f"{conversation_id}-alice",
        customer_id=alice.id,
        reason="customer_request",
        summary="Customer: verified.",
    )
    context = console.case_context(session, verified.case_number)
    assert context["follow_up"] == {"channel": alice.preferred_contact, "contact": alice.email}
