"""Device protection (guides/device-protection.txt), minus the chat.

The guide's steps map onto this module:

- Enrolment: the devices on the account (`customer_devices`) or a new one (`NewDevice`), the
  tiers that fit it (`tiers_for`), the contact details and payment method on file
  (`contact_on_file`), then an explicit yes through the shared propose/confirm mechanism
  (`propose_enrolment`; the `device_protection_enrol` handler creates the `DP-` plan and
  queues the plan summary).
- Managing a plan, always by its plan number (`find_protection_plan`): switch the payment
  method to another saved one, add a device, upgrade or downgrade the tier (each proposed and
  confirmed like every account change); contact details are shown masked
  (`plan_contact_details`) and changed by the account-recovery flow (`update_contact_info`).
- Claims (`file_claim`): proof of protection (plan number), the device, incident type and
  date, a description; a `CL-` number, an estimated decision date, and the `pre_existing`
  flag when the incident predates the device's enrolment or the customer says the problem
  was there before. Filing is a report, not an account change: no consent, but logged and
  summarised by email.
- Claim status (`look_up_claim`, `claims_overview`): the status, the estimated decision
  date, and once decided the resolution (repair, replacement or reimbursement).

Pricing: a tier's monthly price is per covered device, so a plan costs the tier price times
its devices; the deductible is per claim. A price change applies from the next bill.

Import this module wherever `changes.confirm_change` may see one of its change kinds (the
action server does), otherwise the handlers are not registered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import next_cycle_start
from quickconnect.db.models import (
    Claim,
    Customer,
    Device,
    PaymentMethod,
    ProtectionPlan,
    ProtectionPlanDevice,
    ProtectionTier,
    utcnow,
)
from quickconnect.identifiers import (
    CLAIM_PREFIX,
    PROTECTION_PLAN_PREFIX,
    allocate_identifier,
    find_identifier,
    mask_email,
    mask_phone,
    normalize_claim_number,
    normalize_protection_plan_number,
)
from quickconnect.nlp.patterns import catalog_code_for, device_type_for
from quickconnect.services import changes
from quickconnect.services.changes import ChangeEffect, ProposedChange
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

ENROL = "device_protection_enrol"
CHANGE_TIER = "device_protection_tier"
CHANGE_PAYMENT = "device_protection_payment"
ADD_DEVICE = "device_protection_add_device"
CLAIM_LOG_KIND = "device_protection_claim"
STATUS_LOG_KIND = "device_protection_claim_status"
CONTACT_LOG_KIND = "device_protection_contact_check"

REVIEW_BUSINESS_DAYS = 5  # a claim is decided within this many business days of filing
INCIDENT_TYPES: tuple[str, ...] = ("accidental_damage", "theft", "mechanical_failure", "other")
INCIDENT_WORDS = {
    "accidental_damage": "accidental damage",
    "theft": "theft",
    "mechanical_failure": "mechanical failure",
    "other": "other",
}
RESOLUTION_WORDS = {
    "repair": "a repair",
    "replacement": "a replacement device",
    "reimbursement": "a reimbursement",
}
HOW_TO_SEE_IT = (
    "You can see your plan any time: sign in to your QuickConnect account on our website or "
    "in the QuickConnect mobile app and open Device protection."
)
OPEN_CLAIM_STATUSES = ("submitted", "under_review")


# --- errors -----------------------------------------------------------------------------------


class DeviceProtectionError(ValueError):
    """A request the rules refuse; the message can be shown to the customer as is."""


class UnknownProtectionPlan(DeviceProtectionError):
    """No active plan with that number on this account (another account's plan included)."""


class DeviceNotOnPlan(DeviceProtectionError):
    """A claim for a device the plan does not cover."""


class DeviceNotEligible(DeviceProtectionError):
    """The device cannot be covered by that tier (type or value), or is already covered."""


class UnknownTier(DeviceProtectionError):
    """No protection tier by that name."""


class SameTier(DeviceProtectionError):
    """The plan is already on that tier."""


class PaymentMethodChoiceNeeded(DeviceProtectionError):
    """No other saved payment method, or several: the message says which."""

    def __init__(self, message: str, options: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.options = tuple(options)


class InvalidIncident(DeviceProtectionError):
    """Incident date in the future, unknown incident type, or no description."""


class UnknownClaim(DeviceProtectionError):
    """No claim with that number on this account."""


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceView:
    device_id: int
    device_type: str
    make: str
    model: str
    value: Decimal
    protection_plan_number: str | None  # the active plan covering it, if any

    @property
    def label(self) -> str:
        return f"{self.make} {self.model}"


@dataclass(frozen=True)
class NewDevice:
    """A device the customer describes in chat (not on the account yet)."""

    device_type: str  # canonical, see catalog.DEVICE_TYPES
    make_model: str  # "Apple iPhone 15", as typed
    value: Decimal  # what it cost, for the tier's maximum device value

    @property
    def label(self) -> str:
        return self.make_model


@dataclass(frozen=True)
class TierOption:
    code: str
    name: str
    monthly_price: Decimal  # per device
    deductible: Decimal  # per claim
    covers: tuple[str, ...]
    max_device_value: Decimal

    @property
    def covers_text(self) -> str:
        return covers_text(self.covers)

    @property
    def description(self) -> str:
        return (
            f"{self.name}: {_usd(self.monthly_price)}/month per device, "
            f"{_usd(self.deductible)} deductible per claim, covers {self.covers_text}"
        )


@dataclass(frozen=True)
class PlanView:
    plan_number: str
    tier: TierOption
    enrolled_on: date
    devices: tuple[DeviceView, ...]
    payment_method: str | None

    @property
    def monthly_total(self) -> Decimal:
        return self.tier.monthly_price * max(len(self.devices), 1)

    @property
    def device_labels(self) -> str:
        return _and([device.label for device in self.devices]) or "no devices"


@dataclass(frozen=True)
class ContactOnFile:
    masked_email: str | None
    masked_phone: str | None
    payment_method: str | None  # the default saved payment method's label


@dataclass(frozen=True)
class Proposal:
    """A change waiting for the customer's yes; `summary` is what they agree to."""

    summary: str
    change: ProposedChange


@dataclass(frozen=True)
class ClaimView:
    claim_number: str
    plan_number: str
    device_label: str
    incident_type: str
    incident_date: date
    status: str
    resolution: str | None
    resolution_note: str | None
    estimated_decision_date: date | None
    pre_existing: bool
    filed_on: date

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CLAIM_STATUSES


@dataclass(frozen=True)
class ClaimFiled:
    claim: ClaimView
    tier_name: str
    deductible: Decimal
    covered_by_tier: bool  # the tier covers this incident type ("other" is for review)
    contact: ContactOnFile


@dataclass(frozen=True)
class ClaimsOverview:
    open_claims: tuple[ClaimView, ...]
    decided_claims: tuple[ClaimView, ...]  # most recent first


# --- formatting -------------------------------------------------------------------------------


def _usd(value: Decimal) -> str:
    return f"${Decimal(value):,.2f}"


def format_date(day: date) -> str:
    """'22 Nov 2026': unambiguous for customers everywhere."""
    return f"{day.day} {day:%b %Y}"


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def covers_text(covers: Iterable[str]) -> str:
    """('accidental_damage', 'theft') -> 'accidental damage and theft'."""
    return _and([INCIDENT_WORDS.get(kind, kind.replace("_", " ")) for kind in covers])


# --- lookups ----------------------------------------------------------------------------------


def _tier_option(tier: ProtectionTier) -> TierOption:
    return TierOption(
        code=tier.code,
        name=tier.name,
        monthly_price=Decimal(tier.monthly_price),
        deductible=Decimal(tier.deductible),
        covers=tuple(tier.covers or ()),
        max_device_value=Decimal(tier.max_device_value),
    )


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise DeviceProtectionError(f"customer {customer_id} does not exist")
    return customer


def _covering_plans(session: Session, device_ids: Sequence[int]) -> dict[int, str]:
    """device id -> number of the active plan covering it."""
    if not device_ids:
        return {}
    rows = session.execute(
        select(ProtectionPlanDevice.device_id, ProtectionPlan.plan_number)
        .join(ProtectionPlan, ProtectionPlan.id == ProtectionPlanDevice.plan_id)
        .where(
            ProtectionPlanDevice.device_id.in_(device_ids),
            ProtectionPlan.status == "active",
        )
    ).all()
    return {device_id: plan_number for device_id, plan_number in rows}


def _device_views(session: Session, devices: Sequence[Device]) -> list[DeviceView]:
    covered = _covering_plans(session, [device.id for device in devices])
    return [
        DeviceView(
            device_id=device.id,
            device_type=device.device_type,
            make=device.make,
            model=device.model,
            value=Decimal(device.value),
            protection_plan_number=covered.get(device.id),
        )
        for device in devices
    ]


def customer_devices(session: Session, customer_id: int) -> list[DeviceView]:
    """The customer's devices, each with the active plan covering it (if any)."""
    devices = session.execute(
        select(Device).where(Device.customer_id == customer_id).order_by(Device.id)
    ).scalars()
    return _device_views(session, list(devices))


def _plan_view(session: Session, plan: ProtectionPlan) -> PlanView:
    payment = session.get(PaymentMethod, plan.payment_method_id) if plan.payment_method_id else None
    return PlanView(
        plan_number=plan.plan_number,
        tier=_tier_option(plan.tier),
        enrolled_on=plan.enrolled_at.date(),
        devices=tuple(_device_views(session, list(plan.devices))),
        payment_method=payment.label if payment else None,
    )


def customer_plans(session: Session, customer_id: int) -> list[PlanView]:
    """The customer's active protection plans, oldest first."""
    plans = session.execute(
        select(ProtectionPlan)
        .where(ProtectionPlan.customer_id == customer_id, ProtectionPlan.status == "active")
        .order_by(ProtectionPlan.enrolled_at, ProtectionPlan.id)
    ).scalars()
    return [_plan_view(session, plan) for plan in plans]


def _plan_row(
    session: Session, customer_id: int, plan_number: str | None, *, lock: bool = False
) -> ProtectionPlan:
    number = normalize_protection_plan_number(plan_number) or find_identifier(
        plan_number, PROTECTION_PLAN_PREFIX
    )
    if number is None and plan_number and re.fullmatch(r"\s*\d{6}\s*", plan_number):
        number = f"{PROTECTION_PLAN_PREFIX}-{plan_number.strip()}"
    plan = None
    if number is not None:
        query = select(ProtectionPlan).where(
            ProtectionPlan.plan_number == number,
            ProtectionPlan.customer_id == customer_id,  # another account's plan is "unknown"
            ProtectionPlan.status == "active",
        )
        if lock:
            query = query.with_for_update()
        plan = session.execute(query).scalar_one_or_none()
    if plan is None:
        # Only a plan number is repeated back; anything else (nothing, a word) is "that plan".
        raise UnknownProtectionPlan(
            f"I can't find an active device protection plan {number} on your account."
            if number
            else "I can't find that device protection plan on your account."
        )
    return plan


def find_protection_plan(session: Session, customer_id: int, plan_number: str | None) -> PlanView:
    """The customer's active plan with this number ('dp300101', '300101' also work)."""
    return _plan_view(session, _plan_row(session, customer_id, plan_number))


def find_tier(session: Session, name_or_code: str | None) -> TierOption | None:
    """'protect plus', 'Plus', 'PROTECT_PREMIUM', 'the premium one' -> the tier; None if none."""
    if not name_or_code or not name_or_code.strip():
        return None
    tiers = list(session.execute(select(ProtectionTier).order_by(ProtectionTier.id)).scalars())
    text = " ".join(name_or_code.lower().replace("_", " ").split())
    code = catalog_code_for("plan_name", text)
    for tier in tiers:
        if code == tier.code or text in (tier.code.lower().replace("_", " "), tier.name.lower()):
            return _tier_option(tier)
    found = [
        tier
        for tier in tiers
        if re.search(rf"\b{re.escape(tier.name.split()[-1].lower())}\b", text)
    ]
    return _tier_option(found[0]) if len(found) == 1 else None


def all_tiers(session: Session) -> list[TierOption]:
    """Every protection tier, cheapest first (a question asked before the device is known)."""
    tiers = session.execute(
        select(ProtectionTier).order_by(ProtectionTier.monthly_price, ProtectionTier.id)
    ).scalars()
    return [_tier_option(tier) for tier in tiers]


def tiers_for(session: Session, device_type: str, value: Decimal | None) -> list[TierOption]:
    """Tiers that fit a device (its type, and its value up to the tier's maximum), cheapest
    first; empty when none does (routers, computers, very expensive devices)."""
    tiers = session.execute(
        select(ProtectionTier).order_by(ProtectionTier.monthly_price, ProtectionTier.id)
    ).scalars()
    return [
        _tier_option(tier)
        for tier in tiers
        if device_type in (tier.device_types or ())
        and (value is None or Decimal(value) <= Decimal(tier.max_device_value))
    ]


def _check_fits(tier: TierOption, tier_row: ProtectionTier, device_type: str, value: Any) -> None:
    label = device_type.replace("_", " ")
    if device_type not in (tier_row.device_types or ()):
        raise DeviceNotEligible(f"{tier.name} doesn't cover a {label}.")
    if Decimal(value) > tier.max_device_value:
        raise DeviceNotEligible(
            f"{tier.name} covers devices worth up to {_usd(tier.max_device_value)}, and this "
            f"one is worth {_usd(Decimal(value))}."
        )


def _tier_row(session: Session, code: str) -> ProtectionTier:
    tier = session.execute(
        select(ProtectionTier).where(ProtectionTier.code == code)
    ).scalar_one_or_none()
    if tier is None:
        raise UnknownTier(f"There is no protection plan called {code!r}.")
    return tier


def contact_on_file(session: Session, customer_id: int) -> ContactOnFile:
    """Masked contact details and the default payment method, for confirming them in chat."""
    customer = _customer(session, customer_id)
    default = session.execute(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        .limit(1)
    ).scalar_one_or_none()
    return ContactOnFile(
        masked_email=mask_email(customer.email),
        masked_phone=mask_phone(customer.phone),
        payment_method=default.label if default else None,
    )


def plan_contact_details(
    session: Session, *, conversation_id: str, customer_id: int, plan_number: str
) -> tuple[PlanView, ContactOnFile]:
    """The contact details a plan's messages go to (masked), logged as checked."""
    plan = find_protection_plan(session, customer_id, plan_number)
    contact = contact_on_file(session, customer_id)
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=CONTACT_LOG_KIND,
        summary=f"Showed the contact details on file for {plan.plan_number}",
        outcome="answered",
    )
    return plan, contact


# --- matching what the customer typed ------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = {"my", "the", "a", "an", "it", "its", "is", "one", "on", "for", "new", "old", "i"}


def match_device(
    devices: Sequence[DeviceView], text: str | None, *, by_type: bool = True
) -> DeviceView | None:
    """The device a customer means ("the pixel", "my ipad", "Galaxy S23", "phone"), only
    when exactly one device fits; `by_type=False` needs the make or model to be named."""
    if not text or not devices:
        return None
    lowered = text.lower()
    words = set(_WORD.findall(lowered)) - _FILLER
    by_model = [
        device
        for device in devices
        if set(_WORD.findall(device.model.lower())) & words
        or device.model.lower() in lowered
        or device.make.lower() in words
    ]
    if len(by_model) == 1:
        return by_model[0]
    if not by_type:
        return None
    wanted = {device_type_for(word) for word in words} | {device_type_for(lowered.strip())}
    by_type = [device for device in devices if device.device_type in wanted]
    return by_type[0] if len(by_type) == 1 else None


def device_type_in(text: str | None) -> str | None:
    """A canonical device type named anywhere in the text ("my new apple watch" -> smartwatch)."""
    if not text:
        return None
    words = _WORD.findall(text.lower())
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            found = device_type_for(" ".join(words[start : start + size]))
            if found:
                return found
    return None


_INCIDENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "theft",
        re.compile(
            r"\b(stol[ea]n|stole|steal|theft|thief|robbed|robbery|snatched|pickpocket\w*)\b"
        ),
    ),
    (
        "accidental_damage",
        re.compile(
            r"\b(accident\w*|dropp?(ed)?|drop|fell|fall(en)?|crack(ed)?|smash(ed)?|shatter(ed)?|"
            r"broke|broken|spill(ed)?|water|wet|liquid|sat on|stepped on|bent|damage[d]?|dent)\b"
        ),
    ),
    (
        "mechanical_failure",
        re.compile(
            r"\b(mechanical|stopped working|won'?t (turn|switch|charge|boot)|doesn'?t (turn|"
            r"charge|boot|work)|not (turning|charging|working)|dead|faulty|fault|malfunction\w*|"
            r"battery|overheat\w*|glitch\w*|freez\w*|crash\w*|speaker|microphone|"
            r"camera (stopped|broke|not)|keeps? restarting|boot ?loop|failure|defect\w*)\b"
        ),
    ),
    ("other", re.compile(r"\b(other|something else|none of (those|these|them)|lost)\b")),
)


def parse_incident_type(text: str | None) -> str | None:
    """'it was stolen' -> theft, 'I dropped it' -> accidental_damage, 'won't charge' ->
    mechanical_failure, 'something else' -> other; None when no type is recognisable."""
    if not text:
        return None
    lowered = " ".join(text.lower().replace("_", " ").split())
    for kind in INCIDENT_TYPES:
        if lowered in (kind.replace("_", " "), INCIDENT_WORDS[kind]):
            return kind
    for kind, pattern in _INCIDENT_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None


_PRE_EXISTING = re.compile(
    r"\b(already (had|was|were|broken|cracked|damaged|there|faulty)|(was|were|been) (there|"
    r"like that|broken|cracked|damaged|faulty) (before|since|when)|existed before|"
    r"pre-?existing|before (i|we) (enrolled|enroll|signed up|joined|got (the )?(protection|"
    r"cover|plan|insurance))|since before|for (months|years|ages) now|has always been|"
    r"had (it|this|that|the problem|the issue) (before|since|for))\b"
)


def says_pre_existing(text: str | None) -> bool:
    """Does the customer say the problem was there before ("it was already cracked when I
    signed up")? Such issues are generally not covered, so the claim is flagged for review."""
    return bool(text and _PRE_EXISTING.search(text.lower()))


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


# --- enrolment ----------------------------------------------------------------------------------


def _next_bill(customer: Customer, today: date) -> date:
    return next_cycle_start(today, customer.billing_cycle_day)


def _default_payment(session: Session, customer_id: int) -> PaymentMethod | None:
    return session.execute(
        select(PaymentMethod)
        .where(PaymentMethod.customer_id == customer_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        .limit(1)
    ).scalar_one_or_none()


def _own_device(session: Session, customer_id: int, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or device.customer_id != customer_id:
        raise DeviceNotEligible("That device isn't on your account.")
    return device


def _check_uncovered(session: Session, device_id: int, label: str) -> None:
    covering = _covering_plans(session, [device_id]).get(device_id)
    if covering:
        raise DeviceNotEligible(f"Your {label} is already protected by {covering}.")


def _new_device_params(device: NewDevice) -> dict[str, Any]:
    return {"type": device.device_type, "make_model": device.make_model, "value": device.value}


def _resolve_device(
    session: Session,
    customer_id: int,
    device_id: int | None,
    new_device: NewDevice | None,
) -> tuple[str, str, Decimal]:
    """(type, label, value) of the device being covered; checks it is not covered already."""
    if device_id is not None:
        device = _own_device(session, customer_id, device_id)
        label = f"{device.make} {device.model}"
        _check_uncovered(session, device.id, label)
        return device.device_type, label, Decimal(device.value)
    if new_device is None:
        raise DeviceNotEligible("Please tell me which device to protect.")
    return new_device.device_type, new_device.make_model, Decimal(new_device.value)


def propose_enrolment(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    tier_code: str,
    device_id: int | None = None,
    new_device: NewDevice | None = None,
    today: date | None = None,
) -> Proposal:
    """Quote an enrolment (device, tier, price, deductible, cover, payment method and contact
    details on file) and store it awaiting the customer's yes."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    tier_row = _tier_row(session, tier_code)
    tier = _tier_option(tier_row)
    device_type, label, value = _resolve_device(session, customer_id, device_id, new_device)
    _check_fits(tier, tier_row, device_type, value)
    payment = _default_payment(session, customer_id)
    if payment is None:
        raise DeviceNotEligible(
            "There's no payment method saved on your account yet. Please add one in your "
            "QuickConnect account on our website or app, then I can enrol your device."
        )
    contact = contact_on_file(session, customer_id)
    summary = (
        f"Enrol your {label} in {tier.name}: {_usd(tier.monthly_price)}/month, "
        f"{_usd(tier.deductible)} deductible per claim, covering {tier.covers_text}. "
        f"Cover starts today; the monthly charge goes on {payment.label} from your bill of "
        f"{format_date(_next_bill(customer, today))}. Plan details go to "
        f"{contact.masked_email} and {contact.masked_phone}."
    )
    params: dict[str, Any] = {"tier_code": tier.code, "payment_method_id": payment.id}
    if device_id is not None:
        params["device_id"] = device_id
    else:
        assert new_device is not None
        params["new_device"] = _new_device_params(new_device)
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ENROL,
        params=params,
        summary=summary,
        amount=tier.monthly_price,
    )
    return Proposal(summary, change)


def _split_make_model(make_model: str) -> tuple[str, str]:
    words = make_model.split()
    if len(words) < 2:
        return "Unknown make", make_model.strip() or "Unknown model"
    return words[0][:80], " ".join(words[1:])[:80]


@changes.register_handler(ENROL)
def apply_enrolment(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `device_protection_enrol`: the device (created if new), a new `DP-` plan on
    the chosen tier, charged to the payment method that was shown; summary email queued."""
    now = utcnow()
    customer = _customer(session, customer_id)
    tier_row = _tier_row(session, str(params["tier_code"]))
    tier = _tier_option(tier_row)
    if params.get("device_id") is not None:
        device = _own_device(session, customer_id, int(params["device_id"]))
        _check_uncovered(session, device.id, f"{device.make} {device.model}")
    else:
        details = params["new_device"]
        make, model = _split_make_model(str(details["make_model"]))
        device = Device(
            customer_id=customer_id,
            device_type=str(details["type"]),
            make=make,
            model=model,
            value=Decimal(str(details["value"])),
            created_at=now,
        )
        session.add(device)
        session.flush()
    label = f"{device.make} {device.model}".replace("Unknown make ", "")
    _check_fits(tier, tier_row, device.device_type, device.value)
    payment = session.get(PaymentMethod, int(params["payment_method_id"]))
    if payment is None or payment.customer_id != customer_id:
        raise DeviceNotEligible("The payment method on file has changed; please start again.")
    plan = ProtectionPlan(
        plan_number=allocate_identifier(
            session, ProtectionPlan, ProtectionPlan.plan_number, PROTECTION_PLAN_PREFIX
        ),
        customer_id=customer_id,
        tier_id=tier_row.id,
        status="active",
        enrolled_at=now,
        payment_method_id=payment.id,
    )
    session.add(plan)
    session.flush()
    session.add(ProtectionPlanDevice(plan_id=plan.id, device_id=device.id, added_at=now))
    session.flush()
    first_bill = _next_bill(customer, now.date())
    body = (
        f"Hi {customer.first_name},\n\nWelcome to QuickConnect device protection.\n\n"
        f"Plan number: {plan.plan_number}\nDevice: {label}\nPlan: {tier.name}, "
        f"{_usd(tier.monthly_price)}/month, charged to {payment.label} from your bill of "
        f"{format_date(first_bill)}\nDeductible: {_usd(tier.deductible)} per claim\n"
        f"Covers: {tier.covers_text}. Pre-existing issues are generally not covered.\n"
        f"Cover started: {format_date(now.date())}\n\n{HOW_TO_SEE_IT} Please quote your plan "
        f"number {plan.plan_number} whenever you contact us about it.\n\n"
        "Thank you for choosing QuickConnect."
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "tier_name": tier.name,
            "monthly_price": tier.monthly_price,
            "deductible": tier.deductible,
            "covers": tier.covers_text,
            "device": label,
            "payment_method": payment.label,
            "first_bill_date": first_bill,
        },
        log_summary=(
            f"Enrolled {label} in {tier.name} ({_usd(tier.monthly_price)}/month) as "
            f"{plan.plan_number}, paid by {payment.label}"
        ),
        notification=("email", f"Your device protection plan {plan.plan_number}", body),
    )


# --- managing a plan ------------------------------------------------------------------------------


def propose_tier_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    tier_code: str,
    today: date | None = None,
) -> Proposal:
    """Upgrade or downgrade: the new price for all devices on the plan, when it applies, and
    any cover that is lost; every device must fit the new tier."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    plan = find_protection_plan(session, customer_id, plan_number)
    tier_row = _tier_row(session, tier_code)
    new = _tier_option(tier_row)
    if new.code == plan.tier.code:
        raise SameTier(f"{plan.plan_number} is already on {new.name}.")
    for device in plan.devices:
        _check_fits(new, tier_row, device.device_type, device.value)
    count = max(len(plan.devices), 1)
    new_total = new.monthly_price * count
    direction = "Upgrade" if new.monthly_price > plan.tier.monthly_price else "Downgrade"
    lost = [kind for kind in plan.tier.covers if kind not in new.covers]
    summary = (
        f"{direction} {plan.plan_number} from {plan.tier.name} ({_usd(plan.monthly_total)}/month)"
        f" to {new.name}: {_usd(new_total)}/month"
        + (f" for {count} devices" if count > 1 else "")
        + f", {_usd(new.deductible)} deductible per claim, covering {new.covers_text}. "
        f"The new cover applies from today and the new price from your bill of "
        f"{format_date(_next_bill(customer, today))}."
    )
    if lost:
        summary += f" {new.name} does not cover {covers_text(lost)}."
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_TIER,
        params={
            "plan_number": plan.plan_number,
            "tier_code": new.code,
            "from_tier_code": plan.tier.code,
        },
        summary=summary,
        amount=new_total,
    )
    return Proposal(summary, change)


@changes.register_handler(CHANGE_TIER)
def apply_tier_change(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    old = _tier_option(plan.tier)
    if params.get("from_tier_code") and old.code != params["from_tier_code"]:
        raise DeviceProtectionError(
            f"{plan.plan_number} has changed since I quoted it; please ask again."
        )
    tier_row = _tier_row(session, str(params["tier_code"]))
    new = _tier_option(tier_row)
    for device in plan.devices:
        _check_fits(new, tier_row, device.device_type, device.value)
    plan.tier_id = tier_row.id
    session.flush()
    session.expire(plan, ["tier"])
    customer = _customer(session, customer_id)
    next_bill = _next_bill(customer, utcnow().date())
    total = new.monthly_price * max(len(plan.devices), 1)
    body = (
        f"Hi {customer.first_name},\n\nYour device protection plan {plan.plan_number} is now "
        f"{new.name} (was {old.name}). It covers {new.covers_text}, with a "
        f"{_usd(new.deductible)} deductible per claim. Your new price of {_usd(total)}/month "
        f"applies from your bill of {format_date(next_bill)}.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "tier_name": new.name,
            "old_tier_name": old.name,
            "monthly_total": total,
            "next_bill_date": next_bill,
        },
        log_summary=f"Changed {plan.plan_number} from {old.name} to {new.name} ({_usd(total)}/mo)",
        notification=("email", f"Your device protection plan {plan.plan_number} changed", body),
    )


def _other_payment_methods(
    session: Session, customer_id: int, current_id: int | None
) -> list[PaymentMethod]:
    return list(
        session.execute(
            select(PaymentMethod)
            .where(PaymentMethod.customer_id == customer_id, PaymentMethod.id != (current_id or 0))
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
        ).scalars()
    )


def propose_payment_method_change(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    method_hint: str | None = None,
) -> Proposal:
    """Charge the plan to another saved payment method ("the mastercard", "ending 8812").
    Card numbers are never taken in chat: a new card is added in the account online."""
    plan_row = _plan_row(session, customer_id, plan_number)
    plan = _plan_view(session, plan_row)
    others = _other_payment_methods(session, customer_id, plan_row.payment_method_id)
    if not others:
        raise PaymentMethodChoiceNeeded(
            f"{plan.plan_number} is paid with {plan.payment_method or 'no payment method'}, and "
            "there's no other payment method saved on your account. For your security I never "
            "take card details in chat: add a new card or bank account in your QuickConnect "
            "account on our website or app, then ask me again to switch the plan to it."
        )
    chosen = others[0] if len(others) == 1 else None
    if method_hint:
        hint_words = set(_WORD.findall(method_hint.lower())) - _FILLER - {"card", "ending", "pay"}
        matches = [m for m in others if hint_words & set(_WORD.findall(m.label.lower()))]
        if len(matches) == 1:
            chosen = matches[0]
    if chosen is None:
        labels = [method.label for method in others]
        raise PaymentMethodChoiceNeeded(
            f"Which saved payment method should {plan.plan_number} use: {_and(labels)}?", labels
        )
    summary = (
        f"Charge {plan.plan_number} ({plan.tier.name}, {_usd(plan.monthly_total)}/month) to "
        f"{chosen.label} instead of {plan.payment_method or 'no payment method'}, from your "
        "next bill."
    )
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=CHANGE_PAYMENT,
        params={"plan_number": plan.plan_number, "payment_method_id": chosen.id},
        summary=summary,
    )
    return Proposal(summary, change)


@changes.register_handler(CHANGE_PAYMENT)
def apply_payment_method_change(
    session: Session, customer_id: int, params: dict[str, Any]
) -> ChangeEffect:
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    method = session.get(PaymentMethod, int(params["payment_method_id"]))
    if method is None or method.customer_id != customer_id:
        raise DeviceProtectionError("That payment method is no longer on your account.")
    old = session.get(PaymentMethod, plan.payment_method_id) if plan.payment_method_id else None
    plan.payment_method_id = method.id
    session.flush()
    customer = _customer(session, customer_id)
    body = (
        f"Hi {customer.first_name},\n\nYour device protection plan {plan.plan_number} is now "
        f"charged to {method.label}"
        + (f" instead of {old.label}" if old else "")
        + f", from your next bill.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={"plan_number": plan.plan_number, "payment_method": method.label},
        log_summary=f"{plan.plan_number} now paid with {method.label}",
        notification=("email", f"Payment method updated for {plan.plan_number}", body),
    )


def propose_add_device(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    device_id: int | None = None,
    new_device: NewDevice | None = None,
    today: date | None = None,
) -> Proposal:
    """Add a device to a plan: it must fit the plan's tier; the plan's price rises by one
    device's tier price from the next bill."""
    today = today or utcnow().date()
    customer = _customer(session, customer_id)
    plan_row = _plan_row(session, customer_id, plan_number)
    plan = _plan_view(session, plan_row)
    device_type, label, value = _resolve_device(session, customer_id, device_id, new_device)
    _check_fits(plan.tier, plan_row.tier, device_type, value)
    new_total = plan.tier.monthly_price * (len(plan.devices) + 1)
    summary = (
        f"Add your {label} to {plan.plan_number} ({plan.tier.name}, covering "
        f"{plan.tier.covers_text}). Cover starts today; the plan's price goes from "
        f"{_usd(plan.monthly_total)} to {_usd(new_total)}/month from your bill of "
        f"{format_date(_next_bill(customer, today))}."
    )
    params: dict[str, Any] = {"plan_number": plan.plan_number}
    if device_id is not None:
        params["device_id"] = device_id
    else:
        assert new_device is not None
        params["new_device"] = _new_device_params(new_device)
    change = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=ADD_DEVICE,
        params=params,
        summary=summary,
        amount=new_total,
    )
    return Proposal(summary, change)


@changes.register_handler(ADD_DEVICE)
def apply_add_device(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    now = utcnow()
    plan = _plan_row(session, customer_id, str(params["plan_number"]), lock=True)
    tier = _tier_option(plan.tier)
    if params.get("device_id") is not None:
        device = _own_device(session, customer_id, int(params["device_id"]))
        _check_uncovered(session, device.id, f"{device.make} {device.model}")
    else:
        details = params["new_device"]
        make, model = _split_make_model(str(details["make_model"]))
        device = Device(
            customer_id=customer_id,
            device_type=str(details["type"]),
            make=make,
            model=model,
            value=Decimal(str(details["value"])),
            created_at=now,
        )
        session.add(device)
        session.flush()
    _check_fits(tier, plan.tier, device.device_type, device.value)
    session.add(ProtectionPlanDevice(plan_id=plan.id, device_id=device.id, added_at=now))
    session.flush()
    session.expire(plan, ["devices"])
    label = f"{device.make} {device.model}".replace("Unknown make ", "")
    total = tier.monthly_price * len(plan.devices)
    customer = _customer(session, customer_id)
    next_bill = _next_bill(customer, now.date())
    body = (
        f"Hi {customer.first_name},\n\nYour {label} is now covered by {plan.plan_number} "
        f"({tier.name}: {tier.covers_text}). The plan now costs {_usd(total)}/month from your "
        f"bill of {format_date(next_bill)}.\n\n{HOW_TO_SEE_IT}"
    )
    return ChangeEffect(
        result={
            "plan_number": plan.plan_number,
            "device": label,
            "monthly_total": total,
            "next_bill_date": next_bill,
        },
        log_summary=f"Added {label} to {plan.plan_number}; now {_usd(total)}/month",
        notification=("email", f"{label} added to {plan.plan_number}", body),
    )


# --- claims -------------------------------------------------------------------------------------


def _claim_view(session: Session, claim: Claim) -> ClaimView:
    plan = session.get(ProtectionPlan, claim.protection_plan_id)
    device = session.get(Device, claim.device_id)
    return ClaimView(
        claim_number=claim.claim_number,
        plan_number=plan.plan_number if plan else "",
        device_label=f"{device.make} {device.model}" if device else "device",
        incident_type=claim.incident_type,
        incident_date=claim.incident_date,
        status=claim.status,
        resolution=claim.resolution,
        resolution_note=claim.resolution_note,
        estimated_decision_date=claim.estimated_decision_date,
        pre_existing=bool(claim.pre_existing),
        filed_on=claim.created_at.date(),
    )


def file_claim(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    plan_number: str,
    device_id: int,
    incident_type: str,
    incident_date: date,
    description: str,
    customer_says_pre_existing: bool = False,
    contact_current: bool | None = None,
    today: date | None = None,
) -> ClaimFiled:
    """Record a claim with its documentation and say when it will be decided.

    Proof of protection is the plan number: the plan must be the customer's and active, and
    the device one it covers (DeviceNotOnPlan otherwise). The claim is `pre_existing` when
    the incident predates the device's cover or the customer says the problem was there
    before. Logged and summarised by email; `contact_current=False` is noted in the log so an
    agent knows the details on file may be out of date.
    """
    now = utcnow()
    today = today or now.date()
    plan = _plan_row(session, customer_id, plan_number)
    link = session.execute(
        select(ProtectionPlanDevice).where(
            ProtectionPlanDevice.plan_id == plan.id, ProtectionPlanDevice.device_id == device_id
        )
    ).scalar_one_or_none()
    if link is None:
        covered = _and([f"{d.make} {d.model}" for d in plan.devices]) or "no devices"
        raise DeviceNotOnPlan(
            f"That device isn't covered by {plan.plan_number}, which covers your {covered}."
        )
    if incident_type not in INCIDENT_TYPES:
        raise InvalidIncident(f"Unknown incident type {incident_type!r}.")
    if incident_date > today:
        raise InvalidIncident("The incident date can't be in the future.")
    description = " ".join((description or "").split())
    if not description:
        raise InvalidIncident("Please describe what happened.")
    covered_since = link.added_at.date()
    pre_existing = customer_says_pre_existing or incident_date < covered_since
    claim = Claim(
        claim_number=allocate_identifier(session, Claim, Claim.claim_number, CLAIM_PREFIX),
        protection_plan_id=plan.id,
        device_id=device_id,
        incident_type=incident_type,
        incident_date=incident_date,
        description=description[:2000],
        pre_existing=pre_existing,
        status="submitted",
        estimated_decision_date=add_business_days(today, REVIEW_BUSINESS_DAYS),
        created_at=now,
    )
    session.add(claim)
    session.flush()
    view = _claim_view(session, claim)
    tier = _tier_option(plan.tier)
    covered_by_tier = incident_type == "other" or incident_type in tier.covers
    contact = contact_on_file(session, customer_id)
    notes = []
    if pre_existing:
        notes.append("flagged pre-existing")
    if not covered_by_tier:
        notes.append(f"{INCIDENT_WORDS[incident_type]} not covered by {tier.name}")
    if contact_current is False:
        notes.append("customer says contact details on file are out of date")
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=CLAIM_LOG_KIND,
        summary=(
            f"Filed {view.claim_number} on {plan.plan_number} for {view.device_label}: "
            f"{INCIDENT_WORDS[incident_type]} on {incident_date.isoformat()}"
            + (f" ({'; '.join(notes)})" if notes else "")
        ),
        outcome="claim_filed",
    )
    customer = _customer(session, customer_id)
    body = (
        f"Hi {customer.first_name},\n\nWe've received your claim {view.claim_number} for your "
        f"{view.device_label} on device protection plan {plan.plan_number}.\n"
        f"Incident: {INCIDENT_WORDS[incident_type]} on {format_date(incident_date)}\n"
        f"What happened: {description}\n\nOur claims team will review it and aim to decide by "
        f"{format_date(view.estimated_decision_date or today)}. The decision will be a repair, "
        f"a replacement or a reimbursement if the claim is approved; a {_usd(tier.deductible)} "
        "deductible applies."
        + (
            " You told us the problem existed before the device was covered: pre-existing "
            "issues are generally not covered, and the review will confirm."
            if pre_existing
            else ""
        )
        + f"\n\nQuote {view.claim_number} to check on it in chat or in your account."
    )
    queue_notification(
        session,
        customer_id=customer_id,
        channel="email",
        to_address=customer.email,
        subject=f"Your claim {view.claim_number} has been received",
        body=body,
    )
    return ClaimFiled(
        claim=view,
        tier_name=tier.name,
        deductible=tier.deductible,
        covered_by_tier=covered_by_tier,
        contact=contact,
    )


def look_up_claim(
    session: Session, *, conversation_id: str, customer_id: int, claim_number: str | None
) -> ClaimView:
    """One of the customer's claims by number ('cl500101' works); UnknownClaim otherwise."""
    number = normalize_claim_number(claim_number) or find_identifier(claim_number, CLAIM_PREFIX)
    claim = None
    if number is not None:
        claim = session.execute(
            select(Claim)
            .join(ProtectionPlan, ProtectionPlan.id == Claim.protection_plan_id)
            .where(Claim.claim_number == number, ProtectionPlan.customer_id == customer_id)
        ).scalar_one_or_none()
    if claim is None:
        raise UnknownClaim(
            f"I can't find a claim {number} on your account."
            if number
            else "I can't find that claim on your account."
        )
    view = _claim_view(session, claim)
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=STATUS_LOG_KIND,
        summary=f"Gave the status of {view.claim_number}: {view.status}",
        outcome="answered",
    )
    return view


def claims_overview(
    session: Session, *, conversation_id: str, customer_id: int, decided_limit: int = 3
) -> ClaimsOverview:
    """The customer's open claims, and the most recently decided ones."""
    claims = session.execute(
        select(Claim)
        .join(ProtectionPlan, ProtectionPlan.id == Claim.protection_plan_id)
        .where(ProtectionPlan.customer_id == customer_id)
        .order_by(Claim.created_at.desc(), Claim.id.desc())
    ).scalars()
    views = [_claim_view(session, claim) for claim in claims]
    overview = ClaimsOverview(
        open_claims=tuple(view for view in views if view.is_open),
        decided_claims=tuple(view for view in views if not view.is_open)[:decided_limit],
    )
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=STATUS_LOG_KIND,
        summary=f"Listed claims: {len(overview.open_claims)} open",
        outcome="answered",
    )
    return overview


def describe_claim(claim: ClaimView) -> str:
    """Customer-facing status of a claim, with the resolution once decided."""
    head = (
        f"{claim.claim_number} ({claim.device_label}, {INCIDENT_WORDS[claim.incident_type]} on "
        f"{format_date(claim.incident_date)}, plan {claim.plan_number})"
    )
    if claim.is_open:
        when = (
            f" We expect a decision by {format_date(claim.estimated_decision_date)}."
            if claim.estimated_decision_date
            else ""
        )
        text = f"{head} is under review.{when}"
        if claim.pre_existing:
            text += (
                " It's flagged as a possible pre-existing issue, which is generally not covered."
            )
        return text
    if claim.status == "approved":
        resolution = RESOLUTION_WORDS.get(claim.resolution or "", "a resolution")
        text = f"{head} was approved: the resolution is {resolution}."
    elif claim.status == "denied":
        text = f"{head} was not approved."
    else:
        text = f"{head} is closed."
    if claim.resolution_note:
        text += f" {claim.resolution_note}"
    return text
