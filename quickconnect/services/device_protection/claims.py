"""Claims: filing one against a plan, with a `CL-` number and an estimated decision date."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Claim,
    Device,
    ProtectionPlan,
    ProtectionPlanDevice,
    utcnow,
)
from quickconnect.identifiers import (
    CLAIM_PREFIX,
    allocate_identifier,
)
from quickconnect.services.device_protection.common import (
    CLAIM_LOG_KIND,
    INCIDENT_TYPES,
    INCIDENT_WORDS,
    REVIEW_BUSINESS_DAYS,
    ClaimFiled,
    ClaimView,
    DeviceNotOnPlan,
    InvalidIncident,
    _and,
    _usd,
    format_date,
)
from quickconnect.services.device_protection.lookups import (
    _customer,
    _plan_row,
    _tier_option,
    contact_on_file,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.notifications import queue_notification

# --- claims -------------------------------------------------------------------------------------


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


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
