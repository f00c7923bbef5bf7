"""Discussing options: the customer's need, a plan named in what they typed, the plans that fit."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import ServicePlan
from quickconnect.nlp.patterns import catalog_code_for, catalog_phrases
from quickconnect.services.plan_change.common import (
    NEEDS,
    PlanOption,
    PlanRef,
    _active_plan,
    _cents,
    _comparison,
)

# --- discussing options -------------------------------------------------------------------------

_NEED_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "family_lines",
        re.compile(
            r"\b(famil(y|ies)|famly|kids?|children|child|son|daughters?|sons|wife|husband|"
            r"partner|household|whole house|(more|extra|additional|second|another|new|\d+|"
            r"two|three|four) lines?|add(ing)? (a |some |more |extra )?lines?|lines for|"
            r"multiple lines|shared? (plan|data))\b"
        ),
    ),
    (
        "cheaper",
        re.compile(
            r"\b(cheap(er|est)?|cheeper|cheapr|save|saving|savings|less expensive|"
            r"(lower|smaller|reduce|cut|bring down)( my| the)? (bill|price|cost|costs|payment)|"
            r"cost(s)? less|pay less|spend less|budget|afford|too expensive|too much money|"
            r"downgrade|discount|inexpensive|lower price|not pay so much)\b"
        ),
    ),
    (
        "faster",
        re.compile(
            r"\b(fast(er|est)?|fastr|quick(er)?|speeds?|speedier|slow(er)?|lag(gy|s)?|"
            r"buffer(ing)?|mbps|5g|better (signal|connection)|better internet)\b"
        ),
    ),
    (
        "more_data",
        re.compile(
            r"\b(more data|data|gigs?|gb|run(ning)? out|ran out|bigger allowance|"
            r"more allowance|unlimited|hotspot|tether(ing)?|stream(ing)?|more gigabytes)\b"
        ),
    ),
    # weakest last: "price is what matters" is about cost, "speed over price" is not
    ("cheaper", re.compile(r"\b(price|prices|cost|costs|money|bill|monthly fee)\b")),
)


def parse_need(text: str | None) -> str | None:
    """Map a customer's loose wording ("something cheaper", "lines for my kids") to a need
    key for `recommend_plans`, or None when no need is recognisable. Families and price are
    checked first: "more data for my kids" is a family need, "less data but cheaper" a
    price one."""
    if not text:
        return None
    lowered = " ".join(text.lower().replace("-", " ").split())
    if lowered in NEEDS:
        return lowered
    for need, pattern in _NEED_PATTERNS:
        if pattern.search(lowered):
            return need
    return None


_FILLER_PREFIX = re.compile(r"^(the|a|an|my|your|that|this|on|to)\s+")
_FILLER_SUFFIX = re.compile(r"\s+(plan|one|package|tariff|option|deal|please|pls)$")


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2013", "-").replace("+", " plus ")
    text = re.sub(r"[^\w\s-]", " ", text)
    return " ".join(text.split())


def _candidate_phrases(text: str) -> list[str]:
    """The text as typed, then with filler words ("the", "plan", "one") peeled off."""
    phrase = _normalise(text)
    candidates = [phrase]
    while True:
        shorter = _FILLER_SUFFIX.sub("", _FILLER_PREFIX.sub("", phrase))
        if shorter == phrase or not shorter:
            break
        candidates.append(shorter)
        phrase = shorter
    return candidates


def find_plan(session: Session, name_or_code: str | None) -> PlanRef | None:
    """Resolve a plan typed loosely ("the unlimited one", "family plan", "UNLPLUS",
    "everyday 20gb") to a mobile plan, offered or legacy; None if it names no plan."""
    if not name_or_code or not name_or_code.strip():
        return None
    plans = session.execute(select(ServicePlan)).scalars().all()
    by_code = {plan.code.upper(): plan for plan in plans}
    by_name = {_normalise(plan.name): plan for plan in plans}
    by_squashed_name = {name.replace(" ", ""): plan for name, plan in by_name.items()}
    for phrase in _candidate_phrases(name_or_code):
        code = catalog_code_for("plan_name", phrase)
        plan = (
            by_code.get(phrase.upper().replace(" ", ""))
            or (by_code.get(code) if code else None)
            or by_name.get(phrase)
            or by_squashed_name.get(phrase.replace(" ", ""))
        )
        if plan is not None:
            return _plan_ref(plan)
    return _plan_named_inside(_normalise(name_or_code), by_code)


def _plan_ref(plan: ServicePlan) -> PlanRef:
    return PlanRef(plan.code, plan.name, plan.monthly_price, bool(plan.offered))


def _plan_named_inside(text: str, by_code: dict[str, ServicePlan]) -> PlanRef | None:
    """A plan name or alias inside a longer phrase ("i'd like the family share thing"), only
    when every name found points at the same plan."""
    found = {
        code
        for phrase, code in catalog_phrases()["plan_name"].items()
        if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)
    }
    code = found.pop() if len(found) == 1 else None
    return _plan_ref(by_code[code]) if code in by_code else None


def _fits(need: str | None, plan: ServicePlan, current: ServicePlan) -> bool:
    if need == "more_data":
        return current.data_gb is not None and (
            plan.data_gb is None or plan.data_gb > current.data_gb
        )
    if need == "faster":
        return plan.speed_mbps > current.speed_mbps
    if need == "cheaper":
        return plan.monthly_price < current.monthly_price
    if need == "family_lines":
        return plan.lines > current.lines
    return True


def _fit_order(need: str | None, plan: ServicePlan) -> tuple[Any, ...]:
    """Best fit first for the need; price breaks ties (cheapest first)."""
    price = plan.monthly_price
    if need == "more_data":
        return (0 if plan.data_gb is None else 1, -(plan.data_gb or 0), price)
    if need == "faster":
        return (-plan.speed_mbps, price)
    if need == "family_lines":
        return (-plan.lines, price)
    return (price, plan.code)  # cheaper, or no need: cheapest first


def _option(plan: ServicePlan, current: ServicePlan) -> PlanOption:
    return PlanOption(
        code=plan.code,
        name=plan.name,
        monthly_price=plan.monthly_price,
        data_gb=plan.data_gb,
        minutes=plan.minutes,
        speed_mbps=plan.speed_mbps,
        lines=plan.lines,
        features=tuple(plan.features or ()),
        price_difference=_cents(plan.monthly_price - current.monthly_price),
        comparison=_comparison(plan, current),
    )


def _offered_plans(session: Session) -> list[ServicePlan]:
    query = select(ServicePlan).where(ServicePlan.offered.is_(True)).order_by(ServicePlan.id)
    return list(session.execute(query).scalars())


def recommend_plans(session: Session, customer_id: int, need: str | None) -> list[PlanOption]:
    """Offered plans (never the current one) that meet `need`, best fit first.

    Needs: more_data (most data first), faster (fastest first), cheaper (cheapest first),
    family_lines (most lines first); None = every other offered plan, cheapest first. An
    empty list means no offered plan does better on that need than the current plan (say so,
    then offer `recommend_plans(..., None)`).
    """
    if need is not None and need not in NEEDS:
        raise ValueError(f"unknown need {need!r}; expected one of {NEEDS} or None")
    _, current = _active_plan(session, customer_id)
    candidates = [
        plan
        for plan in _offered_plans(session)
        if plan.code != current.code and _fits(need, plan, current)
    ]
    candidates.sort(key=lambda plan: _fit_order(need, plan))
    return [_option(plan, current) for plan in candidates]
