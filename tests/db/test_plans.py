"""'Which plan am I on': plan, usage and the next bill date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.billing_cycle import next_cycle_start
from quickconnect.db import models as m
from quickconnect.services import plans


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def test_current_plan_for_alice(session: Session) -> None:
    alice = _customer(session, "QC-100001")
    view = plans.current_plan(session, alice.id)
    assert (view.plan_code, view.plan_name, view.monthly_price) == (
        "EVERY20", "Everyday 20GB", Decimal("45.00"),
    )  # fmt: skip
    assert (view.data_gb, view.minutes, view.speed_mbps) == (20, None, 150)
    assert "EU roaming" in view.features
    assert (view.data_used_gb, view.minutes_used, view.avg_speed_mbps) == (
        Decimal("12.80"), 340, Decimal("138.20"),
    )  # fmt: skip
    today = m.utcnow().date()
    assert view.billing_cycle_day == alice.billing_cycle_day
    assert view.period_start <= today < view.next_bill_date
    assert view.next_bill_date == next_cycle_start(today, alice.billing_cycle_day)
    assert view.usage_period_start == view.period_start
    assert view.since.tzinfo is not None and view.since < m.utcnow()
    assert view.scheduled_plan_name is None


def test_plan_changed_this_cycle_shows_the_new_plan(session: Session) -> None:
    view = plans.current_plan(session, _customer(session, "QC-100009").id)
    assert view.plan_name == "Everyday 20GB"
    assert timedelta(days=9) < m.utcnow() - view.since < timedelta(days=11)
    assert view.period_start <= view.since.date()


def test_unlimited_plan_and_later_period_without_usage_yet(session: Session) -> None:
    hiro = _customer(session, "QC-100008")
    later = m.utcnow().date() + timedelta(days=40)
    view = plans.current_plan(session, hiro.id, today=later)
    assert (view.plan_name, view.data_gb, view.minutes) == ("Unlimited Plus", None, None)
    assert view.usage_period_start is not None and view.usage_period_start < view.period_start
    assert view.next_bill_date > later


def test_customer_without_active_plan(session: Session) -> None:
    with pytest.raises(plans.NoActivePlan):
        plans.current_plan(session, 999_999, today=date(2024, 1, 1))


def test_account_details_for_the_plan_change_guide(session: Session) -> None:
    details = plans.account_details(session, _customer(session, "QC-100001").id)
    assert details.account_number == "QC-100001"
    assert details.full_name == "Alice Martin"
    assert details.address
