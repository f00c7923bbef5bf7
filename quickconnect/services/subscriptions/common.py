"""Change kinds, errors, views, quotes and formatting shared by the subscription procedures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ADD_KIND = "subscription_add"
MODIFY_KIND = "subscription_modify"
CANCEL_KIND = "subscription_cancel"
LOG_KIND = "subscriptions"
LIVE_STATUSES: tuple[str, ...] = ("pending_activation", "active")
CENTS = Decimal("0.01")
ZERO = Decimal("0.00")


# --- errors -----------------------------------------------------------------------------------


class SubscriptionError(ValueError):
    """A subscription change that cannot be quoted or applied; the message can be shown as is."""


class UnknownService(SubscriptionError):
    """No add-on service by that name or code."""


class UnknownTier(SubscriptionError):
    """The service has no such tier."""


class AlreadySubscribed(SubscriptionError):
    """The customer already has this service (pending or active): no duplicates."""


class NotSubscribed(SubscriptionError):
    """The customer does not have this service (or it was already cancelled)."""


class NothingToModify(SubscriptionError):
    """Same tier as now, or a service with a single tier."""


class SubscriptionQuoteStale(SubscriptionError):
    """The account or the money changed since the quote: quote again and ask again."""


# --- views and quotes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TierView:
    code: str
    name: str
    monthly_price: Decimal


@dataclass(frozen=True)
class ServiceView:
    """A catalog add-on with its fees, terms and tiers (cheapest first)."""

    code: str
    name: str
    category: str
    description: str
    activation_hours: int
    modification_fee: Decimal
    cancellation_fee: Decimal
    cancellation_fee_months: int | None
    terms: str
    tiers: tuple[TierView, ...]

    @property
    def from_price(self) -> Decimal:
        return min(tier.monthly_price for tier in self.tiers)


@dataclass(frozen=True)
class SubscriptionView:
    """One of the customer's live add-ons."""

    subscription_id: int
    service_code: str
    service_name: str
    tier_code: str
    tier_name: str
    monthly_price: Decimal
    status: str  # pending_activation | active
    activates_at: datetime | None
    activated_at: datetime | None


@dataclass(frozen=True)
class SubscriptionOverview:
    current: tuple[SubscriptionView, ...]
    available: tuple[ServiceView, ...]  # services the customer can still add


@dataclass(frozen=True)
class AddQuote:
    customer_id: int
    service: ServiceView
    tier: TierView
    expected_activation: datetime
    next_bill_date: date
    summary: str

    def change_params(self) -> dict[str, Any]:
        return {
            "service_code": self.service.code,
            "tier_code": self.tier.code,
            "monthly_price": str(self.tier.monthly_price),
        }


@dataclass(frozen=True)
class ModifyQuote:
    customer_id: int
    subscription_id: int
    service_name: str
    from_tier: TierView
    to_tier: TierView
    pending: bool  # not live yet: no fee, no proration
    modification_fee: Decimal
    remaining_days: int
    cycle_days: int
    prorated_amount: Decimal  # positive = charge, negative = credit
    next_bill_date: date
    bill_impact: Decimal  # on the next bill: prorated amount + fee
    summary: str

    def change_params(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "from_tier_code": self.from_tier.code,
            "to_tier_code": self.to_tier.code,
            "modification_fee": str(self.modification_fee),
            "prorated_amount": str(self.prorated_amount),
        }


@dataclass(frozen=True)
class CancelQuote:
    customer_id: int
    subscription_id: int
    service_name: str
    tier_name: str
    monthly_price: Decimal
    pending: bool
    cancellation_fee: Decimal
    fee_reason: str
    refund: Decimal  # credit for prepaid days left
    usage_charge: Decimal  # days used this cycle, not billed yet
    net_adjustment: Decimal  # fee + usage charge - refund: positive = to pay, negative = credit
    next_bill_date: date
    what_next: str
    summary: str

    def change_params(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "cancellation_fee": str(self.cancellation_fee),
            "refund": str(self.refund),
            "usage_charge": str(self.usage_charge),
        }


# --- formatting -------------------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)


def usd(value: Decimal) -> str:
    return f"${_cents(abs(Decimal(value))):,.2f}"


def format_date(day: date) -> str:
    """'22 Nov 2026'."""
    return f"{day.day} {day:%b %Y}"


def format_time(moment: datetime) -> str:
    """'25 Nov 2026, 14:05 UTC'."""
    moment = moment.astimezone(UTC)
    return f"{format_date(moment.date())}, {moment:%H:%M} UTC"


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def _fee_terms(service: ServiceView) -> str:
    parts = []
    if service.modification_fee > 0:
        parts.append(f"changing the tier later costs {usd(service.modification_fee)}")
    else:
        parts.append("no fee to change the tier later")
    if service.cancellation_fee <= 0:
        parts.append("no cancellation fee")
    elif service.cancellation_fee_months:
        parts.append(
            f"a {usd(service.cancellation_fee)} cancellation fee in the first "
            f"{service.cancellation_fee_months} months"
        )
    else:
        parts.append(f"a {usd(service.cancellation_fee)} cancellation fee")
    return "; ".join(parts)
