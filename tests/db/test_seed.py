"""The seed: catalog from quickconnect/catalog.py, the ten demo accounts, idempotence."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quickconnect import catalog
from quickconnect.db import models as m
from quickconnect.identifiers import verify_answer, verify_secret
from quickconnect.seed import DEMO_AGENT_PASSWORD, DEMO_CUSTOMERS, seed, table_counts


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _one(session: Session, model: type[Any], **criteria: Any) -> Any:
    return session.execute(select(model).filter_by(**criteria)).scalar_one()


def test_seeding_again_changes_nothing(connection: Connection, session: Session) -> None:
    writes: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(statement)

    before = table_counts(session)
    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        seed(session)
        session.flush()
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    assert table_counts(session) == before
    assert writes == []
    assert before["customers"] == len(DEMO_CUSTOMERS) == 10


def test_catalog_matches_catalog_module(session: Session) -> None:
    plans = {plan.code: plan for plan in session.execute(select(m.ServicePlan)).scalars()}
    assert set(plans) == {spec.code for spec in catalog.PLANS}
    for spec in catalog.PLANS:
        plan = plans[spec.code]
        assert (plan.name, plan.monthly_price, plan.data_gb, plan.minutes) == (
            spec.name, spec.monthly_price, spec.data_gb, spec.minutes,
        )  # fmt: skip
        assert plan.features == list(spec.features) and plan.offered == spec.offered
    tiers = {tier.code: tier for tier in session.execute(select(m.AddonTier)).scalars()}
    assert set(tiers) == {tier.code for addon in catalog.ADDONS for tier in addon.tiers}
    for addon in catalog.ADDONS:
        row = _one(session, m.AddonService, code=addon.code)
        assert (row.name, row.activation_hours, row.cancellation_fee, row.terms) == (
            addon.name, addon.activation_hours, addon.cancellation_fee, addon.terms,
        )  # fmt: skip
        for tier in addon.tiers:
            assert tiers[tier.code].addon_id == row.id
            assert tiers[tier.code].monthly_price == tier.monthly_price
    protection = {t.code: t for t in session.execute(select(m.ProtectionTier)).scalars()}
    assert set(protection) == {tier.code for tier in catalog.PROTECTION_TIERS}
    assert protection["PROTECT_PLUS"].covers == ["accidental_damage", "mechanical_failure", "theft"]


def test_demo_accounts_verify_with_their_documented_factors(session: Session) -> None:
    for demo in DEMO_CUSTOMERS:
        customer = _customer(session, demo.account_number)
        assert (customer.email, customer.phone) == (demo.email, demo.phone)
        assert customer.address and 1 <= customer.billing_cycle_day <= 28
        last_bill = session.execute(
            select(m.Bill.amount)
            .where(m.Bill.customer_id == customer.id)
            .order_by(m.Bill.period_start.desc())
            .limit(1)
        ).scalar_one()
        assert last_bill == demo.last_bill
        question = _one(session, m.SecurityQuestion, customer_id=customer.id)
        assert question.question == demo.question
        assert demo.answer.lower() not in question.answer_hash.lower()
        assert verify_answer(demo.answer.upper(), question.answer_hash)
        assert _one(session, m.AccountPlan, customer_id=customer.id, status="active")
        assert _one(session, m.UsageRecord, customer_id=customer.id)


def test_documented_last_bills(session: Session) -> None:
    expected = {
        "QC-100001": "84.20", "QC-100002": "45.00", "QC-100003": "70.00", "QC-100004": "63.20",
        "QC-100005": "45.00", "QC-100006": "25.00", "QC-100007": "70.00", "QC-100008": "112.97",
        "QC-100009": "45.00", "QC-100010": "90.00",
    }  # fmt: skip
    assert {demo.account_number: str(demo.last_bill) for demo in DEMO_CUSTOMERS} == expected


def test_alice_device_protection_and_claims(session: Session) -> None:
    alice = _customer(session, "QC-100001")
    plan = _one(session, m.ProtectionPlan, plan_number="DP-300101")
    assert plan.customer_id == alice.id and plan.tier.code == "PROTECT_PLUS"
    assert [(d.make, d.model, d.value) for d in plan.devices] == [
        ("Google", "Pixel 8", Decimal("699.00"))
    ]
    assert _one(session, m.PaymentMethod, id=plan.payment_method_id).label == "Visa ending 4242"
    open_claim = _one(session, m.Claim, claim_number="CL-500101")
    assert (open_claim.incident_type, open_claim.status, open_claim.resolution) == (
        "accidental_damage", "under_review", None,
    )  # fmt: skip
    decided = _one(session, m.Claim, claim_number="CL-500102")
    assert (decided.status, decided.resolution) == ("approved", "replacement")
    assert plan.enrolled_at.tzinfo is not None


def test_locked_accounts(session: Session) -> None:
    bruno = _one(session, m.LoginState, customer_id=_customer(session, "QC-100002").id)
    assert (bruno.locked, bruno.lock_reason, bruno.failed_attempts) == (True, "failed_logins", 5)
    chen = _one(session, m.LoginState, customer_id=_customer(session, "QC-100003").id)
    assert (chen.locked, chen.lock_reason) == (True, "security_hold")
    assert "new country" in chen.note
    alice = _one(session, m.LoginState, customer_id=_customer(session, "QC-100001").id)
    assert (alice.locked, alice.lock_reason) == (False, "none")


def test_cut_off_scenarios(session: Session) -> None:
    dana = _customer(session, "QC-100004")
    overdue = session.execute(
        select(func.sum(m.Bill.amount)).where(
            m.Bill.customer_id == dana.id, m.Bill.status == "overdue"
        )
    ).scalar_one()
    assert Decimal(overdue) == Decimal("126.40")
    assert _one(session, m.ServiceStatus, customer_id=dana.id).cutoff_reason == "non_payment"
    assert _one(session, m.PaymentMethod, customer_id=dana.id).label == "Mastercard ending 5454"

    elif_ = _one(session, m.ServiceStatus, customer_id=_customer(session, "QC-100005").id)
    assert (elif_.status, elif_.cutoff_reason) == ("suspended", "terms_violation")
    assert "section 4.2" in elif_.violated_term and elif_.remediation_steps

    farid = _one(session, m.ServiceStatus, customer_id=_customer(session, "QC-100006").id)
    assert farid.cutoff_reason == "requested_disconnection"
    assert farid.disconnection_date > m.utcnow().date()
    assert farid.final_bill_amount > 0 and "router" in farid.equipment_return

    grace = _customer(session, "QC-100007")
    assert _one(session, m.ServiceStatus, customer_id=grace.id).cutoff_reason == "technical_issue"
    alert = _one(session, m.ServiceAlert, area=grace.area, active=True)
    assert "Fibre cut" in alert.description and alert.estimated_resolution_at > m.utcnow()

    jonas = _customer(session, "QC-100010")
    assert _one(session, m.ServiceStatus, customer_id=jonas.id).cutoff_reason == "non_payment"
    no_methods = select(m.PaymentMethod).where(m.PaymentMethod.customer_id == jonas.id)
    assert session.execute(no_methods).first() is None
    assert _one(session, m.Bill, customer_id=jonas.id).status == "overdue"


def test_hiro_addons_and_ines_plan_history(session: Session) -> None:
    hiro = _customer(session, "QC-100008")
    subscriptions = session.execute(
        select(m.Subscription).where(m.Subscription.customer_id == hiro.id)
    ).scalars()
    assert sorted((s.addon.name, s.tier.name, s.status) for s in subscriptions) == [
        ("Cloud Vault", "100 GB", "active"),
        ("StreamMax", "Premium 4K", "active"),
        ("World Calling", "100 minutes", "active"),
    ]
    ines = _customer(session, "QC-100009")
    history = (
        session.execute(
            select(m.AccountPlan)
            .where(m.AccountPlan.customer_id == ines.id)
            .order_by(m.AccountPlan.started_at)
        )
        .scalars()
        .all()
    )
    assert [(p.plan.name, p.status, p.plan.offered) for p in history] == [
        ("Starter 2GB", "ended", False),
        ("Everyday 20GB", "active", True),
    ]
    assert history[0].ended_at == history[1].started_at
    assert history[1].prorated_amount > 0


def test_demo_agent_and_aware_timestamps(session: Session) -> None:
    agent = _one(session, m.Agent, username="agent.demo")
    assert agent.display_name == "Sam (Support)"
    assert DEMO_AGENT_PASSWORD not in agent.password_hash
    assert verify_secret(DEMO_AGENT_PASSWORD, agent.password_hash)
    created: datetime = _customer(session, "QC-100001").created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0


def test_copies_of_a_demo_account_share_its_situation_but_not_its_identity(
    session: Session,
) -> None:
    """qa/capacity.py gives each simulated customer such a copy; each must act like the original."""
    from quickconnect.seed import seed_copies

    numbers = seed_copies(session, "QC-100004", 3, first=300000)
    assert numbers == ["QC-300000", "QC-300001", "QC-300002"]
    original = _customer(session, "QC-100004")
    overdue = sa.text("SELECT SUM(amount) FROM bills WHERE customer_id = :c AND status <> 'paid'")
    phones = {original.phone}
    for number in numbers:
        copy = _customer(session, number)
        assert copy.email not in {original.email} and copy.phone not in phones
        phones.add(copy.phone)
        status = _one(session, m.ServiceStatus, customer_id=copy.id)
        assert (status.status, status.cutoff_reason) == ("suspended", "non_payment")
        question = _one(session, m.SecurityQuestion, customer_id=copy.id)
        assert verify_answer("Lagos", question.answer_hash)
        assert not verify_answer("Porto", question.answer_hash)
        assert (
            session.execute(overdue, {"c": copy.id}).scalar_one()
            == session.execute(overdue, {"c": original.id}).scalar_one()
        )


def test_copies_refuse_an_unknown_template_and_numbers_outside_the_format(
    session: Session,
) -> None:
    import pytest

    from quickconnect.seed import seed_copies

    with pytest.raises(ValueError, match="no demo account"):
        seed_copies(session, "QC-999999", 1, first=200000)
    with pytest.raises(ValueError, match="QC-100000 to QC-999999"):
        seed_copies(session, "QC-100002", 2, first=999999)
