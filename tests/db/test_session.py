"""Engines and the unit of work against the real backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work


def _agent_count(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.execute(select(func.count(m.Agent.id))).scalar_one())


def test_unit_of_work_commits_on_success_and_rolls_back_on_error(scratch_engine: Engine) -> None:
    before = _agent_count(scratch_engine)
    with pytest.raises(RuntimeError), unit_of_work(scratch_engine) as session:
        session.add(m.Agent(username="uow.rollback", display_name="x", password_hash="x"))
        session.flush()
        raise RuntimeError("boom")
    assert _agent_count(scratch_engine) == before
    with unit_of_work(scratch_engine) as session:
        session.add(m.Agent(username="uow.commit", display_name="x", password_hash="x"))
    assert _agent_count(scratch_engine) == before + 1


def test_foreign_keys_and_checks_are_enforced(connection: Connection) -> None:
    with pytest.raises(IntegrityError), unit_of_work(connection) as session:
        session.add(m.PaymentMethod(customer_id=987_654, kind="card", label="Visa ending 0000"))
    with pytest.raises(IntegrityError), unit_of_work(connection) as session:
        customer = session.execute(select(m.Customer).limit(1)).scalar_one()
        customer.preferred_contact = "fax"


def test_one_active_plan_per_customer(connection: Connection) -> None:
    with pytest.raises(IntegrityError), unit_of_work(connection) as session:
        active = session.execute(
            select(m.AccountPlan).where(m.AccountPlan.status == "active").limit(1)
        ).scalar_one()
        session.add(
            m.AccountPlan(customer_id=active.customer_id, plan_id=active.plan_id, status="active")
        )


def test_timestamps_come_back_aware_utc(connection: Connection) -> None:
    with unit_of_work(connection) as session:
        stamp = session.execute(select(m.Customer.created_at).limit(1)).scalar_one()
    assert stamp.tzinfo is not None and stamp.utcoffset().total_seconds() == 0
    with pytest.raises(sa.exc.StatementError), unit_of_work(connection) as session:
        customer = session.execute(select(m.Customer).limit(1)).scalar_one()
        customer.created_at = stamp.replace(tzinfo=None)


def test_backend_connection_settings(backend: str, connection: Connection) -> None:
    if backend == "sqlite":
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    else:  # statement timeout from settings; libpq options in the URL (search_path) kept
        assert connection.execute(sa.text("SHOW statement_timeout")).scalar() != "0"
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar()
        assert schema.startswith("qc_test_")
