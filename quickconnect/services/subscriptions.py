"""Subscriptions to additional services (subscriptions guide), minus the chat.

The guide's three procedures map onto this module:

- Adding: pick a service and tier from the catalog (`service_catalog`, `find_service`,
  `find_tier`), quote price, terms and activation time (`quote_add`), get a yes through the
  shared propose/confirm mechanism (`propose_add` -> `changes.confirm_change`, which runs the
  `subscription_add` handler registered here). The subscription is created
  `pending_activation` with `activates_at`; `activate_due_subscriptions` (run by
  `python -m quickconnect.jobs activate-due`) makes it live later and queues the
  "your service is live" message.
- Modifying: another tier of the same service (`quote_modify` / `propose_modify`), with the
  impact on the bill and any modification fee shown before the yes.
- Cancelling: any cancellation fee and the refund or billing adjustment (`quote_cancel` /
  `propose_cancel`); the handler records both on the subscription, once.

Billing model (what the quotes say): an add-on is billed monthly in advance from the day it
goes live. Cancelling a live add-on stops it today: the days left in the current billing
cycle (today included) are credited when that cycle was already billed, and the days used
are charged when the add-on went live in this cycle (not billed yet). Changing tier takes
effect today: the price difference for the days left is prorated onto the next bill, and the
new price applies from then. Nothing is charged, and no fee applies, before activation.
Money is rounded half-up to cents.

Invariants: at most one live (pending or active) subscription per customer and service
(checked here and enforced by the `uq_subscriptions_one_live` index); cancelling twice never
refunds twice (the handler locks the row and refuses an already cancelled one).

Import this module wherever `changes.confirm_change` may see a subscription change.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import cycle_start, next_cycle_start
from quickconnect.catalog import ADDONS
from quickconnect.db.models import AddonService, AddonTier, Customer, Subscription, utcnow
from quickconnect.nlp.patterns import catalog_code_for, catalog_phrases
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

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


# --- catalog lookups ------------------------------------------------------------------------------


def _service_view(service: AddonService) -> ServiceView:
    spec = next((a for a in ADDONS if a.code == service.code), None)
    tiers = sorted(service.tiers, key=lambda t: (t.monthly_price, t.id))
    return ServiceView(
        code=service.code,
        name=service.name,
        category=service.category,
        description=service.description,
        activation_hours=int(service.activation_hours),
        modification_fee=_cents(service.modification_fee),
        cancellation_fee=_cents(service.cancellation_fee),
        cancellation_fee_months=spec.cancellation_fee_months if spec else None,
        terms=service.terms,
        tiers=tuple(TierView(t.code, t.name, _cents(t.monthly_price)) for t in tiers),
    )


def service_catalog(session: Session) -> list[ServiceView]:
    """Every add-on service with its tiers, in catalog order."""
    services = session.execute(select(AddonService).order_by(AddonService.id)).scalars().all()
    return [_service_view(service) for service in services]


def get_service(session: Session, code: str) -> ServiceView:
    service = session.execute(
        select(AddonService).where(AddonService.code == code.strip().upper())
    ).scalar_one_or_none()
    if service is None:
        raise UnknownService(f"We don't offer a service called {code!r}.")
    return _service_view(service)


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2013", "-")
    text = re.sub(r"[^\w\s+-]", " ", text)
    return " ".join(text.split())


_FILLER = re.compile(
    r"^(the|a|an|my|that|this|to|on|for)\s+|\s+(service|subscription|add-?on|add on|one|"
    r"please|pls|package|pack|thing)$"
)


def find_service(text: str | None) -> str | None:
    """The catalog code of the add-on named in loose wording ("the netflix thing",
    "intl calls", "cloud vault subscription", "cancel my streammax please"), else None.
    A longer text counts only when every service name inside it points at one service."""
    if not text or not text.strip():
        return None
    phrase = _normalise(text)
    while phrase:
        code = catalog_code_for("service_name", phrase)
        if code:
            return code
        shorter = _FILLER.sub("", phrase)
        if shorter == phrase:
            break
        phrase = shorter
    whole = _normalise(text)
    found = {
        code
        for name, code in catalog_phrases()["service_name"].items()
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", whole)
    }
    return found.pop() if len(found) == 1 else None


_TIER_WORDS: dict[str, tuple[str, ...]] = {
    # extra ways customers name a tier, on top of its name and code
    "STREAM_STD": ("standard", "basic", "hd", "normal", "regular", "cheaper one"),
    "STREAM_PREM": ("premium", "4k", "premium 4k", "uhd", "ultra hd"),
    "INTL_100": ("100", "100 min", "100 mins", "hundred minutes", "small"),
    "INTL_500": ("500", "500 min", "500 mins", "five hundred minutes", "big", "large"),
    "CLOUD_100": ("100gb", "100 gb", "100 gigs", "small"),
    "CLOUD_1TB": ("1tb", "1 tb", "one terabyte", "terabyte", "1000 gb", "big", "large"),
    "BOOST_5": ("5gb", "5 gb", "5 gigs", "five gb", "small"),
    "BOOST_15": ("15gb", "15 gb", "15 gigs", "fifteen gb", "big", "large"),
    "SPORTS_STD": ("sports", "standard", "basic", "normal", "regular"),
    "SPORTS_PLUS": ("sports plus", "plus", "premium"),
}


def find_tier(service: ServiceView, text: str | None) -> TierView | None:
    """The tier of `service` named in `text` ("premium", "the 500 minutes one", "1TB"), else
    None. The longest matching name wins, so "sports plus" is not "sports"."""
    if not text or not text.strip():
        return None
    wording = f" {_normalise(text)} "
    best: tuple[int, TierView] | None = None
    for tier in service.tiers:
        names = {_normalise(tier.name), tier.code.lower(), *_TIER_WORDS.get(tier.code, ())}
        for name in names:
            if name and f" {name} " in wording and (best is None or len(name) > best[0]):
                best = (len(name), tier)
    return best[1] if best else None


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


# --- adding -----------------------------------------------------------------------------------


def quote_add(
    session: Session,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    *,
    now: datetime | None = None,
) -> AddQuote:
    """Price, terms, fees and activation time of a new add-on, without changing anything.

    Raises UnknownService, UnknownTier (also when a multi-tier service has no tier chosen)
    or AlreadySubscribed."""
    now = now or utcnow()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    existing = _live_subscription(session, customer_id, service.code)
    if existing is not None:
        state = "waiting for activation" if existing.status == "pending_activation" else "active"
        raise AlreadySubscribed(
            f"You already have {service.name} ({state}), so I can't add it twice. "
            "You can change its tier or cancel it instead."
        )
    if tier_code is None and len(service.tiers) == 1:
        tier_code = service.tiers[0].code
    if tier_code is None:
        options = ", ".join(f"{t.name} ({usd(t.monthly_price)}/month)" for t in service.tiers)
        raise UnknownTier(f"Which {service.name} tier would you like: {options}?")
    tier = _tier(service, tier_code)
    expected = now + timedelta(hours=service.activation_hours)
    _, next_bill, _, _ = _cycle(customer, now.date())
    summary = (
        f"Add {service.name} {tier.name} at {usd(tier.monthly_price)}/month: "
        f"{service.description} It's usually live within {_hours(service.activation_hours)} "
        f"(expected by {format_time(expected)}) and we'll let you know as soon as it is. "
        "You pay from the day it goes live; your next bill, on "
        f"{format_date(next_bill)}, includes the days from then. Terms: {service.terms} "
        f"Fees: {_fee_terms(service)}."
    )
    return AddQuote(customer_id, service, tier, expected, next_bill, summary)


def propose_add(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    now: datetime | None = None,
) -> tuple[AddQuote, ProposedChange]:
    """Quote a new add-on and store it awaiting the customer's yes (show `quote.summary`)."""
    quote = quote_add(session, customer_id, service_code, tier_code, now=now)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ADD_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.tier.monthly_price,
    )
    return quote, proposed


@changes.register_handler(ADD_KIND)
def apply_add(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Create the subscription `pending_activation` with its expected activation time."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    quote = quote_add(
        session, customer_id, str(params["service_code"]), str(params["tier_code"]), now=now
    )
    if Decimal(str(params["monthly_price"])) != quote.tier.monthly_price:
        raise SubscriptionQuoteStale(
            f"The price of {quote.service.name} {quote.tier.name} is now "
            f"{usd(quote.tier.monthly_price)}/month; the addition needs a new quote."
        )
    addon = session.execute(
        select(AddonService).where(AddonService.code == quote.service.code)
    ).scalar_one()
    tier = session.execute(select(AddonTier).where(AddonTier.code == quote.tier.code)).scalar_one()
    sub = Subscription(
        customer_id=customer_id,
        addon_id=addon.id,
        tier_id=tier.id,
        status="pending_activation",
        monthly_price=quote.tier.monthly_price,
        created_at=now,
        activates_at=quote.expected_activation,
    )
    session.add(sub)
    session.flush()
    name = f"{quote.service.name} {quote.tier.name}"
    body = (
        f"Hi {customer.first_name},\n\nThank you for adding {name} "
        f"({usd(quote.tier.monthly_price)}/month). It's being set up now and is expected to "
        f"be live by {format_time(quote.expected_activation)}. We'll message you as soon as "
        f"it's live.\n\nTerms: {quote.service.terms}\nFees: {_fee_terms(quote.service)}.\n\n"
        f"What you agreed to: {quote.summary}\n\nThank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": quote.service.name,
            "tier_name": quote.tier.name,
            "monthly_price": quote.tier.monthly_price,
            "status": sub.status,
            "activates_at": quote.expected_activation,
            "activation_hours": quote.service.activation_hours,
            "next_bill_date": quote.next_bill_date,
            "summary": quote.summary,
        },
        log_summary=(
            f"Added {name} at {usd(quote.tier.monthly_price)}/month, pending activation "
            f"(expected {quote.expected_activation.isoformat(timespec='minutes')})"
        ),
        notification=("email", f"Your QuickConnect {quote.service.name} order", body),
    )


# --- modifying --------------------------------------------------------------------------------


def quote_modify(
    session: Session,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    *,
    today: date | None = None,
) -> ModifyQuote:
    """Move an add-on to another tier: the bill impact and any fee, without changing anything.

    With no tier given, a two-tier service moves to its other tier. Raises UnknownService,
    NotSubscribed, NothingToModify or UnknownTier."""
    today = today or utcnow().date()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    sub = _require_live(session, customer_id, service)
    current = next(t for t in service.tiers if t.code == _tier_code(session, sub))
    others = [t for t in service.tiers if t.code != current.code]
    if not others:
        raise NothingToModify(
            f"{service.name} comes in one version only ({current.name}, "
            f"{usd(current.monthly_price)}/month), so there's nothing to change. "
            "You can keep it or cancel it."
        )
    if tier_code is None and len(others) == 1:
        tier_code = others[0].code
    if tier_code is None:
        options = ", ".join(f"{t.name} ({usd(t.monthly_price)}/month)" for t in others)
        raise UnknownTier(f"Which {service.name} tier would you like instead: {options}?")
    target = _tier(service, tier_code)
    if target.code == current.code:
        raise NothingToModify(f"Your {service.name} is already {current.name}.")
    _, next_bill, cycle_days, remaining = _cycle(customer, today)
    pending = sub.status == "pending_activation"
    difference = target.monthly_price - _cents(sub.monthly_price)
    prorated = ZERO if pending else _cents(difference * remaining / cycle_days)
    fee = ZERO if pending else service.modification_fee
    direction = "up" if difference > 0 else "down"
    if pending:
        money = (
            f"it isn't live yet, so there's no fee and nothing to prorate: you'll pay "
            f"{usd(target.monthly_price)}/month from the day it goes live"
        )
    else:
        if prorated == 0:
            prorated_text = "no prorated amount"
        else:
            kind = "charge" if prorated > 0 else "credit"
            prorated_text = (
                f"a prorated {kind} of {usd(prorated)} for the {remaining} days left in this "
                "billing cycle"
            )
        fee_text = (
            f"a one-time modification fee of {usd(fee)}" if fee > 0 else "no modification fee"
        )
        money = (
            f"your monthly price goes {direction} by {usd(difference)} to "
            f"{usd(target.monthly_price)}; your bill of {format_date(next_bill)} includes "
            f"{prorated_text} and {fee_text} (total {_signed(prorated + fee)})"
        )
    summary = (
        f"Change {service.name} from {current.name} ({usd(sub.monthly_price)}/month) to "
        f"{target.name} ({usd(target.monthly_price)}/month), effective today: {money}."
    )
    return ModifyQuote(
        customer_id=customer_id,
        subscription_id=int(sub.id),
        service_name=service.name,
        from_tier=TierView(current.code, current.name, _cents(sub.monthly_price)),
        to_tier=target,
        pending=pending,
        modification_fee=fee,
        remaining_days=remaining,
        cycle_days=cycle_days,
        prorated_amount=prorated,
        next_bill_date=next_bill,
        bill_impact=_cents(prorated + fee),
        summary=summary,
    )


def _tier_code(session: Session, sub: Subscription) -> str:
    return str(session.execute(select(AddonTier.code).where(AddonTier.id == sub.tier_id)).scalar())


def propose_modify(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    tier_code: str | None = None,
    today: date | None = None,
) -> tuple[ModifyQuote, ProposedChange]:
    quote = quote_modify(session, customer_id, service_code, tier_code, today=today)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=MODIFY_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.bill_impact,
    )
    return quote, proposed


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


@changes.register_handler(MODIFY_KIND)
def apply_modify(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Switch the subscription's tier and record the modification fee, if the quote still holds."""
    today = utcnow().date()
    customer = _customer(session, customer_id, lock=True)
    sub = _locked_subscription(session, customer_id, int(params["subscription_id"]))
    service = _service_of(session, sub)
    if sub.status not in LIVE_STATUSES:
        raise NotSubscribed(f"Your {service.name} was cancelled, so there's nothing to change.")
    if _tier_code(session, sub) != params["from_tier_code"]:
        raise SubscriptionQuoteStale(
            f"Your {service.name} changed since the quote; the change needs a new quote."
        )
    quote = quote_modify(session, customer_id, service.code, params["to_tier_code"], today=today)
    if quote.prorated_amount != Decimal(
        str(params["prorated_amount"])
    ) or quote.modification_fee != Decimal(str(params["modification_fee"])):
        raise SubscriptionQuoteStale(
            f"The amounts for changing {service.name} are now different (new billing cycle); "
            "the change needs a new quote."
        )
    tier = session.execute(
        select(AddonTier).where(AddonTier.code == quote.to_tier.code)
    ).scalar_one()
    sub.tier_id = tier.id
    sub.monthly_price = quote.to_tier.monthly_price
    if quote.modification_fee > 0:
        sub.fee_charged = _cents(Decimal(sub.fee_charged or 0) + quote.modification_fee)
    session.flush()
    body = (
        f"Hi {customer.first_name},\n\nYour {service.name} is now {quote.to_tier.name} "
        f"({usd(quote.to_tier.monthly_price)}/month), effective {format_date(today)}.\n\n"
        f"{quote.summary}\n\nThank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": service.name,
            "from_tier_name": quote.from_tier.name,
            "tier_name": quote.to_tier.name,
            "monthly_price": quote.to_tier.monthly_price,
            "modification_fee": quote.modification_fee,
            "prorated_amount": quote.prorated_amount,
            "bill_impact": quote.bill_impact,
            "next_bill_date": quote.next_bill_date,
            "pending": quote.pending,
            "summary": quote.summary,
        },
        log_summary=(
            f"Changed {service.name} from {quote.from_tier.name} to {quote.to_tier.name} "
            f"({usd(quote.to_tier.monthly_price)}/month); prorated "
            f"{_signed(quote.prorated_amount)}; modification fee {usd(quote.modification_fee)}"
        ),
        notification=("email", f"Your {service.name} has been changed", body),
    )


# --- cancelling -------------------------------------------------------------------------------


def quote_cancel(
    session: Session, customer_id: int, service_code: str, *, today: date | None = None
) -> CancelQuote:
    """Cancellation fee, refund or charge, and what happens next, without changing anything.

    Raises UnknownService or NotSubscribed (also for an add-on already cancelled)."""
    today = today or utcnow().date()
    service = get_service(session, service_code)
    customer = _customer(session, customer_id)
    sub = _require_live(session, customer_id, service)
    return _cancel_quote(session, customer, service, sub, today)


def _cancel_quote(
    session: Session, customer: Customer, service: ServiceView, sub: Subscription, today: date
) -> CancelQuote:
    start, next_bill, cycle_days, remaining = _cycle(customer, today)
    price = _cents(sub.monthly_price)
    tier_name = next(t.name for t in service.tiers if t.code == _tier_code(session, sub))
    pending = sub.status == "pending_activation" or sub.activated_at is None
    fee, refund, charge = ZERO, ZERO, ZERO
    if pending:
        fee_reason = "it isn't live yet, so there's no cancellation fee and nothing to pay"
    else:
        live_since = sub.activated_at.date()
        if service.cancellation_fee > 0:
            months = service.cancellation_fee_months
            if months is None or today < _months_later(live_since, months):
                fee = service.cancellation_fee
                fee_reason = f"a {usd(fee)} cancellation fee applies" + (
                    f" (within the first {months} months)" if months else ""
                )
            else:
                fee_reason = f"no cancellation fee (you've had it more than {months} months)"
        else:
            fee_reason = "no cancellation fee"
        if live_since < start:  # this cycle was billed in advance: credit the days left
            refund = _cents(price * remaining / cycle_days)
        else:  # went live this cycle, not billed yet: the days used are charged
            charge = _cents(price * (today - live_since).days / cycle_days)
    net = _cents(fee + charge - refund)
    money = [fee_reason]
    if refund > 0:
        money.append(
            f"a refund of {usd(refund)} for the {remaining} unused days of this billing cycle"
        )
    if charge > 0:
        money.append(f"a prorated charge of {usd(charge)} for the days you had it this cycle")
    if net < 0:
        money.append(f"a credit of {usd(net)} on your bill of {format_date(next_bill)}")
    elif net > 0:
        money.append(f"{usd(net)} to pay on your bill of {format_date(next_bill)}")
    else:
        money.append("no billing adjustment")
    what_next = (
        f"{service.name} stops today and won't be billed again. {service.terms}"
        if not pending
        else f"{service.name} won't be activated and won't be billed."
    )
    summary = (
        f"Cancel {service.name} {tier_name} ({usd(price)}/month), effective today: "
        + "; ".join(money)
        + "."
    )
    return CancelQuote(
        customer_id=int(customer.id),
        subscription_id=int(sub.id),
        service_name=service.name,
        tier_name=tier_name,
        monthly_price=price,
        pending=pending,
        cancellation_fee=fee,
        fee_reason=fee_reason,
        refund=refund,
        usage_charge=charge,
        net_adjustment=net,
        next_bill_date=next_bill,
        what_next=what_next,
        summary=summary,
    )


def propose_cancel(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    service_code: str,
    today: date | None = None,
) -> tuple[CancelQuote, ProposedChange]:
    quote = quote_cancel(session, customer_id, service_code, today=today)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CANCEL_KIND,
        params=quote.change_params(),
        summary=quote.summary,
        amount=quote.net_adjustment,
    )
    return quote, proposed


@changes.register_handler(CANCEL_KIND)
def apply_cancel(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Cancel once: the row is locked, an already cancelled one is refused (no second refund)."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    sub = _locked_subscription(session, customer_id, int(params["subscription_id"]))
    service = _service_of(session, sub)
    if sub.status not in LIVE_STATUSES:
        when = f" on {format_date(sub.cancelled_at.date())}" if sub.cancelled_at else ""
        raise NotSubscribed(
            f"Your {service.name} was already cancelled{when}, so nothing more was charged "
            "or refunded."
        )
    quote = _cancel_quote(session, customer, service, sub, now.date())
    if (
        quote.cancellation_fee != Decimal(str(params["cancellation_fee"]))
        or quote.refund != Decimal(str(params["refund"]))
        or quote.usage_charge != Decimal(str(params["usage_charge"]))
    ):
        raise SubscriptionQuoteStale(
            f"The amounts for cancelling {service.name} are now different; the cancellation "
            "needs a new quote."
        )
    sub.status = "cancelled"
    sub.cancelled_at = now
    if quote.cancellation_fee > 0:
        sub.fee_charged = _cents(Decimal(sub.fee_charged or 0) + quote.cancellation_fee)
    sub.refund_amount = quote.refund
    session.flush()
    body = (
        f"Hi {customer.first_name},\n\nYour {service.name} subscription has been cancelled "
        f"as of {format_date(now.date())}.\n\n{quote.summary}\n\n{quote.what_next}\n\n"
        "Thank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "subscription_id": sub.id,
            "service_name": service.name,
            "tier_name": quote.tier_name,
            "cancellation_fee": quote.cancellation_fee,
            "refund": quote.refund,
            "usage_charge": quote.usage_charge,
            "net_adjustment": quote.net_adjustment,
            "next_bill_date": quote.next_bill_date,
            "what_next": quote.what_next,
            "summary": quote.summary,
        },
        log_summary=(
            f"Cancelled {service.name} {quote.tier_name}; cancellation fee "
            f"{usd(quote.cancellation_fee)}; refund {usd(quote.refund)}; usage charge "
            f"{usd(quote.usage_charge)}; net adjustment {_signed(quote.net_adjustment)} on the "
            f"bill of {quote.next_bill_date.isoformat()}"
        ),
        notification=("email", f"Your {service.name} has been cancelled", body),
    )


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


# --- reading a request from the chat ------------------------------------------------------------

OPERATIONS: tuple[str, ...] = ("add", "modify", "cancel")


@dataclass(frozen=True)
class RequestCheck:
    """Whether a named service fits the request: `service` set = usable (with `tier` when it
    is already decided); `problem` = a customer-facing reason it does not."""

    service: ServiceView | None
    tier: TierView | None
    problem: str | None


def without_service_names(text: str) -> str:
    """The wording minus any service name, so "sports pack" does not read as tier "Sports"."""
    wording = _normalise(text)
    for name in sorted(catalog_phrases()["service_name"], key=len, reverse=True):
        wording = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", wording)
    return " ".join(wording.split())


def check_request(
    session: Session,
    customer_id: int,
    operation: str,
    service_text: str | None,
    tier_text: str | None = None,
) -> RequestCheck:
    """Resolve the service (and tier, if `tier_text` names one) for an add, modify or cancel
    request, and say why it cannot be done when it cannot: unknown service, already
    subscribed (add), not subscribed or nothing to change (modify, cancel)."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; expected one of {OPERATIONS}")
    code = find_service(service_text)
    if code is None:
        return RequestCheck(
            None, None, f'I couldn\'t find an add-on service called "{service_text}".'
        )
    service = get_service(session, code)
    tier = find_tier(service, without_service_names(tier_text)) if tier_text else None
    try:
        if operation == "add":
            return RequestCheck(
                service, quote_add(session, customer_id, code, tier and tier.code).tier, None
            )
        if operation == "modify":
            quote = quote_modify(session, customer_id, code, tier and tier.code)
            return RequestCheck(service, quote.to_tier, None)
        quote_cancel(session, customer_id, code)
        return RequestCheck(service, None, None)
    except UnknownTier:
        return RequestCheck(service, None, None)  # the tier is still to be chosen
    except SubscriptionError as refusal:
        return RequestCheck(None, None, str(refusal))


def tier_choices(
    session: Session, customer_id: int, operation: str, service_code: str
) -> tuple[TierView, ...]:
    """The tiers the customer can pick for this request (not the one they already have)."""
    service = get_service(session, service_code)
    if operation != "modify":
        return service.tiers
    current = _live_subscription(session, customer_id, service.code)
    mine = _tier_code(session, current) if current else None
    return tuple(t for t in service.tiers if t.code != mine)
