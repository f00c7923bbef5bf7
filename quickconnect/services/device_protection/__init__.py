"""Device protection (guides/device-protection.txt), minus the chat.

One module a step of the guide:

- Enrolment (`enrolment`): the devices on the account (`customer_devices`) or a new one
  (`NewDevice`), the tiers that fit it (`tiers_for`), the contact details and payment method
  on file (`contact_on_file`), then an explicit yes through the shared propose/confirm
  mechanism (`propose_enrolment`; the `device_protection_enrol` handler creates the `DP-` plan
  and queues the plan summary).
- Managing a plan, always by its plan number (`management`): switch the payment method to
  another saved one, add a device, upgrade or downgrade the tier (each proposed and confirmed
  like every account change); contact details are shown masked (`plan_contact_details`) and
  changed by the account-recovery flow (`update_contact_info`).
- Claims (`claims.file_claim`): proof of protection (plan number), the device, incident type
  and date, a description; a `CL-` number, an estimated decision date, and the `pre_existing`
  flag when the incident predates the device's enrolment or the customer says the problem
  was there before. Filing is a report, not an account change: no consent, but logged and
  summarised by email.
- Claim status (`claim_status`): the status, the estimated decision date, and once decided
  the resolution (repair, replacement or reimbursement).
`common` holds the kinds, errors and results; `lookups` the devices, plans, tiers and contact
details the steps read; `matching` reads what the customer typed.

Pricing: a tier's monthly price is per covered device, so a plan costs the tier price times
its devices; the deductible is per claim. A price change applies from the next bill.

Importing this package imports every handler, so import it wherever `changes.confirm_change`
may see one of its change kinds (the action server does), otherwise they are not registered.
"""

from __future__ import annotations

from quickconnect.services.device_protection.claim_status import (
    claims_overview,
    describe_claim,
    look_up_claim,
)
from quickconnect.services.device_protection.claims import add_business_days, file_claim
from quickconnect.services.device_protection.common import (
    ADD_DEVICE,
    CHANGE_PAYMENT,
    CHANGE_TIER,
    CLAIM_LOG_KIND,
    CONTACT_LOG_KIND,
    ENROL,
    HOW_TO_SEE_IT,
    INCIDENT_TYPES,
    INCIDENT_WORDS,
    OPEN_CLAIM_STATUSES,
    RESOLUTION_WORDS,
    REVIEW_BUSINESS_DAYS,
    STATUS_LOG_KIND,
    ClaimFiled,
    ClaimsOverview,
    ClaimView,
    ContactOnFile,
    DeviceNotEligible,
    DeviceNotOnPlan,
    DeviceProtectionError,
    DeviceView,
    InvalidIncident,
    NewDevice,
    PaymentMethodChoiceNeeded,
    PlanView,
    Proposal,
    SameTier,
    TierOption,
    UnknownClaim,
    UnknownProtectionPlan,
    UnknownTier,
    covers_text,
    format_date,
)
from quickconnect.services.device_protection.enrolment import apply_enrolment, propose_enrolment
from quickconnect.services.device_protection.lookups import (
    all_tiers,
    contact_on_file,
    customer_devices,
    customer_plans,
    find_protection_plan,
    find_tier,
    plan_contact_details,
    tiers_for,
)
from quickconnect.services.device_protection.management import (
    apply_add_device,
    apply_payment_method_change,
    apply_tier_change,
    propose_add_device,
    propose_payment_method_change,
    propose_tier_change,
)
from quickconnect.services.device_protection.matching import (
    device_type_in,
    match_device,
    parse_incident_type,
    says_pre_existing,
)

__all__ = [
    "ADD_DEVICE",
    "CHANGE_PAYMENT",
    "CHANGE_TIER",
    "CLAIM_LOG_KIND",
    "CONTACT_LOG_KIND",
    "ClaimFiled",
    "ClaimView",
    "ClaimsOverview",
    "ContactOnFile",
    "DeviceNotEligible",
    "DeviceNotOnPlan",
    "DeviceProtectionError",
    "DeviceView",
    "ENROL",
    "HOW_TO_SEE_IT",
    "INCIDENT_TYPES",
    "INCIDENT_WORDS",
    "InvalidIncident",
    "NewDevice",
    "OPEN_CLAIM_STATUSES",
    "PaymentMethodChoiceNeeded",
    "PlanView",
    "Proposal",
    "RESOLUTION_WORDS",
    "REVIEW_BUSINESS_DAYS",
    "STATUS_LOG_KIND",
    "SameTier",
    "TierOption",
    "UnknownClaim",
    "UnknownProtectionPlan",
    "UnknownTier",
    "add_business_days",
    "all_tiers",
    "apply_add_device",
    "apply_enrolment",
    "apply_payment_method_change",
    "apply_tier_change",
    "claims_overview",
    "contact_on_file",
    "covers_text",
    "customer_devices",
    "customer_plans",
    "describe_claim",
    "device_type_in",
    "file_claim",
    "find_protection_plan",
    "find_tier",
    "format_date",
    "look_up_claim",
    "match_device",
    "parse_incident_type",
    "plan_contact_details",
    "propose_add_device",
    "propose_enrolment",
    "propose_payment_method_change",
    "propose_tier_change",
    "says_pre_existing",
    "tiers_for",
]
