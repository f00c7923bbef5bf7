"""Service cut-offs guide (guides/service-cutoffs.txt) and follow-ups on cases and tickets.
One module a step of the guide:

- identify the reason and inform the customer (`diagnosis`): verify -> the reason found on the
  account (the customer does not have to know it) -> explained with empathy, with the solution
  the service has set up for it;
- provide a solution, by reason: non-payment, a payment with the method on file or a secure
  payment link when there is none (`payments`), or a payment plan (`payment_plans`); violation
  of terms, the violated term with the steps to fix it and a reinstatement review by a person
  (`reinstatement`); requested disconnection, its details or a new one (`disconnection`);
  technical issues, a `TK-` ticket with an estimated fix time (told with the report);
- every change waits for an explicit yes (actions/changes.py), then a follow-up message is
  scheduled and the customer is told when; `check_case_status` answers on `CS-` cases and
  `TK-` tickets of the verified customer (`follow_ups`).
`common` holds what their messages share (dates, the contact we follow up on, two sentences).

`rasa run actions --actions actions` imports every module of this package and registers their
actions; importing the package also registers each change's confirmation text.
"""

from __future__ import annotations

# No action of its own: imported for the confirmation text it registers.
from actions.service_cutoffs import reinstatement  # noqa: F401
from actions.service_cutoffs.diagnosis import ActionReportCutoff, explain_report
from actions.service_cutoffs.disconnection import ActionProposeDisconnection
from actions.service_cutoffs.follow_ups import ActionCheckCaseStatus
from actions.service_cutoffs.payment_plans import (
    NO_PLAN,
    ActionProposePaymentPlan,
    ActionStartPaymentPlan,
    ValidatePaymentPlanForm,
    parse_installments,
)
from actions.service_cutoffs.payments import ActionProposePayment

__all__ = [
    "NO_PLAN",
    "ActionCheckCaseStatus",
    "ActionProposeDisconnection",
    "ActionProposePayment",
    "ActionProposePaymentPlan",
    "ActionReportCutoff",
    "ActionStartPaymentPlan",
    "ValidatePaymentPlanForm",
    "explain_report",
    "parse_installments",
]
