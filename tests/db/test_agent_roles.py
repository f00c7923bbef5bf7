"""Console roles on the real database: agents and the support lead (issue #31)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quickconnect.db import models as m
from quickconnect.seed import (
    DEMO_AGENT_PASSWORD,
    DEMO_AGENT_USERNAME,
    DEMO_LEAD_PASSWORD,
    DEMO_LEAD_USERNAME,
)
from quickconnect.services import agent_console as console


def _sign_in(session: Session, username: str, password: str) -> console.SignedIn:
    signed = console.sign_in(session, username=username, password=password, remote_addr="10.1.1.1")
    assert signed is not None
    return signed


def test_seeded_agent_is_an_agent_and_the_lead_a_lead(session: Session) -> None:
    agent = _sign_in(session, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD)
    lead = _sign_in(session, DEMO_LEAD_USERNAME, DEMO_LEAD_PASSWORD)
    assert (agent.agent.role, agent.agent.is_lead) == ("agent", False)
    assert (lead.agent.role, lead.agent.is_lead) == ("lead", True)
    # the role travels with the session token, as every console request reads it
    assert console.agent_for_token(session, lead.token).role == "lead"
    assert console.agent_for_token(session, agent.token).role == "agent"


def test_require_lead_refuses_an_agent(session: Session) -> None:
    agent = _sign_in(session, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD).agent
    with pytest.raises(console.Forbidden):
        console.require_lead(agent)
    console.require_lead(_sign_in(session, DEMO_LEAD_USERNAME, DEMO_LEAD_PASSWORD).agent)


def test_set_role_promotes_and_demotes(session: Session) -> None:
    console.set_role(session, "Agent.Demo", "lead")
    token = _sign_in(session, DEMO_AGENT_USERNAME, DEMO_AGENT_PASSWORD).token
    assert console.agent_for_token(session, token).is_lead
    console.set_role(session, DEMO_AGENT_USERNAME, "agent")
    assert not console.agent_for_token(session, token).is_lead  # takes effect at once
    with pytest.raises(ValueError):
        console.set_role(session, DEMO_AGENT_USERNAME, "admin")
    with pytest.raises(LookupError):
        console.set_role(session, "nobody.here", "lead")


def test_database_refuses_an_unknown_role(session: Session) -> None:
    agent = session.execute(
        select(m.Agent).where(m.Agent.username == DEMO_AGENT_USERNAME)
    ).scalar_one()
    agent.role = "root"
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
