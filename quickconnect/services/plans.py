"""The customer's current plan and usage (plan-change guide: "Confirm the current service plan
and usage details" before discussing a change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.db.models import AccountPlan, Customer, ServicePlan, UsageRecord, utcnow


class NoActivePlan(LookupError):
    """The customer has no active plan (should not happen for a live account)."""


@dataclass(frozen=True)
class CurrentPlanView:
    plan_code: str
    plan_name: str
    monthly_price: Decimal
    data_gb: int | None  # None = unlimited
    minutes: int | None  # None = unlimited
    speed_mbps: int
    features: tuple[str, ...]
    since: datetime
    data_used_gb: Decimal
    minutes_used: int
    avg_speed_mbps: Decimal | None  # None when no usage has been recorded yet
    usage_period_start: date | None  # the billing period the usage figures belong to
    billing_cycle_day: int
    period_start: date
    next_bill_date: date
    scheduled_plan_name: str | None = None  # a plan change booked for a future date
    scheduled_for: datetime | None = None


def current_plan(
    session: Session, customer_id: int, *, today: date | None = None
) -> CurrentPlanView:
    """Active plan, this period's usage (or the latest recorded) and the next bill date."""
    today = today or utcnow().date()
    customer = session.get(Customer, customer_id)
    row = session.execute(
        select(AccountPlan, ServicePlan)
        .join(ServicePlan, ServicePlan.id == AccountPlan.plan_id)
        .where(AccountPlan.customer_id == customer_id, AccountPlan.status == "active")
    ).first()
    if customer is None or row is None:
        raise NoActivePlan(f"customer {customer_id} has no active plan")
    account_plan, plan = row
    usage = session.execute(
        select(UsageRecord)
        .where(UsageRecord.customer_id == customer_id, UsageRecord.period_start <= today)
        .order_by(UsageRecord.period_start.desc())
        .limit(1)
    ).scalar_one_or_none()
    scheduled = session.execute(
        select(AccountPlan, ServicePlan)
        .join(ServicePlan, ServicePlan.id == AccountPlan.plan_id)
        .where(AccountPlan.customer_id == customer_id, AccountPlan.status == "scheduled")
        .order_by(AccountPlan.scheduled_for)
        .limit(1)
    ).first()
    return CurrentPlanView(
        plan_code=plan.code,
        plan_name=plan.name,
        monthly_price=plan.monthly_price,
        data_gb=plan.data_gb,
        minutes=plan.minutes,
        speed_mbps=plan.speed_mbps,
        features=tuple(plan.features or ()),
        since=account_plan.started_at or account_plan.created_at,
        data_used_gb=usage.data_used_gb if usage else Decimal("0.00"),
        minutes_used=usage.minutes_used if usage else 0,
        avg_speed_mbps=usage.avg_speed_mbps if usage else None,
        usage_period_start=usage.period_start if usage else None,
        billing_cycle_day=customer.billing_cycle_day,
        period_start=cycle_start(today, customer.billing_cycle_day),
        next_bill_date=next_cycle_start(today, customer.billing_cycle_day),
        scheduled_plan_name=scheduled[1].name if scheduled else None,
        scheduled_for=scheduled[0].scheduled_for if scheduled else None,
    )


@dataclass(frozen=True)
class AccountDetails:
    """Who the account belongs to, as the plan-change guide asks the agent to confirm."""

    account_number: str
    full_name: str
    address: str


def account_details(session: Session, customer_id: int) -> AccountDetails:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"no customer with id {customer_id}")
    return AccountDetails(
        account_number=customer.account_number,
        full_name=f"{customer.first_name} {customer.last_name}",
        address=customer.address,
    )
