"""Device protection: enrolment, managing a plan, claims and claim status, on real databases."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.services import changes
from quickconnect.services import device_protection as dp
from quickconnect.services.device_protection import (
    DeviceNotEligible,
    DeviceNotOnPlan,
    InvalidIncident,
    NewDevice,
    PaymentMethodChoiceNeeded,
    SameTier,
    UnknownClaim,
    UnknownProtectionPlan,
)

ALICE = "QC-100001"  # DP-300101 (Protect Plus, Pixel 8), claims CL-500101 open, CL-500102 decided
INES = "QC-100009"  # Galaxy S23 and iPad Air on file, no protection
HIRO = "QC-100008"  # no devices


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _confirm(session: Session, conversation_id: str, proposal: dp.Proposal) -> dict[str, Any]:
    outcome = changes.confirm_change(
        session,
        conversation_id=conversation_id,
        change_id=proposal.change.change_id,
        consent_text=f"yes - {proposal.summary}",
    )
    assert outcome.status == "applied"
    return outcome.result or {}


def _device(session: Session, customer: m.Customer, model: str) -> m.Device:
    return session.execute(
        select(m.Device).where(m.Device.customer_id == customer.id, m.Device.model == model)
    ).scalar_one()


# --- lookups ----------------------------------------------------------------------------------


def test_alice_plan_and_devices(session: Session) -> None:
    alice = _customer(session, ALICE)
    (plan,) = dp.customer_plans(session, alice.id)
    assert plan.plan_number == "DP-300101"
    assert plan.tier.name == "Protect Plus"
    assert plan.device_labels == "Google Pixel 8"
    assert plan.payment_method == "Visa ending 4242"
    assert plan.monthly_total == Decimal("12.00")
    (device,) = dp.customer_devices(session, alice.id)
    assert device.protection_plan_number == "DP-300101"
    # loose spellings of the plan number
    for typed in ("dp300101", "DP 300101", "300101", "my plan is dp-300101"):
        assert dp.find_protection_plan(session, alice.id, typed).plan_number == "DP-300101"


def test_a_plan_of_another_account_is_unknown(session: Session) -> None:
    ines = _customer(session, INES)
    with pytest.raises(UnknownProtectionPlan, match="DP-300101"):
        dp.find_protection_plan(session, ines.id, "DP-300101")
    with pytest.raises(UnknownProtectionPlan):
        dp.find_protection_plan(session, ines.id, "DP-999999")


def test_tiers_fit_the_device_type_and_value(session: Session) -> None:
    names = [t.name for t in dp.tiers_for(session, "phone", Decimal("699"))]
    assert names == ["Protect Basic", "Protect Plus", "Protect Premium"]
    watch = [t.name for t in dp.tiers_for(session, "smartwatch", Decimal("399"))]
    assert watch == ["Protect Basic", "Protect Plus"]  # Premium does not take watches
    assert [t.name for t in dp.tiers_for(session, "laptop", Decimal("2000"))] == ["Protect Premium"]
    assert dp.tiers_for(session, "router", Decimal("100")) == []
    plus = dp.find_tier(session, "protect plus")
    assert plus is not None and plus.covers_text == (
        "accidental damage, mechanical failure and theft"
    )
    assert dp.find_tier(session, "the premium one").name == "Protect Premium"  # type: ignore[union-attr]
    assert dp.find_tier(session, "gold") is None


def test_matching_devices_incidents_and_pre_existing_wording(session: Session) -> None:
    ines = _customer(session, INES)
    devices = dp.customer_devices(session, ines.id)
    assert dp.match_device(devices, "the galaxy").model == "Galaxy S23"  # type: ignore[union-attr]
    assert dp.match_device(devices, "my ipad").model == "iPad Air"  # type: ignore[union-attr]
    assert dp.match_device(devices, "phone").model == "Galaxy S23"  # type: ignore[union-attr]
    assert dp.match_device(devices, "my laptop") is None
    assert dp.device_type_in("a new apple watch") == "smartwatch"
    assert dp.parse_incident_type("someone stole it on the bus") == "theft"
    assert dp.parse_incident_type("I dropped it and the screen cracked") == "accidental_damage"
    assert dp.parse_incident_type("it won't charge any more") == "mechanical_failure"
    assert dp.parse_incident_type("Mechanical failure") == "mechanical_failure"
    assert dp.parse_incident_type("something else") == "other"
    assert dp.parse_incident_type("hmm") is None
    assert dp.says_pre_existing("the screen was already cracked when I signed up")
    assert dp.says_pre_existing("honestly the problem existed before")
    assert not dp.says_pre_existing("I dropped it yesterday")
    assert dp.add_business_days(date(2026, 11, 20), 5) == date(2026, 11, 27)  # Fri -> Fri


# --- enrolment --------------------------------------------------------------------------------


def test_enrol_a_device_on_file_after_a_yes(session: Session, conversation_id: str) -> None:
    ines = _customer(session, INES)
    galaxy = _device(session, ines, "Galaxy S23")
    proposal = dp.propose_enrolment(
        session,
        conversation_id=conversation_id,
        customer_id=ines.id,
        tier_code="PROTECT_PLUS",
        device_id=galaxy.id,
    )
    assert "Enrol your Samsung Galaxy S23 in Protect Plus: $12.00/month" in proposal.summary
    assert "$49.00 deductible per claim" in proposal.summary
    assert "Visa ending 9090" in proposal.summary
    assert "i***@example.com" in proposal.summary and "0009" in proposal.summary
    assert _count(session, m.ProtectionPlan, customer_id=ines.id) == 0  # nothing before the yes

    result = _confirm(session, conversation_id, proposal)
    assert re.fullmatch(r"DP-\d{6}", result["plan_number"])
    plan = session.execute(
        select(m.ProtectionPlan).where(m.ProtectionPlan.plan_number == result["plan_number"])
    ).scalar_one()
    assert (plan.customer_id, plan.status, plan.tier.code) == (ines.id, "active", "PROTECT_PLUS")
    assert [d.model for d in plan.devices] == ["Galaxy S23"]
    card = session.get(m.PaymentMethod, plan.payment_method_id)
    assert card is not None and card.label == "Visa ending 9090"
    assert _count(session, m.ConsentRecord, customer_id=ines.id, change_kind=dp.ENROL) == 1
    email = session.execute(
        select(m.NotificationOutbox).where(m.NotificationOutbox.customer_id == ines.id)
    ).scalar_one()
    assert result["plan_number"] in email.subject and email.to_address == ines.email
    assert "website" in email.body and "app" in email.body

    # The same device cannot be enrolled twice.
    with pytest.raises(DeviceNotEligible, match="already protected"):
        dp.propose_enrolment(
            session,
            conversation_id=conversation_id,
            customer_id=ines.id,
            tier_code="PROTECT_BASIC",
            device_id=galaxy.id,
        )


def test_enrol_a_new_device_creates_it(session: Session, conversation_id: str) -> None:
    alice = _customer(session, ALICE)
    proposal = dp.propose_enrolment(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        tier_code="PROTECT_PREMIUM",
        new_device=NewDevice("laptop", "Apple MacBook Air", Decimal("1299.00")),
    )
    assert proposal.change.amount == Decimal("17.00")
    result = _confirm(session, conversation_id, proposal)
    device = _device(session, alice, "MacBook Air")
    assert (device.make, device.device_type, device.value) == ("Apple", "laptop", Decimal("1299"))
    assert dp.find_protection_plan(session, alice.id, result["plan_number"]).device_labels == (
        "Apple MacBook Air"
    )


def test_enrolment_refuses_a_device_the_tier_does_not_fit(
    session: Session, conversation_id: str
) -> None:
    alice = _customer(session, ALICE)
    with pytest.raises(DeviceNotEligible, match="up to \\$800.00"):
        dp.propose_enrolment(
            session,
            conversation_id=conversation_id,
            customer_id=alice.id,
            tier_code="PROTECT_BASIC",
            new_device=NewDevice("phone", "Apple iPhone 16 Pro", Decimal("1199")),
        )
    with pytest.raises(DeviceNotEligible, match="doesn't cover a smartwatch"):
        dp.propose_enrolment(
            session,
            conversation_id=conversation_id,
            customer_id=alice.id,
            tier_code="PROTECT_PREMIUM",
            new_device=NewDevice("smartwatch", "Apple Watch", Decimal("399")),
        )


def test_enrolment_declined_changes_nothing(session: Session, conversation_id: str) -> None:
    ines = _customer(session, INES)
    proposal = dp.propose_enrolment(
        session,
        conversation_id=conversation_id,
        customer_id=ines.id,
        tier_code="PROTECT_BASIC",
        device_id=_device(session, ines, "iPad Air").id,
    )
    changes.cancel_change(
        session, conversation_id=conversation_id, change_id=proposal.change.change_id
    )
    assert _count(session, m.ProtectionPlan, customer_id=ines.id) == 0
    assert _count(session, m.ConsentRecord, customer_id=ines.id) == 0


# --- managing a plan ----------------------------------------------------------------------------


def test_upgrade_then_downgrade_quote_the_new_price_and_when(
    session: Session, conversation_id: str
) -> None:
    alice = _customer(session, ALICE)
    proposal = dp.propose_tier_change(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        plan_number="DP-300101",
        tier_code="PROTECT_PREMIUM",
    )
    assert proposal.summary.startswith(
        "Upgrade DP-300101 from Protect Plus ($12.00/month) to Protect Premium: $17.00/month"
    )
    assert "new price from your bill of" in proposal.summary
    result = _confirm(session, conversation_id, proposal)
    assert result["tier_name"] == "Protect Premium"
    assert dp.find_protection_plan(session, alice.id, "DP-300101").tier.code == "PROTECT_PREMIUM"

    down = dp.propose_tier_change(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        plan_number="DP-300101",
        tier_code="PROTECT_BASIC",
    )
    assert down.summary.startswith("Downgrade DP-300101")
    assert "Protect Basic does not cover theft" in down.summary
    with pytest.raises(SameTier):
        dp.propose_tier_change(
            session,
            conversation_id=conversation_id,
            customer_id=alice.id,
            plan_number="DP-300101",
            tier_code="PROTECT_PREMIUM",
        )
    assert _count(session, m.ConsentRecord, customer_id=alice.id, change_kind=dp.CHANGE_TIER) == 1


def test_switch_the_plan_to_another_saved_payment_method(
    session: Session, conversation_id: str
) -> None:
    alice = _customer(session, ALICE)
    proposal = dp.propose_payment_method_change(
        session, conversation_id=conversation_id, customer_id=alice.id, plan_number="dp300101"
    )
    assert "to Mastercard ending 8812 instead of Visa ending 4242" in proposal.summary
    _confirm(session, conversation_id, proposal)
    assert dp.find_protection_plan(session, alice.id, "DP-300101").payment_method == (
        "Mastercard ending 8812"
    )
    # Back again: now the Visa is the only other saved method.
    back = dp.propose_payment_method_change(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        plan_number="DP-300101",
        method_hint="the visa",
    )
    assert "to Visa ending 4242" in back.summary


def test_no_other_saved_payment_method_points_to_the_account(
    session: Session, conversation_id: str
) -> None:
    ines = _customer(session, INES)
    proposal = dp.propose_enrolment(
        session,
        conversation_id=conversation_id,
        customer_id=ines.id,
        tier_code="PROTECT_BASIC",
        device_id=_device(session, ines, "iPad Air").id,
    )
    number = _confirm(session, conversation_id, proposal)["plan_number"]
    with pytest.raises(PaymentMethodChoiceNeeded, match="never take card details in chat"):
        dp.propose_payment_method_change(
            session, conversation_id=conversation_id, customer_id=ines.id, plan_number=number
        )


def test_add_a_device_to_a_plan(session: Session, conversation_id: str) -> None:
    alice = _customer(session, ALICE)
    proposal = dp.propose_add_device(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        plan_number="DP-300101",
        new_device=NewDevice("tablet", "Apple iPad mini", Decimal("499")),
    )
    assert "price goes from $12.00 to $24.00/month" in proposal.summary
    result = _confirm(session, conversation_id, proposal)
    assert result["monthly_total"] == "24.00"
    plan = dp.find_protection_plan(session, alice.id, "DP-300101")
    assert plan.device_labels == "Google Pixel 8 and Apple iPad mini"
    assert plan.monthly_total == Decimal("24.00")


def test_contact_details_are_shown_masked_and_logged(
    session: Session, conversation_id: str
) -> None:
    alice = _customer(session, ALICE)
    plan, contact = dp.plan_contact_details(
        session, conversation_id=conversation_id, customer_id=alice.id, plan_number="DP-300101"
    )
    assert plan.plan_number == "DP-300101"
    assert (contact.masked_email, contact.masked_phone) == ("a***@example.com", "•••-•••-0001")
    assert _count(session, m.InteractionLog, conversation_id=conversation_id) == 1


# --- claims -------------------------------------------------------------------------------------


def _file(session: Session, conversation_id: str, **overrides: Any) -> dp.ClaimFiled:
    alice = _customer(session, ALICE)
    pixel = _device(session, alice, "Pixel 8")
    today = date.today()
    args: dict[str, Any] = {
        "conversation_id": conversation_id,
        "customer_id": alice.id,
        "plan_number": "DP-300101",
        "device_id": pixel.id,
        "incident_type": "theft",
        "incident_date": today - timedelta(days=1),
        "description": "Stolen from my bag on the train.",
        "today": today,
    }
    args.update(overrides)
    return dp.file_claim(session, **args)


def test_file_a_claim(session: Session, conversation_id: str) -> None:
    filed = _file(session, conversation_id)
    claim = filed.claim
    assert re.fullmatch(r"CL-\d{6}", claim.claim_number)
    assert (claim.status, claim.pre_existing, claim.incident_type) == ("submitted", False, "theft")
    assert claim.estimated_decision_date == dp.add_business_days(date.today(), 5)
    assert filed.covered_by_tier and filed.deductible == Decimal("49.00")
    assert filed.contact.masked_email == "a***@example.com"
    row = session.execute(
        select(m.Claim).where(m.Claim.claim_number == claim.claim_number)
    ).scalar_one()
    assert row.description == "Stolen from my bag on the train."
    assert _count(session, m.InteractionLog, conversation_id=conversation_id) == 1
    alice_id = _customer(session, ALICE).id
    subjects = session.execute(
        select(m.NotificationOutbox.subject).where(m.NotificationOutbox.customer_id == alice_id)
    ).scalars()
    assert any(claim.claim_number in s for s in subjects)
    assert _count(session, m.ConsentRecord, customer_id=alice_id) == 0  # a report, not a change


def test_incident_before_enrolment_is_pre_existing(session: Session, conversation_id: str) -> None:
    filed = _file(
        session,
        conversation_id,
        incident_type="accidental_damage",
        incident_date=date.today() - timedelta(days=300),  # enrolled 243 days ago
        description="Screen cracked.",
    )
    assert filed.claim.pre_existing
    said = _file(session, conversation_id, customer_says_pre_existing=True, incident_type="other")
    assert said.claim.pre_existing


def test_claim_refusals(session: Session, conversation_id: str) -> None:
    ines = _customer(session, INES)
    with pytest.raises(DeviceNotOnPlan, match="covers your Google Pixel 8"):
        _file(session, conversation_id, device_id=_device(session, ines, "iPad Air").id)
    with pytest.raises(UnknownProtectionPlan):
        _file(session, conversation_id, plan_number="DP-123456")
    with pytest.raises(InvalidIncident):
        _file(session, conversation_id, incident_date=date.today() + timedelta(days=2))
    with pytest.raises(InvalidIncident):
        _file(session, conversation_id, incident_type="alien_attack")
    assert _count(session, m.Claim) == 2  # only the two seeded claims


def test_claim_status_by_number_and_overview(session: Session, conversation_id: str) -> None:
    alice = _customer(session, ALICE)
    open_claim = dp.look_up_claim(
        session, conversation_id=conversation_id, customer_id=alice.id, claim_number="cl500101"
    )
    assert open_claim.is_open and "is under review" in dp.describe_claim(open_claim)
    decided = dp.look_up_claim(
        session, conversation_id=conversation_id, customer_id=alice.id, claim_number="CL-500102"
    )
    text = dp.describe_claim(decided)
    assert "was approved: the resolution is a replacement device" in text
    overview = dp.claims_overview(session, conversation_id=conversation_id, customer_id=alice.id)
    assert [c.claim_number for c in overview.open_claims] == ["CL-500101"]
    assert [c.claim_number for c in overview.decided_claims] == ["CL-500102"]
    ines = _customer(session, INES)
    with pytest.raises(UnknownClaim):
        dp.look_up_claim(
            session, conversation_id=conversation_id, customer_id=ines.id, claim_number="CL-500101"
        )
    assert _count(session, m.InteractionLog, conversation_id=conversation_id) == 3
