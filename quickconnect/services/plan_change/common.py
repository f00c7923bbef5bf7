"""The change kind, errors, results, formatting and plan lookups the plan-change steps share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db.models import AccountPlan, Customer, ServicePlan

CHANGE_KIND = "plan_change"
NEEDS: tuple[str, ...] = ("more_data", "faster", "cheaper", "family_lines")
MAX_DAYS_AHEAD = 90
CHANGE_FEE = Decimal("0.00")  # QuickConnect charges no fee for plan changes (guide FAQ)
CENTS = Decimal("0.01")


# --- errors -----------------------------------------------------------------------------------


class PlanChangeError(ValueError):
    """A plan change that cannot be quoted or applied; the message can be shown as is."""


class UnknownPlan(PlanChangeError):
    """No plan with that code."""


class PlanNotOffered(PlanChangeError):
    """A legacy plan: it exists on old accounts but can no longer be chosen."""


class SameAsCurrentPlan(PlanChangeError):
    """The customer is already on that plan."""


class InvalidEffectiveDate(PlanChangeError):
    """Effective date in the past or too far ahead."""


class PlanChangeQuoteStale(PlanChangeError):
    """What the customer agreed to no longer matches the account (plan or amount changed since
    the quote, e.g. another change went through first): quote again and ask again."""


class PlanChangeNotVisible(RuntimeError):
    """After applying, the account did not show the change: raised so the transaction rolls
    back (a bug or a concurrent write, never the customer's doing)."""


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRef:
    """A plan resolved from loose wording."""

    code: str
    name: str
    monthly_price: Decimal
    offered: bool


@dataclass(frozen=True)
class PlanOption:
    """An offered plan as a candidate for this customer, compared with their current plan."""

    code: str
    name: str
    monthly_price: Decimal
    data_gb: int | None  # None = unlimited
    minutes: int | None  # None = unlimited
    speed_mbps: int
    lines: int
    features: tuple[str, ...]
    price_difference: Decimal  # per month vs the current plan; negative = cheaper
    comparison: str  # "+$25.00/month, unlimited data instead of 20 GB, 300 Mbps instead of 150"


@dataclass(frozen=True)
class PlanChangeQuote:
    """Everything the customer must see before saying yes; `summary` is the consent text."""

    customer_id: int
    current_plan_code: str
    current_plan_name: str
    current_price: Decimal
    new_plan_code: str
    new_plan_name: str
    new_price: Decimal
    quoted_on: date  # "today" the quote was made for
    effective_date: date
    immediate: bool  # effective today: applied on confirmation, not scheduled
    cycle_start: date  # billing cycle that contains effective_date
    cycle_end: date  # its last day (inclusive); the next cycle starts on next_bill_date
    cycle_days: int
    remaining_days: int  # from effective_date to cycle_end, both included
    prorated_amount: Decimal  # positive = charge, negative = credit
    change_fee: Decimal  # always 0.00
    next_bill_date: date  # first bill date after the change takes effect
    replaces_scheduled_plan_name: str | None  # an already booked change this one replaces
    replaces_scheduled_for: date | None
    summary: str

    def change_params(self) -> dict[str, Any]:
        """Params for the `plan_change` handler; the last two let it detect a stale quote."""
        return {
            "new_plan_code": self.new_plan_code,
            "effective_date": self.effective_date.isoformat(),
            "from_plan_code": self.current_plan_code,
            "prorated_amount": str(self.prorated_amount),
        }


@dataclass(frozen=True)
class RevertOption:
    """Whether the customer can go back to the plan they had before, and how."""

    available: bool
    previous_plan_code: str | None  # None: the customer never changed plans
    previous_plan_name: str | None
    previous_plan_ended_at: datetime | None
    explanation: str  # customer-facing, one or two sentences
    quote: PlanChangeQuote | None  # at current catalog pricing, when available
    alternatives: tuple[PlanOption, ...]  # closest offered plans when it is not available


# --- formatting -------------------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    """Money is rounded half-up to cents (never banker's rounding)."""
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def _usd(value: Decimal) -> str:
    return f"${_cents(abs(value)):,.2f}"


def _signed_usd(value: Decimal) -> str:
    return ("-" if value < 0 else "+") + _usd(value)


def _prorated_phrase(amount: Decimal) -> str:
    """'a prorated charge of $7.50' / 'a prorated credit of $7.50' / 'no prorated charge'."""
    if amount > 0:
        return f"a prorated charge of {_usd(amount)}"
    if amount < 0:
        return f"a prorated credit of {_usd(amount)}"
    return "no prorated charge"


def format_date(day: date) -> str:
    """'22 Nov 2026': unambiguous for customers everywhere."""
    return f"{day.day} {day:%b %Y}"


def _data(gb: int | None) -> str:
    return "unlimited data" if gb is None else f"{gb} GB"


def _minutes(minutes: int | None) -> str:
    return "unlimited minutes" if minutes is None else f"{minutes} minutes"


def _comparison(new: ServicePlan, current: ServicePlan) -> str:
    """Short 'what changes' text, price first, then only what differs."""
    difference = _cents(new.monthly_price - current.monthly_price)
    parts = ["same price" if difference == 0 else f"{_signed_usd(difference)}/month"]
    if new.data_gb != current.data_gb:
        new_data = _data(new.data_gb) if new.data_gb is None else f"{new.data_gb} GB data"
        if new.lines > 1 and new.data_gb is not None:
            new_data = f"{new.data_gb} GB shared data"
        old_data = "unlimited" if current.data_gb is None else f"{current.data_gb} GB"
        parts.append(f"{new_data} instead of {old_data}")
    if new.minutes != current.minutes:
        old_minutes = "unlimited" if current.minutes is None else str(current.minutes)
        parts.append(f"{_minutes(new.minutes)} instead of {old_minutes}")
    if new.speed_mbps != current.speed_mbps:
        parts.append(f"{new.speed_mbps} Mbps instead of {current.speed_mbps}")
    if new.lines != current.lines:
        parts.append(f"{new.lines} lines instead of {current.lines}")
    return ", ".join(parts)


def _plan_details(plan: ServicePlan) -> str:
    features = ", ".join(plan.features or ())
    lines = f", {plan.lines} lines" if plan.lines > 1 else ""
    if plan.data_gb is None:
        data = "unlimited data"
    else:
        data = f"{plan.data_gb} GB {'shared ' if plan.lines > 1 else ''}data"
    return (
        f"{plan.name}: {_usd(plan.monthly_price)}/month, {data}, "
        f"{_minutes(plan.minutes)}, up to {plan.speed_mbps} Mbps{lines}"
        + (f" ({features})" if features else "")
    )


# --- lookups ----------------------------------------------------------------------------------


def _plan_by_code(session: Session, code: str) -> ServicePlan | None:
    query = select(ServicePlan).where(func.upper(ServicePlan.code) == code.strip().upper())
    return session.execute(query).scalar_one_or_none()


def _active_plan(session: Session, customer_id: int) -> tuple[AccountPlan, ServicePlan]:
    row = session.execute(
        select(AccountPlan, ServicePlan)
        .join(ServicePlan, ServicePlan.id == AccountPlan.plan_id)
        .where(AccountPlan.customer_id == customer_id, AccountPlan.status == "active")
    ).first()
    if row is None:
        raise PlanChangeError("This account has no active plan to change.")
    return row[0], row[1]


def _scheduled_plans(session: Session, customer_id: int) -> list[tuple[AccountPlan, ServicePlan]]:
    rows = session.execute(
        select(AccountPlan, ServicePlan)
        .join(ServicePlan, ServicePlan.id == AccountPlan.plan_id)
        .where(AccountPlan.customer_id == customer_id, AccountPlan.status == "scheduled")
        .order_by(AccountPlan.scheduled_for, AccountPlan.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _customer(session: Session, customer_id: int, *, lock: bool = False) -> Customer:
    query = select(Customer).where(Customer.id == customer_id)
    if lock:  # serialises plan changes of one account (SQLite: BEGIN IMMEDIATE already does)
        query = query.with_for_update()
    customer = session.execute(query).scalar_one_or_none()
    if customer is None:
        raise PlanChangeError(f"customer {customer_id} does not exist")
    return customer


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
