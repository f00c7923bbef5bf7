"""Proposing and confirming account changes: consent, one transaction, applied exactly once."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, register_handler

NOTE_KIND = "test.add_account_note"
FAILING_KIND = "test.failing_change"
HANDLER_RAN = "test.handler_ran"


@register_handler(NOTE_KIND)
def _add_note(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """A tiny real change: one row per run, so tests can count how often it ran."""
    session.add(
        m.InteractionLog(
            customer_id=customer_id, kind=HANDLER_RAN, summary=params["note"], outcome="done"
        )
    )
    return ChangeEffect(
        result={"note": params["note"], "fee": params["fee"]},
        log_summary=f"Added note: {params['note']}",
        notification=(params.get("channel", "email"), "Your account note", params["note"]),
    )


@register_handler(FAILING_KIND)
def _fail_halfway(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Writes, then fails like a payment gateway timing out: everything must roll back."""
    customer = session.get(m.Customer, customer_id)
    customer.address = "1 Half-Applied Road"
    session.add(
        m.InteractionLog(customer_id=customer_id, kind=HANDLER_RAN, summary="x", outcome="x")
    )
    session.flush()
    raise RuntimeError("payment gateway timed out")


def _alice_id(session: Session) -> int:
    query = select(m.Customer.id).where(m.Customer.account_number == "QC-100001")
    return int(session.execute(query).scalar_one())


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _written(session: Session, conversation_id: str) -> dict[str, int]:
    return {
        "consent": _count(session, m.ConsentRecord, conversation_id=conversation_id),
        "log": _count(session, m.InteractionLog, conversation_id=conversation_id),
        "handler": _count(session, m.InteractionLog, kind=HANDLER_RAN),
        "outbox": _count(session, m.NotificationOutbox),
    }


def _propose(
    connection: Connection, conversation_id: str, kind: str = NOTE_KIND, **params: Any
) -> changes.ProposedChange:
    with unit_of_work(connection) as session:
        return changes.propose_change(
            session,
            conversation_id=conversation_id,
            customer_id=_alice_id(session),
            kind=kind,
            params={"note": "prefers evening calls", "fee": Decimal("2.50"), **params},
            summary="Add the note 'prefers evening calls' for a $2.50 fee",
            amount=Decimal("2.50"),
        )


def _confirm(connection: Connection, conversation_id: str, change_id: str) -> Any:
    with unit_of_work(connection) as session:
        return changes.confirm_change(
            session,
            conversation_id=conversation_id,
            change_id=change_id,
            consent_text="Yes: add the note 'prefers evening calls' for a $2.50 fee",
        )


def test_confirm_applies_once_and_records_everything(
    connection: Connection, conversation_id: str
) -> None:
    proposed = _propose(connection, conversation_id)
    assert proposed.amount == Decimal("2.50") and "evening calls" in proposed.summary

    outcome = _confirm(connection, conversation_id, proposed.change_id)
    assert outcome == changes.ChangeOutcome(
        "applied", {"note": "prefers evening calls", "fee": "2.50"}
    )
    again = _confirm(connection, conversation_id, proposed.change_id)
    assert again == changes.ChangeOutcome("already_applied", outcome.result)

    with unit_of_work(connection) as session:
        assert _count(session, m.InteractionLog, kind=HANDLER_RAN) == 1
        consent = session.execute(
            select(m.ConsentRecord).where(m.ConsentRecord.conversation_id == conversation_id)
        ).scalar_one()
        assert consent.consent_text.startswith("Yes: add the note")
        assert consent.change_kind == NOTE_KIND and consent.agreed_at.tzinfo is not None
        assert consent.pending_change_id == proposed.change_id
        log = session.execute(
            select(m.InteractionLog).where(m.InteractionLog.conversation_id == conversation_id)
        ).scalar_one()
        assert (log.kind, log.outcome, log.summary) == (
            NOTE_KIND, "applied", "Added note: prefers evening calls",
        )  # fmt: skip
        message = session.execute(
            select(m.NotificationOutbox).order_by(m.NotificationOutbox.id.desc()).limit(1)
        ).scalar_one()
        assert (message.channel, message.to_address, message.status) == (
            "email", "alice.martin@example.com", "queued",
        )  # fmt: skip
        change = session.get(m.PendingChange, proposed.change_id)
        assert change.status == "applied" and change.applied_at is not None
        assert change.params["fee"] == "2.50"  # Decimals are stored JSON-ready


def test_sms_summary_goes_to_the_phone_on_file(
    connection: Connection, conversation_id: str
) -> None:
    proposed = _propose(connection, conversation_id, channel="sms")
    assert _confirm(connection, conversation_id, proposed.change_id).status == "applied"
    with unit_of_work(connection) as session:
        message = session.execute(
            select(m.NotificationOutbox).order_by(m.NotificationOutbox.id.desc()).limit(1)
        ).scalar_one()
        assert (message.channel, message.to_address) == ("sms", "+15550100001")


def test_failing_handler_leaves_nothing_written(
    connection: Connection, conversation_id: str
) -> None:
    proposed = _propose(connection, conversation_id, kind=FAILING_KIND)
    with unit_of_work(connection) as session:
        before = _written(session, conversation_id)

    with pytest.raises(RuntimeError, match="gateway"):
        _confirm(connection, conversation_id, proposed.change_id)

    with unit_of_work(connection) as session:
        assert _written(session, conversation_id) == before
        assert before["consent"] == before["handler"] == 0
        alice = session.get(m.Customer, _alice_id(session))
        assert alice.address == "12 Market Street, Springfield"
        assert session.get(m.PendingChange, proposed.change_id).status == "proposed"


def test_another_conversation_cannot_confirm_or_cancel(
    connection: Connection, conversation_id: str
) -> None:
    proposed = _propose(connection, conversation_id)
    assert _confirm(connection, "intruder", proposed.change_id).status == "not_found"
    with unit_of_work(connection) as session:
        outcome = changes.cancel_change(
            session, conversation_id="intruder", change_id=proposed.change_id
        )
        assert outcome.status == "not_found"
        assert (
            changes.get_change(session, conversation_id="intruder", change_id=proposed.change_id)
            is None
        )
        assert _written(session, conversation_id)["consent"] == 0
        assert _count(session, m.InteractionLog, kind=HANDLER_RAN) == 0
        view = changes.get_change(
            session, conversation_id=conversation_id, change_id=proposed.change_id
        )
        assert view is not None and view.status == "proposed"
    assert _confirm(connection, conversation_id, "no-such-change").status == "not_found"


def test_cancelled_change_cannot_be_confirmed(connection: Connection, conversation_id: str) -> None:
    proposed = _propose(connection, conversation_id)
    with unit_of_work(connection) as session:
        outcome = changes.cancel_change(
            session, conversation_id=conversation_id, change_id=proposed.change_id
        )
        assert outcome.status == "cancelled"
    assert _confirm(connection, conversation_id, proposed.change_id).status == "cancelled"
    with unit_of_work(connection) as session:
        assert _count(session, m.InteractionLog, kind=HANDLER_RAN) == 0
        assert _count(session, m.ConsentRecord, conversation_id=conversation_id) == 0


def test_new_proposal_supersedes_the_unconfirmed_one(
    connection: Connection, conversation_id: str
) -> None:
    stale = _propose(connection, conversation_id)
    fresh = _propose(connection, conversation_id, note="prefers morning calls")
    assert _confirm(connection, conversation_id, stale.change_id).status == "cancelled"
    outcome = _confirm(connection, conversation_id, fresh.change_id)
    assert outcome.status == "applied" and outcome.result["note"] == "prefers morning calls"


def test_unknown_kind_and_empty_consent_are_refused(
    connection: Connection, conversation_id: str
) -> None:
    with pytest.raises(changes.UnknownChangeKind), unit_of_work(connection) as session:
        changes.propose_change(
            session,
            conversation_id=conversation_id,
            customer_id=_alice_id(session),
            kind="test.not_registered",
            params={},
            summary="?",
        )
    proposed = _propose(connection, conversation_id)
    with pytest.raises(ValueError, match="consent"), unit_of_work(connection) as session:
        changes.confirm_change(
            session, conversation_id=conversation_id, change_id=proposed.change_id, consent_text=" "
        )


def test_a_kind_has_one_handler() -> None:
    with pytest.raises(ValueError, match="already has handler"):

        @register_handler(NOTE_KIND)
        def _other(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
            raise AssertionError

    assert NOTE_KIND in changes.registered_kinds()


def test_concurrent_confirmations_apply_once(scratch_engine: Engine, conversation_id: str) -> None:
    """Two requests confirming at the same moment (double click, retry): one applies, the
    other waits for it (row lock on PostgreSQL, write lock on SQLite) and sees it applied."""
    with unit_of_work(scratch_engine) as session:
        proposed = changes.propose_change(
            session,
            conversation_id=conversation_id,
            customer_id=_alice_id(session),
            kind=NOTE_KIND,
            params={"note": "concurrent", "fee": "0.00"},
            summary="Add the note 'concurrent'",
        )
    results: list[changes.ChangeOutcome] = []

    def confirm() -> None:
        with unit_of_work(scratch_engine) as other:
            results.append(
                changes.confirm_change(
                    other,
                    conversation_id=conversation_id,
                    change_id=proposed.change_id,
                    consent_text="yes",
                )
            )

    with unit_of_work(scratch_engine) as session:
        first = changes.confirm_change(
            session,
            conversation_id=conversation_id,
            change_id=proposed.change_id,
            consent_text="yes",
        )
        second = threading.Thread(target=confirm)
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the second confirmation must wait for the first transaction"
    second.join(timeout=10)
    assert first.status == "applied"
    assert [outcome.status for outcome in results] == ["already_applied"]
    with unit_of_work(scratch_engine) as session:
        assert _count(session, m.InteractionLog, kind=HANDLER_RAN, summary="concurrent") == 1
        assert _count(session, m.ConsentRecord, conversation_id=conversation_id) == 1
