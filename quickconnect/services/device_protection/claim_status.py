"""Claim status: one claim by its number, a customer's claims, and how to say either."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Claim,
    ProtectionPlan,
)
from quickconnect.identifiers import (
    CLAIM_PREFIX,
    find_identifier,
    normalize_claim_number,
)
from quickconnect.services.device_protection.claims import _claim_view
from quickconnect.services.device_protection.common import (
    INCIDENT_WORDS,
    RESOLUTION_WORDS,
    STATUS_LOG_KIND,
    ClaimsOverview,
    ClaimView,
    UnknownClaim,
    format_date,
)
from quickconnect.services.interactions import log_interaction


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
