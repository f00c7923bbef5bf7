"""Technical issues: a support ticket with an estimated resolution time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from quickconnect.db.models import (
    Ticket,
    utcnow,
)
from quickconnect.identifiers import (
    TICKET_PREFIX,
    allocate_identifier,
)
from quickconnect.services.interactions import log_interaction
from quickconnect.services.service_cutoffs.common import (
    DEFAULT_TICKET_HOURS,
    FOLLOW_UP_AFTER_FIX,
    TicketOpened,
)
from quickconnect.services.service_cutoffs.lookups import (
    _active_alert,
    _customer,
    _follow_up,
    _open_ticket,
    _ticket_view,
    format_time,
)

# --- technical issues: tickets ------------------------------------------------------------------


def open_outage_ticket(
    session: Session, *, conversation_id: str, customer_id: int, now: datetime | None = None
) -> TicketOpened:
    """A `TK-` ticket with an estimated resolution time, and a follow-up message due shortly
    after it. The customer's open ticket is returned instead of opening a second one."""
    now = now or utcnow()
    customer = _customer(session, customer_id, lock=True)
    existing = _open_ticket(session, customer_id)
    if existing is not None:
        return TicketOpened(_ticket_view(existing), is_new=False, follow_up=None)
    alert = _active_alert(session, customer.area)
    if alert is not None:
        summary = f"No service: {alert.description} (area {alert.area})"
        eta = alert.estimated_resolution_at or now + timedelta(hours=DEFAULT_TICKET_HOURS)
    else:
        summary = "No service reported in chat; no outage known in the area: line check needed"
        eta = now + timedelta(hours=DEFAULT_TICKET_HOURS)
    eta = max(eta, now + timedelta(minutes=30))  # an overdue estimate is not an estimate
    ticket = Ticket(
        ticket_number=allocate_identifier(session, Ticket, Ticket.ticket_number, TICKET_PREFIX),
        customer_id=customer_id,
        conversation_id=conversation_id,
        summary=summary,
        status="open",
        estimated_resolution_at=eta,
        created_at=now,
    )
    session.add(ticket)
    session.flush()
    follow_up = _follow_up(
        session,
        customer,
        eta + FOLLOW_UP_AFTER_FIX,
        f"Is your QuickConnect service back? (ticket {ticket.ticket_number})",
        f"Hi {customer.first_name}, we expected to fix the problem on ticket "
        f"{ticket.ticket_number} by {format_time(eta)}. Is your service working again? If "
        f"not, reply to this message or chat with us and quote {ticket.ticket_number}.",
    )
    log_interaction(
        session,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="technical_ticket",
        summary=f"Opened {ticket.ticket_number}: {summary}; estimated resolution "
        f"{eta.isoformat()}; follow-up by {follow_up.channel} at {follow_up.due_at.isoformat()}",
        outcome="ticket_opened",
    )
    return TicketOpened(_ticket_view(ticket), is_new=True, follow_up=follow_up)
