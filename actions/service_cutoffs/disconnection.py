"""The guide's solution for a requested disconnection: confirm it, or book a new one.

`request_disconnection`: a request already on the account is confirmed with its details; a new
one is quoted (date, final bill, equipment return) and waits for a yes (actions/changes.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import (
    ASK_FOR_CONSENT,
    NO_LONGER_AWAITING,
    awaiting_consent,
    describe_confirmation,
)
from actions.common import VerifiedAccountAction
from actions.request import latest_request
from actions.service_cutoffs.common import contact_text
from actions.service_cutoffs.diagnosis import explain_report
from quickconnect.dates import format_day, resolve_date
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import CutoffError, CutoffReport, usd


class ActionProposeDisconnection(VerifiedAccountAction):
    """`request_disconnection`: confirm a request already on the account, or quote a new one
    (date, final bill, equipment return) and ask for a yes."""

    def name(self) -> str:
        return "action_propose_disconnection"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        date_text = latest_request(tracker, "request_disconnection").entity("date")
        today = date.today()
        requested = resolve_date(date_text, today) if date_text else None
        note = ""
        if date_text and requested is None:
            note = (
                f'I couldn\'t work out the date "{date_text}", so this is for the end of your '
                "billing cycle; tell me another date if you prefer.\n"
            )
        try:
            proposal = cutoffs.propose_disconnection(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                disconnection_date=requested,
            )
        except cutoffs.DisconnectionAlreadyRequested:
            found = cutoffs.diagnose(session, customer.customer_id)
            dispatcher.utter_message(
                text=explain_report(customer, CutoffReport(found)).replace(
                    "Nothing else is needed", "You don't need to ask again; nothing else is needed"
                )
            )
            return events + NO_LONGER_AWAITING
        except CutoffError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return events + NO_LONGER_AWAITING
        dispatcher.utter_message(
            text=f"I'm sorry to see you go, {customer.first_name}. {note}{proposal.summary}\n"
            f"{ASK_FOR_CONSENT}"
        )
        return events + awaiting_consent(proposal.change.change_id)


@describe_confirmation(cutoffs.DISCONNECTION_KIND)
def _disconnection_booked(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    day = date.fromisoformat(str(result["disconnection_date"]))
    return (
        f"Done: your service will be disconnected on {format_day(day)}. Your final bill will be "
        f"about {usd(Decimal(str(result['final_bill_amount'])))}. {result['equipment_return']}."
        f"\nI'll send you a reminder {contact_text(customer, result.get('follow_up_channel'))} "
        "on the day. If you change your mind before then, just let us know."
    )
