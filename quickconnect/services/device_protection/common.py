"""Change kinds, errors, results and formatting shared by the device protection steps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from quickconnect.services.changes import ProposedChange

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
