"""Follow-ups: the status of a customer's case or ticket."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Case,
    Ticket,
)
from quickconnect.identifiers import (
    normalize_case_number,
    normalize_ticket_number,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.service_cutoffs.common import CaseNotFound, CaseStatus, CaseStatusAnswer

# --- follow-ups: cases and tickets ---------------------------------------------------------------

_CASE_ABOUT = {
    "customer_request": "you asked to talk to a person",
    "verification_failed": "help with verifying your identity",
    "repeated_misunderstanding": "a question our assistant couldn't answer",
    "guide_escalation": "a review by our support team",
    "system_error": "a problem with our systems",
}
_STATUS_WORDS = {
    "open": "open",
    "assigned": "with a member of our team",
    "in_progress": "being worked on",
    "resolved": "resolved",
}


def _case_status(case: Case) -> CaseStatus:
    return CaseStatus(
        kind="case",
        number=case.case_number,
        status=_STATUS_WORDS.get(case.status, case.status),
        opened_at=case.created_at,
        about=_CASE_ABOUT.get(case.reason, "a support request"),
        follow_up_channel=case.follow_up_channel,
        resolved_at=case.resolved_at,
    )


def _ticket_status(ticket: Ticket) -> CaseStatus:
    return CaseStatus(
        kind="ticket",
        number=ticket.ticket_number,
        status=_STATUS_WORDS.get(ticket.status, ticket.status),
        opened_at=ticket.created_at,
        about=ticket.summary,
        estimated_resolution_at=ticket.estimated_resolution_at,
        resolved_at=ticket.resolved_at,
    )


def check_case_status(
    session: Session,
    *,
    conversation_id: str,
    customer_id: int,
    number: str | None = None,
) -> CaseStatusAnswer:
    """A case (CS-) or ticket (TK-) by number, or the customer's open ones. A number that
    is not on this customer's account is "not found" (whether or not it exists). Logged."""
    items: list[CaseStatus] = []
    asked: str | None = None
    if number:
        asked = normalize_case_number(number) or normalize_ticket_number(number)
        if asked is None:
            raise CaseNotFound(
                f'"{number}" doesn\'t look like a case (CS-123456) or ticket (TK-123456) number.'
            )
        if asked.startswith("CS-"):
            case = session.execute(
                select(Case).where(Case.case_number == asked, Case.customer_id == customer_id)
            ).scalar_one_or_none()
            if case is not None:
                items.append(_case_status(case))
        else:
            ticket = session.execute(
                select(Ticket).where(
                    Ticket.ticket_number == asked, Ticket.customer_id == customer_id
                )
            ).scalar_one_or_none()
            if ticket is not None:
                items.append(_ticket_status(ticket))
        if not items:
            raise CaseNotFound(f"I couldn't find {asked} on your account.")
    else:
        cases = session.execute(
            select(Case)
            .where(Case.customer_id == customer_id, Case.status.in_(("open", "assigned")))
            .order_by(Case.created_at, Case.id)
        ).scalars()
        tickets = session.execute(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status.in_(("open", "in_progress")))
            .order_by(Ticket.created_at, Ticket.id)
        ).scalars()
        items = [_case_status(c) for c in cases] + [_ticket_status(t) for t in tickets]
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="case_status",
        summary=f"Status asked for {asked or 'open cases and tickets'}: "
        + (", ".join(f"{i.number} {i.status}" for i in items) or "none open"),
        outcome="answered",
    )
    return CaseStatusAnswer(tuple(items), asked)
