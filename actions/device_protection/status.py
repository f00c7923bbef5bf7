"""Claim status: one claim by its number, or the customer's claims."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer


class ActionClaimStatus(VerifiedAccountAction):
    """A claim by number, or the customer's open and recently decided claims."""

    def name(self) -> str:
        return "action_dp_claim_status"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None), SlotSet("claim_number", None)]
        number = tracker.get_slot("claim_number")
        if number:
            try:
                claim = dp.look_up_claim(
                    session,
                    conversation_id=tracker.sender_id,
                    customer_id=customer.customer_id,
                    claim_number=number,
                )
                dispatcher.utter_message(text=dp.describe_claim(claim))
                return events
            except dp.UnknownClaim as unknown:
                dispatcher.utter_message(text=f"{unknown} Here are the claims I can see:")
        overview = dp.claims_overview(
            session, conversation_id=tracker.sender_id, customer_id=customer.customer_id
        )
        if not overview.open_claims and not overview.decided_claims:
            dispatcher.utter_message(
                text="There are no device protection claims on your account. To report a "
                'problem with a protected device, say "I want to file a claim".'
            )
            return events
        lines = []
        if overview.open_claims:
            lines.append("Open claims:")
            lines += [f"- {dp.describe_claim(c)}" for c in overview.open_claims]
        else:
            lines.append("You have no open claims.")
        if overview.decided_claims:
            lines.append("Recently decided:")
            lines += [f"- {dp.describe_claim(c)}" for c in overview.decided_claims]
        dispatcher.utter_message(text="\n".join(lines))
        return events
