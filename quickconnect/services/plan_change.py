"""Changing a customer's service plan (plan-change guide), minus the chat.

The guide's steps map onto this module: discuss options (`recommend_plans`, `parse_need`,
`find_plan`), quote the exact change with its prorated amount (`quote_plan_change`), get an
explicit yes through the shared propose/confirm mechanism (`propose_plan_change`, then
`changes.confirm_change`, which runs the `plan_change` handler registered here), apply it now
or on a requested future date (`apply_due_plan_changes`, run by `quickconnect.jobs`), and
answer "can I go back to my old plan?" (`previous_plan`).

Proration: a change effective on day D of a billing cycle of N days with R days left
(counting D itself) adds (new price - current price) * R / N to that cycle's bill, rounded
half-up to cents: positive is a charge, negative a credit. Each change prorates from the plan
active at that moment, so several changes in one cycle add up correctly. The convention for
whoever totals a bill: a cycle costs the monthly price of the plan it began with (before any
change effective on its first day) plus the prorated amounts of the changes in it, so a change
on the first day prorates the full difference. There is never a change fee (guide FAQ).

Import this module wherever `changes.confirm_change` may see a `plan_change` (the action
server does), otherwise the handler is not registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.db.models import AccountPlan, Customer, ServicePlan, utcnow
from quickconnect.nlp.patterns import catalog_code_for, catalog_phrases
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification
from quickconnect.services.plans import current_plan

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


# --- quoting ----------------------------------------------------------------------------------


def _amount_phrase(amount: Decimal, quote_days: tuple[date, date, date, date]) -> str:
    """'prorated charge of $7.50 for the 9 days left in this billing cycle' (or a credit).

    `quote_days` is (today, effective date, cycle start, cycle end). A future date names the
    days, so the customer knows which bill the amount lands on.
    """
    today, effective, start, end = quote_days
    if amount == 0:
        return "no prorated charge"
    remaining = (end - effective).days + 1
    if effective == today:
        if effective == start:
            span = f"the full {remaining} days of this billing cycle"
        elif remaining == 1:
            span = "the last day of this billing cycle"
        else:
            span = f"the {remaining} days left in this billing cycle"
    elif effective == start:
        span = f"the full billing cycle from {format_date(start)} to {format_date(end)}"
    elif remaining == 1:
        span = f"the last day of the billing cycle, {format_date(end)}"
    else:
        span = (
            f"the {remaining} days from {format_date(effective)} to the end of the billing "
            f"cycle on {format_date(end)}"
        )
    kind = "charge" if amount > 0 else "credit"
    return f"prorated {kind} of {_usd(amount)} for {span}"


def quote_plan_change(
    session: Session,
    customer_id: int,
    new_plan_code: str,
    *,
    effective_date: date | None = None,
    today: date | None = None,
) -> PlanChangeQuote:
    """The exact change, its prorated amount and the consent text, without changing anything.

    Raises UnknownPlan, PlanNotOffered, SameAsCurrentPlan or InvalidEffectiveDate (effective
    date before today or more than 90 days ahead); messages are customer-readable.
    """
    today = today or utcnow().date()
    effective = effective_date or today
    new = _plan_by_code(session, new_plan_code) if new_plan_code else None
    if new is None:
        raise UnknownPlan(
            f"There is no plan called {new_plan_code!r}."
            if new_plan_code
            else "I don't know which plan you'd like yet. Which plan should I quote?"
        )
    if not new.offered:
        raise PlanNotOffered(f"{new.name} is no longer offered, so it can't be chosen.")
    customer = _customer(session, customer_id)
    _, current = _active_plan(session, customer_id)
    if new.id == current.id:
        raise SameAsCurrentPlan(f"You're already on {current.name}.")
    if effective < today:
        raise InvalidEffectiveDate(
            f"A plan change can't start in the past ({format_date(effective)}); "
            f"the earliest is today, {format_date(today)}."
        )
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if effective > latest:
        raise InvalidEffectiveDate(
            f"A plan change can be booked up to {MAX_DAYS_AHEAD} days ahead "
            f"(until {format_date(latest)}), not for {format_date(effective)}."
        )

    start = cycle_start(effective, customer.billing_cycle_day)
    next_start = next_cycle_start(effective, customer.billing_cycle_day)
    cycle_days = (next_start - start).days
    remaining = (next_start - effective).days
    prorated = _cents((new.monthly_price - current.monthly_price) * remaining / cycle_days)
    scheduled = _scheduled_plans(session, customer_id)
    replaced = scheduled[-1] if scheduled else None

    summary = (
        f"Change from {current.name} ({_usd(current.monthly_price)}/month) to {new.name} "
        f"({_usd(new.monthly_price)}/month) effective {format_date(effective)}; "
        f"{_amount_phrase(prorated, (today, effective, start, next_start - timedelta(days=1)))}; "
        "no change fee"
    )
    if replaced is not None:
        summary += (
            f"; this replaces your scheduled change to {replaced[1].name} on "
            f"{format_date(replaced[0].scheduled_for.date())}"
        )
    return PlanChangeQuote(
        customer_id=customer_id,
        current_plan_code=current.code,
        current_plan_name=current.name,
        current_price=current.monthly_price,
        new_plan_code=new.code,
        new_plan_name=new.name,
        new_price=new.monthly_price,
        quoted_on=today,
        effective_date=effective,
        immediate=effective == today,
        cycle_start=start,
        cycle_end=next_start - timedelta(days=1),
        cycle_days=cycle_days,
        remaining_days=remaining,
        prorated_amount=prorated,
        change_fee=CHANGE_FEE,
        next_bill_date=next_start,
        replaces_scheduled_plan_name=replaced[1].name if replaced else None,
        replaces_scheduled_for=replaced[0].scheduled_for.date() if replaced else None,
        summary=summary + ".",
    )


def propose_plan_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    new_plan_code: str,
    effective_date: date | None = None,
    today: date | None = None,
) -> tuple[PlanChangeQuote, ProposedChange]:
    """Quote the change and store it awaiting the customer's yes (show `quote.summary`)."""
    quote = quote_plan_change(
        session, customer_id, new_plan_code, effective_date=effective_date, today=today
    )
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.prorated_amount,
    )
    return quote, proposed


# --- applying -----------------------------------------------------------------------------------


def _cancel_scheduled(session: Session, customer_id: int, now: datetime) -> None:
    """A newer decision replaces a booked one. A scheduled row that never started is 'ended'
    with no started_at, which is how history tells a cancelled booking from a past plan."""
    for account_plan, _ in _scheduled_plans(session, customer_id):
        account_plan.status = "ended"
        account_plan.ended_at = now
    session.flush()


def _billing_lines(quote: PlanChangeQuote, billing_cycle_day: int) -> str:
    following = next_cycle_start(quote.next_bill_date, billing_cycle_day)
    amount = quote.prorated_amount
    if amount > 0:
        prorated = f"a prorated charge of {_usd(amount)}"
    elif amount < 0:
        prorated = f"a prorated credit of {_usd(amount)}"
    else:
        prorated = "no prorated charge"
    return (
        f"Prorated amount: {prorated} for {quote.remaining_days} of the {quote.cycle_days} "
        f"days of the billing cycle {format_date(quote.cycle_start)} to "
        f"{format_date(quote.cycle_end)}, on your bill of {format_date(quote.next_bill_date)}.\n"
        f"Next billing cycle: {format_date(quote.next_bill_date)} to "
        f"{format_date(following - timedelta(days=1))}, at {_usd(quote.new_price)}/month.\n"
        "Change fee: none."
    )


@changes.register_handler(CHANGE_KIND)
def apply_plan_change(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `plan_change` (run by `changes.confirm_change` after the customer's yes).

    params: new_plan_code, effective_date (ISO date); optional from_plan_code and
    prorated_amount (what was quoted): if the account or the amount no longer match, it raises
    PlanChangeQuoteStale so nothing is applied and the flow re-quotes. Effective today (or a
    date that has passed since the quote): switch now. Later: book a 'scheduled' plan,
    replacing any earlier booking; `apply_due_plan_changes` switches it on the day.
    """
    now = utcnow()
    today = now.date()
    customer = _customer(session, customer_id, lock=True)
    effective = max(date.fromisoformat(str(params["effective_date"])), today)
    quote = quote_plan_change(
        session, customer_id, str(params["new_plan_code"]), effective_date=effective, today=today
    )
    expected_from = params.get("from_plan_code")
    if expected_from is not None and expected_from != quote.current_plan_code:
        raise PlanChangeQuoteStale(
            f"The plan on the account is now {quote.current_plan_name}, not the one quoted; "
            "the change needs a new quote."
        )
    expected_amount = params.get("prorated_amount")
    if expected_amount is not None and Decimal(str(expected_amount)) != quote.prorated_amount:
        raise PlanChangeQuoteStale(
            f"The prorated amount is now {_signed_usd(quote.prorated_amount)} instead of the "
            f"quoted {_signed_usd(Decimal(str(expected_amount)))}; the change needs a new quote."
        )

    active, _ = _active_plan(session, customer_id)
    new_plan = _plan_by_code(session, quote.new_plan_code)
    assert new_plan is not None  # the quote found it
    _cancel_scheduled(session, customer_id, now)
    if quote.immediate:
        active.status = "ended"
        active.ended_at = now
        session.flush()  # the old row leaves the one-active-plan index before the new one
        session.add(
            AccountPlan(
                customer_id=customer_id,
                plan_id=new_plan.id,
                status="active",
                started_at=now,
                prorated_amount=quote.prorated_amount,
            )
        )
    else:
        session.add(
            AccountPlan(
                customer_id=customer_id,
                plan_id=new_plan.id,
                status="scheduled",
                scheduled_for=_start_of(quote.effective_date),
                prorated_amount=quote.prorated_amount,
            )
        )
    session.flush()
    _verify(session, customer_id, quote, today)

    effective_text = format_date(quote.effective_date)
    if quote.immediate:
        interruption = "No interruption: the new allowances apply immediately."
        status = "active"
        subject = f"Your QuickConnect plan is now {quote.new_plan_name}"
        opening = f"Your plan has been changed to {quote.new_plan_name}, effective today."
    else:
        interruption = (
            f"Nothing changes until {effective_text}: you keep {quote.current_plan_name} until "
            f"then, and {quote.new_plan_name} starts that day with no interruption in service."
        )
        status = "scheduled"
        subject = f"Your QuickConnect plan change on {effective_text}"
        opening = (
            f"Your change from {quote.current_plan_name} to {quote.new_plan_name} is booked "
            f"for {effective_text}."
        )
    body = (
        f"Hi {customer.first_name},\n\n{opening}\n\n"
        f"New plan: {_plan_details(new_plan)}.\n"
        f"{_billing_lines(quote, customer.billing_cycle_day)}\n\n{interruption}\n\n"
        f"What you agreed to: {quote.summary}\n\nThank you for choosing QuickConnect."
    )
    verb = "Changed" if quote.immediate else "Scheduled change of"
    log_summary = (
        f"{verb} plan from {quote.current_plan_name} to {quote.new_plan_name} effective "
        f"{quote.effective_date.isoformat()}; prorated amount "
        f"{_signed_usd(quote.prorated_amount)}; no change fee; next bill "
        f"{quote.next_bill_date.isoformat()}"
    )
    if quote.replaces_scheduled_plan_name:
        log_summary += f"; replaced the scheduled change to {quote.replaces_scheduled_plan_name}"
    return ChangeEffect(
        result={
            "status": status,
            "previous_plan_code": quote.current_plan_code,
            "previous_plan_name": quote.current_plan_name,
            "plan_code": quote.new_plan_code,
            "plan_name": quote.new_plan_name,
            "monthly_price": quote.new_price,
            "effective_date": quote.effective_date,
            "prorated_amount": quote.prorated_amount,
            "change_fee": quote.change_fee,
            "next_bill_date": quote.next_bill_date,
            "interruption": interruption,
            "replaced_scheduled_plan_name": quote.replaces_scheduled_plan_name,
            "summary": quote.summary,
        },
        log_summary=log_summary,
        notification=("email", subject, body),
    )


def _verify(session: Session, customer_id: int, quote: PlanChangeQuote, today: date) -> None:
    """The guide's "verify that the new plan details are updated correctly": read the account
    back the way the assistant shows it, and fail (rolling everything back) if it disagrees."""
    view = current_plan(session, customer_id, today=today)
    if quote.immediate:
        ok = view.plan_code == quote.new_plan_code
    else:
        ok = (
            view.plan_code == quote.current_plan_code
            and view.scheduled_plan_name == quote.new_plan_name
            and view.scheduled_for is not None
            and view.scheduled_for.date() == quote.effective_date
        )
    if not ok:
        raise PlanChangeNotVisible(
            f"plan change for customer {customer_id} did not show up on the account "
            f"(now {view.plan_code}, scheduled {view.scheduled_plan_name})"
        )


def apply_due_plan_changes(session: Session, today: date | None = None) -> list[str]:
    """Switch every booked plan change whose date has come; returns the account numbers.

    The previous plan ends and the booked one becomes active at the same moment; each switch
    is logged and its confirmation email queued. Running it again does nothing more.
    """
    now = utcnow()
    today = today or now.date()
    # Run for a later day (a dry run of the calendar, or tests): the switch is dated that day.
    switched_at = _start_of(today) if today > now.date() else now
    due = (
        session.execute(
            select(AccountPlan)
            .where(
                AccountPlan.status == "scheduled",
                AccountPlan.scheduled_for < _start_of(today + timedelta(days=1)),
            )
            .order_by(AccountPlan.scheduled_for, AccountPlan.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    switched: list[str] = []
    for booked in due:
        customer = _customer(session, booked.customer_id, lock=True)
        new_plan = session.get(ServicePlan, booked.plan_id)
        active = session.execute(
            select(AccountPlan).where(
                AccountPlan.customer_id == booked.customer_id, AccountPlan.status == "active"
            )
        ).scalar_one_or_none()
        previous_name = None
        if active is not None:
            previous_name = session.get(ServicePlan, active.plan_id).name
            active.status = "ended"
            active.ended_at = switched_at
            session.flush()
        booked.status = "active"
        booked.started_at = switched_at
        session.flush()
        view = current_plan(session, customer.id, today=today)
        if view.plan_code != new_plan.code:
            raise PlanChangeNotVisible(
                f"scheduled plan change for {customer.account_number} not applied"
            )
        _notify_switched(session, customer, new_plan, previous_name, booked, today)
        switched.append(customer.account_number)
    return switched


def _notify_switched(
    session: Session,
    customer: Customer,
    new_plan: ServicePlan,
    previous_name: str | None,
    booked: AccountPlan,
    today: date,
) -> None:
    amount = booked.prorated_amount or Decimal("0.00")
    next_bill = next_cycle_start(today, customer.billing_cycle_day)
    if amount > 0:
        prorated = f"a prorated charge of {_usd(amount)}"
    elif amount < 0:
        prorated = f"a prorated credit of {_usd(amount)}"
    else:
        prorated = "no prorated charge"
    from_text = f" from {previous_name}" if previous_name else ""
    log_interaction(
        session,
        customer_id=customer.id,
        conversation_id=None,
        kind=CHANGE_KIND,
        summary=(
            f"Scheduled plan change{from_text} to {new_plan.name} took effect on "
            f"{today.isoformat()}; prorated amount {_signed_usd(amount)}; next bill "
            f"{next_bill.isoformat()}"
        ),
        outcome="applied",
    )
    queue_notification(
        session,
        customer_id=customer.id,
        channel="email",
        to_address=customer.email,
        subject=f"Your QuickConnect plan is now {new_plan.name}",
        body=(
            f"Hi {customer.first_name},\n\nAs booked, your plan changed{from_text} to "
            f"{new_plan.name} on {format_date(today)}. The new allowances apply now, with no "
            f"interruption in service.\n\nNew plan: {_plan_details(new_plan)}.\n"
            f"Your bill of {format_date(next_bill)} includes {prorated} for this billing "
            f"cycle, and your monthly price from then is {_usd(new_plan.monthly_price)}. "
            "There is no change fee.\n\nThank you for choosing QuickConnect."
        ),
    )


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
