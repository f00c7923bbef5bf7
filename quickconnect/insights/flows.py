"""The guide flows the lead's funnels follow, and how each step shows in the tracker events.

Why a table: the five guides differ in names (quote vs propose, send a link vs apply) but
walk the same road: the customer asks (started), proves who they are (verified), is shown
what would change (proposed), says yes (confirmed), and the change is made (applied). Each
flow lists the intents, actions and forms that mark its steps; the applied step comes from
the account database (`pending_changes.kind`), which is where a change really happens.
"""

from __future__ import annotations

from dataclasses import dataclass

STEPS = ("started", "verified", "proposed", "confirmed", "applied")
# Agent-facing labels; "left after <label>" says where a customer stopped.
STEP_LABELS = {
    "started": "Started",
    "verified": "Verified",
    "proposed": "Proposed / quoted",
    "confirmed": "Confirmed",
    "applied": "Applied",
}
CONFIRM_ACTION = "action_confirm_change"  # runs after the customer's yes to a proposal
HANDOFF_ACTION = "action_handoff"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_default_fallback"


@dataclass(frozen=True)
class FlowSpec:
    name: str
    label: str
    intents: frozenset[str]  # a user message with one of these starts the flow
    start_actions: frozenset[str]  # ... or one of these actions running
    forms: frozenset[str]  # ... or one of these forms becoming active
    propose_actions: frozenset[str]  # the quote / proposal shown to the customer
    change_kinds: frozenset[str]  # pending_changes.kind values of this flow
    change_kind_prefixes: tuple[str, ...] = ()


FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec(
        "plan_change",
        "Plan change",
        frozenset({"change_plan"}),
        frozenset({"action_start_plan_change"}),
        frozenset({"plan_change_form"}),
        frozenset({"action_quote_plan_change"}),
        frozenset({"plan_change"}),
    ),
    FlowSpec(
        "device_protection",
        "Device protection",
        frozenset({"enroll_device_protection", "manage_device_protection", "file_claim"}),
        frozenset({"action_dp_start_enrolment", "action_dp_start_manage", "action_dp_start_claim"}),
        frozenset({"dp_enrol_form", "dp_manage_form", "dp_claim_form"}),
        frozenset({"action_dp_propose_enrolment", "action_dp_manage", "action_dp_file_claim"}),
        frozenset(),
        ("device_protection_",),
    ),
    FlowSpec(
        "account_recovery",
        "Account recovery",
        frozenset(
            {
                "reset_password",
                "unlock_account",
                "recovery_email_missing",
                "update_security_questions",
                "update_contact_info",
                "forgot_recovery_contact",
            }
        ),
        frozenset(
            {
                "action_start_password_reset",
                "action_start_security_questions",
                "action_start_contact_update",
                "action_check_account_lock",
            }
        ),
        frozenset({"password_reset_form", "security_questions_form", "contact_update_form"}),
        frozenset(
            {
                "action_send_reset_link",
                "action_propose_security_question",
                "action_propose_contact_change",
            }
        ),
        frozenset({"account_unlock", "security_question_reset", "contact_update"}),
    ),
    FlowSpec(
        "subscriptions",
        "Subscriptions",
        frozenset({"add_subscription", "modify_subscription", "cancel_subscription"}),
        frozenset({"action_start_subscription"}),
        frozenset({"subscription_form"}),
        frozenset({"action_quote_subscription"}),
        frozenset(),
        ("subscription_",),
    ),
    FlowSpec(
        "service_cutoffs",
        "Service cut-offs",
        frozenset(
            {"report_service_cutoff", "make_payment", "ask_payment_plan", "request_disconnection"}
        ),
        frozenset({"action_report_cutoff", "action_start_payment_plan"}),
        frozenset({"payment_plan_form"}),
        frozenset(
            {
                "action_propose_payment",
                "action_propose_payment_plan",
                "action_propose_disconnection",
            }
        ),
        frozenset(
            {
                "cutoff_payment",
                "cutoff_payment_link",
                "payment_plan",
                "reinstatement_request",
                "disconnection",
            }
        ),
    ),
)
FLOW_BY_NAME = {flow.name: flow for flow in FLOWS}


def flow_of_change(kind: str) -> str | None:
    """Which guide flow a pending change belongs to (None for a kind no flow claims)."""
    for flow in FLOWS:
        if kind in flow.change_kinds or any(kind.startswith(p) for p in flow.change_kind_prefixes):
            return flow.name
    return None
