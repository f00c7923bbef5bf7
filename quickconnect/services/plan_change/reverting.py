"""Answering "can I go back to my old plan?"."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import AccountPlan, ServicePlan
from quickconnect.services.plan_change.common import RevertOption, _active_plan, _usd
from quickconnect.services.plan_change.options import _offered_plans, _option
from quickconnect.services.plan_change.quoting import quote_plan_change

# --- reverting ----------------------------------------------------------------------------------


def _closest(plans: Iterable[ServicePlan], target: ServicePlan, limit: int) -> list[ServicePlan]:
    """Offered plans most like `target`: nearest price, then nearest data allowance. Only
    plans about as near as the nearest one count, so a $70 plan is never "close" to $15."""

    def distance(plan: ServicePlan) -> tuple[Decimal, int]:
        data = 10_000 if plan.data_gb is None else plan.data_gb
        target_data = 10_000 if target.data_gb is None else target.data_gb
        return abs(plan.monthly_price - target.monthly_price), abs(data - target_data)

    ranked = sorted(plans, key=distance)
    if not ranked:
        return []
    reach = max(distance(ranked[0])[0] * 2, Decimal("10.00"))
    return [plan for plan in ranked if distance(plan)[0] <= reach][:limit]


def _name_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def previous_plan(session: Session, customer_id: int, *, today: date | None = None) -> RevertOption:
    """The plan the customer had before the current one, and whether they can go back to it.

    A revert is an ordinary plan change back (quoted at today's catalog price, confirmed like
    any change). A legacy plan that is no longer offered cannot be chosen: the option then
    explains why and suggests the closest offered plans.
    """
    _, current = _active_plan(session, customer_id)
    row = session.execute(
        select(AccountPlan, ServicePlan)
        .join(ServicePlan, ServicePlan.id == AccountPlan.plan_id)
        .where(
            AccountPlan.customer_id == customer_id,
            AccountPlan.status == "ended",
            AccountPlan.started_at.is_not(None),  # never-started bookings are not history
        )
        .order_by(AccountPlan.ended_at.desc(), AccountPlan.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return RevertOption(
            available=False,
            previous_plan_code=None,
            previous_plan_name=None,
            previous_plan_ended_at=None,
            explanation=(
                f"You've been on {current.name} since you joined us, so there's no earlier "
                "plan to go back to."
            ),
            quote=None,
            alternatives=(),
        )
    ended, previous = row
    if previous.id == current.id:
        return RevertOption(
            available=False,
            previous_plan_code=previous.code,
            previous_plan_name=previous.name,
            previous_plan_ended_at=ended.ended_at,
            explanation=f"You're already on {previous.name}.",
            quote=None,
            alternatives=(),
        )
    if not previous.offered:
        others = [plan for plan in _offered_plans(session) if plan.id != current.id]
        alternatives = tuple(_option(plan, current) for plan in _closest(others, previous, 2))
        described = [
            f"{option.name} ({_usd(option.monthly_price)}/month)" for option in alternatives
        ]
        explanation = f"{previous.name} is no longer offered, so we can't switch you back to it"
        if len(described) > 1:
            explanation += f"; the closest current plans are {_name_list(described)}."
        elif described:
            explanation += f"; the closest current plan is {described[0]}."
        else:
            explanation += "."
        return RevertOption(
            available=False,
            previous_plan_code=previous.code,
            previous_plan_name=previous.name,
            previous_plan_ended_at=ended.ended_at,
            explanation=explanation,
            quote=None,
            alternatives=alternatives,
        )
    quote = quote_plan_change(session, customer_id, previous.code, today=today)
    return RevertOption(
        available=True,
        previous_plan_code=previous.code,
        previous_plan_name=previous.name,
        previous_plan_ended_at=ended.ended_at,
        explanation=(
            f"You can switch back to {previous.name} at today's price of "
            f"{_usd(previous.monthly_price)}/month (prices and promotions may differ from "
            f"when you had it). {quote.summary}"
        ),
        quote=quote,
        alternatives=(),
    )
