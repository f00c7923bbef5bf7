"""The scheduled job that makes add-ons live when they are due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import Customer, Subscription, utcnow
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification
from quickconnect.services.subscriptions.common import LOG_KIND, format_date, usd
from quickconnect.services.subscriptions.lookups import _service_of, _tier_code

# --- activation (scheduled job) -----------------------------------------------------------------


def activate_due_subscriptions(session: Session, now: datetime | None = None) -> list[str]:
    """Make every pending subscription whose activation time has come live; returns
    "QC-100008 StreamMax" labels. Each activation is logged and the customer is told it is
    live (their preferred channel). Running it again does nothing more."""
    real_now = utcnow()
    now = now or real_now
    due = (
        session.execute(
            select(Subscription)
            .where(Subscription.status == "pending_activation", Subscription.activates_at <= now)
            .order_by(Subscription.activates_at, Subscription.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    activated: list[str] = []
    for sub in due:
        customer = session.get(Customer, sub.customer_id)
        service = _service_of(session, sub)
        tier_name = next(t.name for t in service.tiers if t.code == _tier_code(session, sub))
        sub.status = "active"
        sub.activated_at = max(sub.activates_at, min(now, real_now))
        session.flush()
        log_interaction(
            session,
            customer_id=customer.id,
            conversation_id=None,
            kind=LOG_KIND,
            summary=f"{service.name} {tier_name} activated; billed "
            f"{usd(sub.monthly_price)}/month from {format_date(sub.activated_at.date())}",
            outcome="activated",
        )
        channel = customer.preferred_contact if customer.preferred_contact == "sms" else "email"
        queue_notification(
            session,
            customer_id=customer.id,
            channel=channel,
            to_address=customer.phone if channel == "sms" else customer.email,
            subject=f"Your {service.name} is live",
            body=(
                f"Hi {customer.first_name}, good news: your {service.name} {tier_name} is now "
                f"live and ready to use. It's {usd(sub.monthly_price)}/month from today. "
                "Thank you for choosing QuickConnect."
            ),
        )
        activated.append(f"{customer.account_number} {service.name}")
    return activated
