"""The guide's follow-up step, asked by the customer: `check_case_status` on `CS-` cases and
`TK-` tickets of the verified customer (the follow-up messages themselves are outbox rows the
service queues with every solution)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from actions.request import latest_request
from actions.service_cutoffs.common import contact_text
from quickconnect.identifiers import CASE_PREFIX, TICKET_PREFIX, find_identifier
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import CutoffError, format_time


class ActionCheckCaseStatus(VerifiedAccountAction):
    """`check_case_status`: a `CS-` case or `TK-` ticket by number, or the open ones."""

    def name(self) -> str:
        return "action_check_case_status"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        request = latest_request(tracker, "check_case_status")
        text = request.text
        number = (
            request.entity("case_number")
            or request.entity("ticket_number")
            or find_identifier(text, CASE_PREFIX)
            or find_identifier(text, TICKET_PREFIX)
        )
        try:
            answer = cutoffs.check_case_status(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                number=number,
            )
        except CutoffError as refusal:
            dispatcher.utter_message(
                text=f"{refusal} Please check the number; case numbers look like CS-123456 and "
                "ticket numbers like TK-123456."
            )
            return events
        if not answer.items:
            dispatcher.utter_message(
                text="You have no open cases or technical tickets with us right now. If "
                "something isn't working, tell me and I'll look into it."
            )
            return events
        lines = [] if answer.asked_for else ["Here's what's open on your account:"]
        for item in answer.items:
            if item.kind == "ticket":
                line = (
                    f"Ticket {item.number} (opened {format_time(item.opened_at)}): {item.status}."
                    f" It's about: {item.about}."
                )
                if item.resolved_at:
                    line += f" Resolved at {format_time(item.resolved_at)}."
                elif item.estimated_resolution_at:
                    line += f" Estimated fix: {format_time(item.estimated_resolution_at)}."
            else:
                line = (
                    f"Case {item.number} (opened {format_time(item.opened_at)}) for "
                    f"{item.about}: {item.status}."
                )
                if item.resolved_at:
                    line += f" Resolved at {format_time(item.resolved_at)}."
                elif item.follow_up_channel:
                    line += f" We'll follow up {contact_text(customer, item.follow_up_channel)}."
            lines.append(line)
        dispatcher.utter_message(text="\n".join(lines))
        return events
