"""The one way to change an account (spec, "Every change to an account").

A flow first *proposes* a change: the exact summary (with any fee, prorated amount or refund)
is stored and shown to the customer. Only an explicit yes *confirms* it, and confirming does
everything in the caller's single transaction: store the consent with a timestamp, run the
change's handler, log the interaction, queue the summary email/SMS, mark the change applied.
The pending row is locked and compare-and-set, so a retried or double-clicked confirmation
returns the stored result instead of applying the change twice.

Flows plug in with `@register_handler("kind")`; a handler only does the change itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quickconnect.db.models import ConsentRecord, Customer, PendingChange, utcnow
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification


@dataclass(frozen=True)
class ChangeEffect:
    """What a handler did: a JSON-able result, the account note, an optional summary message."""

    result: dict[str, Any]
    log_summary: str
    notification: tuple[str, str, str] | None = None  # (channel 'email'|'sms', subject, body)


ChangeHandler = Callable[[Session, int, dict[str, Any]], ChangeEffect]


@dataclass(frozen=True)
class ProposedChange:
    change_id: str
    summary: str
    amount: Decimal | None


@dataclass(frozen=True)
class ChangeOutcome:
    status: str  # 'applied' | 'already_applied' | 'not_found' | 'cancelled'
    result: dict[str, Any] | None


@dataclass(frozen=True)
class PendingChangeView:
    change_id: str
    kind: str
    summary: str
    amount: Decimal | None
    status: str
    result: dict[str, Any] | None


class UnknownChangeKind(LookupError):
    """No handler is registered for this kind of change."""


_HANDLERS: dict[str, ChangeHandler] = {}


def register_handler(kind: str) -> Callable[[ChangeHandler], ChangeHandler]:
    """Decorator: `handler(session, customer_id, params) -> ChangeEffect` applies `kind`."""

    def decorate(handler: ChangeHandler) -> ChangeHandler:
        existing = _HANDLERS.get(kind)
        if existing is not None and _qualified_name(existing) != _qualified_name(handler):
            owner = _qualified_name(existing)
            raise ValueError(f"change kind {kind!r} already has handler {owner}")
        _HANDLERS[kind] = handler
        return handler

    return decorate


def registered_kinds() -> frozenset[str]:
    return frozenset(_HANDLERS)


def propose_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    kind: str,
    params: dict[str, Any],
    summary: str,
    amount: Decimal | None = None,
) -> ProposedChange:
    """Store a change awaiting the customer's yes. An earlier unconfirmed proposal of the same
    kind in this conversation is superseded (cancelled), so a stale offer cannot be confirmed.
    """
    if kind not in _HANDLERS:
        raise UnknownChangeKind(f"no handler registered for change kind {kind!r}")
    session.execute(
        update(PendingChange)
        .where(
            PendingChange.conversation_id == conversation_id,
            PendingChange.customer_id == customer_id,
            PendingChange.kind == kind,
            PendingChange.status == "proposed",
        )
        .values(status="cancelled", cancelled_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    change = PendingChange(
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=kind,
        params=_json_ready(params),
        summary=summary,
        amount=amount,
        status="proposed",
    )
    session.add(change)
    session.flush()
    return ProposedChange(change_id=change.id, summary=change.summary, amount=amount)


def confirm_change(
    session: Session, *, conversation_id: str, change_id: str, consent_text: str
) -> ChangeOutcome:
    """Apply a proposed change once, after the customer's explicit yes (`consent_text`)."""
    if not consent_text or not consent_text.strip():
        raise ValueError("consent_text must say exactly what the customer agreed to")
    change = _locked_change(session, conversation_id, change_id)
    if change is None:
        return ChangeOutcome("not_found", None)
    if change.status == "applied":
        return ChangeOutcome("already_applied", change.result)
    if change.status == "cancelled":
        return ChangeOutcome("cancelled", None)

    handler = _HANDLERS.get(change.kind)
    if handler is None:
        raise UnknownChangeKind(f"no handler registered for change kind {change.kind!r}")
    now = utcnow()
    claimed = session.execute(
        update(PendingChange)
        .where(PendingChange.id == change.id, PendingChange.status == "proposed")
        .values(status="applied", applied_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # a concurrent confirmation got there first (no row locks)
        session.refresh(change)
        return ChangeOutcome("already_applied", change.result)

    session.add(
        ConsentRecord(
            customer_id=change.customer_id,
            conversation_id=conversation_id,
            pending_change_id=change.id,
            change_kind=change.kind,
            consent_text=consent_text,
            agreed_at=now,
        )
    )
    effect = handler(session, change.customer_id, dict(change.params or {}))
    result = _json_ready(effect.result)
    log_interaction(
        session,
        customer_id=change.customer_id,
        conversation_id=conversation_id,
        kind=change.kind,
        summary=effect.log_summary,
        outcome="applied",
    )
    if effect.notification is not None:
        channel, subject, body = effect.notification
        customer = session.get(Customer, change.customer_id)
        queue_notification(
            session,
            customer_id=change.customer_id,
            channel=channel,
            to_address=customer.phone if channel == "sms" else customer.email,
            subject=subject,
            body=body,
        )
    change.status = "applied"
    change.applied_at = now
    change.result = result
    session.flush()
    return ChangeOutcome("applied", result)


def cancel_change(session: Session, *, conversation_id: str, change_id: str) -> ChangeOutcome:
    """The customer said no (or stopped): the proposal can no longer be confirmed."""
    change = _locked_change(session, conversation_id, change_id)
    if change is None:
        return ChangeOutcome("not_found", None)
    if change.status == "applied":
        return ChangeOutcome("already_applied", change.result)
    if change.status == "proposed":
        change.status = "cancelled"
        change.cancelled_at = utcnow()
        log_interaction(
            session,
            customer_id=change.customer_id,
            conversation_id=conversation_id,
            kind=change.kind,
            summary=f"Customer declined: {change.summary}",
            outcome="cancelled",
        )
        session.flush()
    return ChangeOutcome("cancelled", None)


def get_change(
    session: Session, *, conversation_id: str, change_id: str
) -> PendingChangeView | None:
    """A change of this conversation, for re-showing its summary; None if not ours."""
    change = session.get(PendingChange, change_id)
    if change is None or change.conversation_id != conversation_id:
        return None
    return PendingChangeView(
        change_id=change.id,
        kind=change.kind,
        summary=change.summary,
        amount=change.amount,
        status=change.status,
        result=change.result,
    )


def _locked_change(session: Session, conversation_id: str, change_id: str) -> PendingChange | None:
    """The change row, locked for this transaction; another conversation's change is 'absent'."""
    if not change_id:
        return None
    change = session.execute(
        select(PendingChange).where(PendingChange.id == change_id).with_for_update()
    ).scalar_one_or_none()
    if change is None or change.conversation_id != conversation_id:
        return None
    return change


def _qualified_name(handler: ChangeHandler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json_ready(value: dict[str, Any]) -> dict[str, Any]:
    """Decimals and dates become strings, as they will be after a JSON round trip anyway."""
    return json.loads(json.dumps(value, default=_json_default))
