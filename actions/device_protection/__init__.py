"""Device protection guide (guides/device-protection.txt): enrol, manage, claim, claim status.

Flows (each starts after verification, see data/rules/device_protection.yml), one module each:
- enrol (`enrolment`): which device (on the account, or a new one: type, make and model,
  value) -> the tiers that fit it -> summary with price, deductible, cover, payment method and
  contact details on file -> explicit yes (actions/changes.py) -> `DP-` plan, summary emailed.
- manage (`management`): always the plan number first -> what to do: payment method, contact
  details, add a device, upgrade/downgrade -> a proposal and a yes (contact details are shown
  masked and changed by the account-recovery flow, `update_contact_info`).
- claim (`claims`): plan number (proof of protection) -> device on that plan -> incident type,
  date, description -> are the contact details on file current? -> `CL-` claim, review
  timeline, pre-existing issues flagged.
- claim status (`status`): by claim number, or the customer's open and recently decided claims.
`common` holds the forms, slots, the shared form validation and helpers; `questions` the
questions the forms ask with data (device, tier, contact details).

`rasa run actions --actions actions` imports every module of this package and registers
their actions.
"""

from __future__ import annotations

from actions.device_protection.claims import ActionFileClaim, ActionStartClaim, ValidateClaimForm
from actions.device_protection.common import (
    CLAIM_FORM,
    ENROL_FORM,
    FLOW_SLOTS,
    MANAGE_CHOICES,
    MANAGE_FORM,
    NEW_DEVICE,
    PROTECTABLE_TYPES,
    UPDATE_CONTACT_HINT,
    parse_manage_choice,
)
from actions.device_protection.enrolment import (
    ActionProposeEnrolment,
    ActionStartEnrolment,
    ValidateEnrolForm,
)
from actions.device_protection.management import (
    ActionManagePlan,
    ActionStartManage,
    ValidateManageForm,
)
from actions.device_protection.questions import (
    ActionAskContactCurrent,
    ActionAskDevice,
    ActionAskTier,
)
from actions.device_protection.status import ActionClaimStatus

__all__ = [
    "ActionAskContactCurrent",
    "ActionAskDevice",
    "ActionAskTier",
    "ActionClaimStatus",
    "ActionFileClaim",
    "ActionManagePlan",
    "ActionProposeEnrolment",
    "ActionStartClaim",
    "ActionStartEnrolment",
    "ActionStartManage",
    "CLAIM_FORM",
    "ENROL_FORM",
    "FLOW_SLOTS",
    "MANAGE_CHOICES",
    "MANAGE_FORM",
    "NEW_DEVICE",
    "PROTECTABLE_TYPES",
    "UPDATE_CONTACT_HINT",
    "ValidateClaimForm",
    "ValidateEnrolForm",
    "ValidateManageForm",
    "parse_manage_choice",
]
