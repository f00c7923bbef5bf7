"""The customer's subscriptions and the billing-cycle arithmetic the procedures share."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.db.models import AddonService, AddonTier, Customer, Subscription
from quickconnect.services.subscriptions.catalog import _service_view, service_catalog
from quickconnect.services.subscriptions.common import (
    LIVE_STATUSES,
    NotSubscribed,
    ServiceView,
    SubscriptionError,
    SubscriptionOverview,
    SubscriptionView,
    TierView,
    UnknownTier,
    _cents,
    usd,
)

# --- the customer's subscriptions ---------------------------------------------------------------


def _customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    if lock:  # serialises subscription changes of one account
        query = query.with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is None:
        raise SubscriptionError(f"customer {customer_id} does not exist")
    return customer


def _view(sub: Subscription, service: AddonService, tier: AddonTier) -> SubscriptionView:
    return SubscriptionView(
        subscription_id=int(sub.id),
        service_code=service.code,
        service_name=service.name,
        tier_code=tier.code,
        tier_name=tier.name,
        monthly_price=_cents(sub.monthly_price),
        status=sub.status,
        activates_at=sub.activates_at,
        activated_at=sub.activated_at,
    )


def current_subscriptions(session: Session, customer_id: int) -> list[SubscriptionView]:
    """The customer's live add-ons (pending activation or active), oldest first."""
    rows = session.execute(
        select(Subscription, AddonService, AddonTier)
        .join(AddonService, AddonService.id == Subscription.addon_id)
        .join(AddonTier, AddonTier.id == Subscription.tier_id)
        .where(Subscription.customer_id == customer_id, Subscription.status.in_(LIVE_STATUSES))
        .order_by(Subscription.created_at, Subscription.id)
    ).all()
    return [_view(sub, service, tier) for sub, service, tier in rows]


def overview(session: Session, customer_id: int) -> SubscriptionOverview:
    """What the customer has, and what they can still add."""
    current = current_subscriptions(session, customer_id)
    have = {sub.service_code for sub in current}
    available = [s for s in service_catalog(session) if s.code not in have]
    return SubscriptionOverview(tuple(current), tuple(available))


def _live_subscription(
    session: Session, customer_id: int, service_code: str, *, lock: bool = False
) -> Subscription | None:
    query = (
        select(Subscription)
        .join(AddonService, AddonService.id == Subscription.addon_id)
        .where(
            Subscription.customer_id == customer_id,
            AddonService.code == service_code,
            Subscription.status.in_(LIVE_STATUSES),
        )
    )
    if lock:
        query = query.with_for_update(of=Subscription)
    return session.execute(query).scalar_one_or_none()


def _require_live(session: Session, customer_id: int, service: ServiceView) -> Subscription:
    sub = _live_subscription(session, customer_id, service.code)
    if sub is None:
        names = [s.service_name for s in current_subscriptions(session, customer_id)]
        have = f"Your add-ons are: {', '.join(names)}." if names else "You have no add-ons."
        raise NotSubscribed(f"You don't have {service.name} on your account. {have}")
    return sub


def _tier(service: ServiceView, code: str) -> TierView:
    tier = next((t for t in service.tiers if t.code == code), None)
    if tier is None:
        raise UnknownTier(f"{service.name} has no tier {code!r}.")
    return tier


def _cycle(customer: Customer, today: date) -> tuple[date, date, int, int]:
    """(cycle start, next bill date, days in the cycle, days left including today)."""
    start = cycle_start(today, customer.billing_cycle_day)
    nxt = next_cycle_start(today, customer.billing_cycle_day)
    return start, nxt, (nxt - start).days, (nxt - today).days


def _months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _signed(amount: Decimal) -> str:
    return ("-" if amount < 0 else "+") + usd(amount)


def _tier_code(session: Session, sub: Subscription) -> str:
    return str(session.execute(select(AddonTier.code).where(AddonTier.id == sub.tier_id)).scalar())


def _locked_subscription(session: Session, customer_id: int, subscription_id: int) -> Subscription:
    sub = session.execute(
        select(Subscription)
        .where(Subscription.id == subscription_id, Subscription.customer_id == customer_id)
        .with_for_update()
    ).scalar_one_or_none()
    if sub is None:
        raise NotSubscribed("That subscription isn't on your account.")
    return sub


def _service_of(session: Session, sub: Subscription) -> ServiceView:
    return _service_view(session.get(AddonService, sub.addon_id))
