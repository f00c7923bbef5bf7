"""Violation of terms: the violated term and a reinstatement review by a person."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from quickconnect.db.models import (
    utcnow,
)
from quickconnect.services import changes, handoff
from quickconnect.services.changes import ChangeEffect
from quickconnect.services.service_cutoffs.common import (
    FOLLOW_UP_AFTER_REVIEW,
    REINSTATEMENT_KIND,
    NotSuspendedForTerms,
    ReinstatementProposal,
)
from quickconnect.services.service_cutoffs.lookups import (
    _customer,
    _follow_up,
    _status_row,
    _supersede,
)

# --- terms violation: reinstatement review --------------------------------------------------------


def propose_reinstatement(
    session: Session, *, conversation_id: str, customer_id: int
) -> ReinstatementProposal:
    """After naming the violated term and the steps to fix it: the customer confirms the fix
    and accepts the policy, and a person reviews the account for reinstatement."""
    status = _status_row(session, customer_id)
    if status.status != "suspended" or status.cutoff_reason != "terms_violation":
        raise NotSuspendedForTerms("Your service isn't suspended for a terms violation.")
    term = status.violated_term or "our terms of service"
    steps = status.remediation_steps or "Stop the activity that breaches the terms."
    summary = (
        f"You confirm you have put right the breach of {term.split(':')[0]} as described, and "
        "you accept the Acceptable Use Policy; I'll open a case for our team to review your "
        "account and restore the service"
    )
    _supersede(session, conversation_id, customer_id)
    proposed = changes.propose_change(
        session,
        conversation_id=conversation_id,
        customer_id=customer_id,
        kind=REINSTATEMENT_KIND,
        params={"conversation_id": conversation_id, "violated_term": term},
        summary=summary + ".",
    )
    return ReinstatementProposal(term, steps, summary + ".", proposed)


@changes.register_handler(REINSTATEMENT_KIND)
def apply_reinstatement(session: Session, customer_id: int, params: dict[str, Any]) -> ChangeEffect:
    """Handler for `reinstatement_request`: a `CS-` case for a person (reinstatement is a
    person's decision), with a follow-up message once the review should be done."""
    now = utcnow()
    customer = _customer(session, customer_id, lock=True)
    status = _status_row(session, customer_id)
    if status.status != "suspended" or status.cutoff_reason != "terms_violation":
        raise NotSuspendedForTerms("Your service isn't suspended for a terms violation any more.")
    term = str(params.get("violated_term") or status.violated_term or "the terms of service")
    case = handoff.open_case(
        session,
        conversation_id=str(params["conversation_id"]),
        customer_id=customer_id,
        reason="guide_escalation",
        summary=f"Reinstatement review after a terms-violation suspension ({term}). The "
        "customer confirmed in chat that the breach is put right and accepted the Acceptable "
        "Use Policy.",
        live_chat=False,  # a review by the team, not a live chat: the customer is followed up
    )
    follow_up = _follow_up(
        session,
        customer,
        now + FOLLOW_UP_AFTER_REVIEW,
        f"Your reinstatement review (case {case.case_number})",
        f"Hi {customer.first_name}, we're checking on the review of your account under case "
        f"{case.case_number}. If your service isn't back yet, reply to this message or chat "
        "with us and quote the case number.",
    )
    body = (
        f"Hi {customer.first_name},\n\nThank you for confirming that the breach of {term} has "
        "been put right and for accepting our Acceptable Use Policy. Our team will review your "
        f"account under case {case.case_number}; after the review, service is restored within "
        "24 hours.\n\nQuickConnect"
    )
    return ChangeEffect(
        result={
            "case_number": case.case_number,
            "agents_online": case.agents_online,
            "expected_wait_minutes": case.expected_wait_minutes,
            "follow_up_at": follow_up.due_at,
            "follow_up_channel": follow_up.channel,
            "summary": f"Reinstatement review requested (case {case.case_number}).",
        },
        log_summary=f"Customer accepted the Acceptable Use Policy after a suspension for {term}; "
        f"reinstatement review case {case.case_number} opened",
        notification=("email", f"Your reinstatement review: case {case.case_number}", body),
    )
