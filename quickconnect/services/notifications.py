"""The notifications outbox: emails and SMS are queued in the same transaction as the change
they describe, so a summary is sent exactly when the change really happened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from quickconnect.db.models import CONTACT_CHANNELS, NotificationOutbox, utcnow


def queue_notification(
    session: Session,
    *,
    customer_id: int | None,
    channel: str,
    to_address: str,
    subject: str,
    body: str,
    due_at: datetime | None = None,
) -> int:
    """Queue an email or SMS (sent by the outbox dispatcher); returns the outbox row id."""
    if channel not in CONTACT_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CONTACT_CHANNELS}")
    if not to_address:
        raise ValueError("a notification needs an address")
    message = NotificationOutbox(
        customer_id=customer_id,
        channel=channel,
        to_address=to_address,
        subject=subject,
        body=body,
        status="queued",
        due_at=due_at or utcnow(),
    )
    session.add(message)
    session.flush()
    return int(message.id)
