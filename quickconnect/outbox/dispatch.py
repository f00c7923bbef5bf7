"""Deliver the notifications outbox: claim due rows, send them, mark them sent or retry.

Every flow queues its email or SMS in `notifications_outbox` in the same transaction as the
change it describes; this module is what sends them. A row is claimed before it is sent
(one short transaction: `FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's single writer
elsewhere), so two dispatchers never take the same row; the claim is a lease, so a row held
by a dispatcher that died is taken again once the lease runs out. The send happens outside
any transaction, then a second short transaction marks the row `sent`, or moves its `due_at`
on with exponential backoff, or ends it `failed` with the error after `max_attempts`.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from quickconnect.db.models import NotificationOutbox, utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.outbox.transports import DeliveryError, Message, Transport

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # longer than any send's timeouts
MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(seconds=30)  # 30 s, 1 min, 2 min, 4 min, 8 min between tries
RETRY_CAP = timedelta(hours=1)


def worker_name() -> str:
    """Who holds a claim: host and process, so a log line names the dispatcher."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def retry_delay(attempts: int, base: timedelta = RETRY_BASE) -> timedelta:
    """Backoff after the `attempts`-th failed try."""
    return min(base * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def claim_due(
    session: Session,
    *,
    worker: str,
    limit: int = 20,
    lease: timedelta = LEASE,
    now: datetime | None = None,
) -> list[Message]:
    """Claim up to `limit` queued rows whose time has come and nobody else holds."""
    now = now or utcnow()
    query = (
        select(NotificationOutbox)
        .where(
            NotificationOutbox.status == "queued",
            NotificationOutbox.due_at <= now,
            or_(
                NotificationOutbox.claimed_until.is_(None),
                NotificationOutbox.claimed_until < now,
            ),
        )
        .order_by(NotificationOutbox.due_at, NotificationOutbox.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[Message] = []
    for row in session.execute(query).scalars():
        row.claimed_by = worker
        row.claimed_until = now + lease
        row.attempts = (row.attempts or 0) + 1
        claimed.append(Message(row.id, row.channel, row.to_address, row.subject, row.body))
    session.flush()
    return claimed


def mark_sent(session: Session, message_id: int, *, worker: str) -> bool:
    """Record the delivery; False when the claim was no longer this worker's."""
    result = session.execute(
        update(NotificationOutbox)
        .where(
            NotificationOutbox.id == message_id,
            NotificationOutbox.claimed_by == worker,
            NotificationOutbox.status == "queued",
        )
        .values(status="sent", sent_at=utcnow(), claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def mark_failed(
    session: Session,
    message_id: int,
    error: str,
    *,
    worker: str,
    max_attempts: int = MAX_ATTEMPTS,
    retry_base: timedelta = RETRY_BASE,
) -> str:
    """After a failed try: 'retry' (due again after the backoff) or 'failed' (given up)."""
    row = session.execute(
        select(NotificationOutbox)
        .where(NotificationOutbox.id == message_id, NotificationOutbox.claimed_by == worker)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.status != "queued":
        return "lost"  # another dispatcher took it over after our lease ran out
    row.last_error = error[:2000]
    row.claimed_until = None
    if row.attempts >= max_attempts:
        row.status = "failed"
        return "failed"
    row.due_at = utcnow() + retry_delay(row.attempts, retry_base)
    return "retry"


@dataclass
class Dispatcher:
    """Sends what is due through one transport per channel."""

    transports: Mapping[str, Transport]
    engine: Engine | None = None
    worker: str = field(default_factory=worker_name)
    batch: int = 20
    max_attempts: int = MAX_ATTEMPTS
    retry_base: timedelta = RETRY_BASE
    lease: timedelta = LEASE

    def run_once(self) -> dict[str, int]:
        """One pass: claim a batch, send each, record each outcome. Counts by outcome."""
        counts = {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
        with unit_of_work(self.engine) as session:
            claimed = claim_due(session, worker=self.worker, limit=self.batch, lease=self.lease)
        for message in claimed:
            outcome = self._deliver(message)
            counts[outcome] += 1
        return counts

    def _deliver(self, message: Message) -> str:
        try:
            self.transports[message.channel].send(message)
        except (DeliveryError, KeyError) as error:
            reason = f"{error.__class__.__name__}: {error}"
            with unit_of_work(self.engine) as session:
                outcome = mark_failed(
                    session,
                    message.id,
                    reason,
                    worker=self.worker,
                    max_attempts=self.max_attempts,
                    retry_base=self.retry_base,
                )
            log = logger.error if outcome == "failed" else logger.warning
            log("Outbox %s (%s): %s (%s)", message.id, message.channel, reason, outcome)
            return outcome
        with unit_of_work(self.engine) as session:
            ours = mark_sent(session, message.id, worker=self.worker)
        if not ours:
            logger.warning("Outbox %s was sent after its claim ran out", message.id)
        return "sent" if ours else "lost"

    def drain(self, max_passes: int = 100) -> dict[str, int]:
        """Passes until nothing due is left (bounded), for `--once` and tests."""
        total = {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
        for _ in range(max_passes):
            counts = self.run_once()
            for key, value in counts.items():
                total[key] += value
            if not any(counts.values()):
                break
        return total
