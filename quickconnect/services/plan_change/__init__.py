"""Changing a customer's service plan (plan-change guide), minus the chat.

One module a step of the guide: discuss options (`options`: `recommend_plans`, `parse_need`,
`find_plan`), quote the exact change with its prorated amount (`quoting`: `quote_plan_change`),
get an explicit yes through the shared propose/confirm mechanism (`propose_plan_change`, then
`changes.confirm_change`, which runs the `plan_change` handler), apply it now or on a
requested future date (`applying`: `apply_due_plan_changes`, run by `quickconnect.jobs`), and
answer "can I go back to my old plan?" (`reverting`: `previous_plan`). `common` holds the
kind, errors, results, formatting and plan lookups the steps share.

Proration: a change effective on day D of a billing cycle of N days with R days left
(counting D itself) adds (new price - current price) * R / N to that cycle's bill, rounded
half-up to cents: positive is a charge, negative a credit. Each change prorates from the plan
active at that moment, so several changes in one cycle add up correctly. The convention for
whoever totals a bill: a cycle costs the monthly price of the plan it began with (before any
change effective on its first day) plus the prorated amounts of the changes in it, so a change
on the first day prorates the full difference. There is never a change fee (guide FAQ).

Importing this package registers the handler: import it wherever `changes.confirm_change` may
see a `plan_change` (the action server does), otherwise the handler is not registered.
"""

from __future__ import annotations

from quickconnect.services.plan_change.applying import apply_due_plan_changes, apply_plan_change
from quickconnect.services.plan_change.common import (
    CENTS,
    CHANGE_FEE,
    CHANGE_KIND,
    MAX_DAYS_AHEAD,
    NEEDS,
    InvalidEffectiveDate,
    PlanChangeError,
    PlanChangeNotVisible,
    PlanChangeQuote,
    PlanChangeQuoteStale,
    PlanNotOffered,
    PlanOption,
    PlanRef,
    RevertOption,
    SameAsCurrentPlan,
    UnknownPlan,
    format_date,
)
from quickconnect.services.plan_change.common import _cents as _cents
from quickconnect.services.plan_change.options import find_plan, parse_need, recommend_plans
from quickconnect.services.plan_change.quoting import propose_plan_change, quote_plan_change
from quickconnect.services.plan_change.reverting import previous_plan
from quickconnect.services.plans import current_plan as current_plan

__all__ = [
    "CENTS",
    "CHANGE_FEE",
    "CHANGE_KIND",
    "InvalidEffectiveDate",
    "MAX_DAYS_AHEAD",
    "NEEDS",
    "PlanChangeError",
    "PlanChangeNotVisible",
    "PlanChangeQuote",
    "PlanChangeQuoteStale",
    "PlanNotOffered",
    "PlanOption",
    "PlanRef",
    "RevertOption",
    "SameAsCurrentPlan",
    "UnknownPlan",
    "apply_due_plan_changes",
    "apply_plan_change",
    "find_plan",
    "format_date",
    "parse_need",
    "previous_plan",
    "propose_plan_change",
    "quote_plan_change",
    "recommend_plans",
]
