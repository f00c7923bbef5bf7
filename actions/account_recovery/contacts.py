"""The guide's "update account information" step, part two: the email or phone for recovery.

Also the common issue "customer forgot recovery email or phone number": the contacts on file
(masked) -> the new email or phone -> proposed -> "yes" (a notice goes to the old contact too).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.account_recovery.common import CHANGE_ALLOWED, NOT_NOW, start_change
from actions.changes import ASK_FOR_CONSENT, awaiting_consent, describe_confirmation
from actions.common import VerifiedAccountAction, with_outage_apology
from actions.forms import FormSlotValidation
from actions.request import latest_request
from quickconnect.db.session import unit_of_work
from quickconnect.services import account_recovery as recovery
from quickconnect.services.identity import VerifiedCustomer

KEEP_CONTACTS = "[keep]"


class ActionStartContactUpdate(VerifiedAccountAction):
    """Show the contacts on file (masked) before asking for the new one."""

    def name(self) -> str:
        return "action_start_contact_update"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        stopped = start_change(session, tracker, dispatcher, "update the recovery contacts")
        if stopped is not None:
            return stopped
        contacts = recovery.recovery_contacts(session, customer.customer_id)
        forgot = tracker.get_slot("pending_task") == "forgot_recovery_contact"
        opening = (
            "Thanks for verifying. Here's what we have on file for account recovery:"
            if forgot
            else "Sure. These are the contact details on your account now:"
        )
        dispatcher.utter_message(
            text=f"{opening}\n- email: {contacts.masked_email}\n- phone: {contacts.masked_phone}"
        )
        message = latest_request(tracker, "update_contact_info", "forgot_recovery_contact")
        given = next(
            (
                entity.get("value")
                for entity in reversed(message.entities)
                if entity.get("entity") in ("email", "phone_number")
            ),
            None,
        )
        return CHANGE_ALLOWED + [
            SlotSet("recovery_new_contact", given),
        ]


class ValidateContactUpdateForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_contact_update_form"

    @with_outage_apology(default={"recovery_new_contact": None})
    def validate_recovery_new_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(slot_value or "")
        if text == KEEP_CONTACTS or recovery.wants_to_keep_contacts(text):
            return {"recovery_new_contact": KEEP_CONTACTS}
        try:
            with unit_of_work() as session:
                contact = recovery.parse_new_contact(
                    session,
                    conversation_id=tracker.sender_id,
                    token=tracker.get_slot("verification_token"),
                    text=text,
                )
        except recovery.RecoveryError as problem:
            dispatcher.utter_message(text=str(problem))
            return {"recovery_new_contact": None}
        return {"recovery_new_contact": contact.value}


class ActionProposeContactChange(VerifiedAccountAction):
    def name(self) -> str:
        return "action_propose_contact_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        cleared: list[EventType] = [SlotSet("recovery_new_contact", None)]
        token = tracker.get_slot("verification_token")
        new_contact = tracker.get_slot("recovery_new_contact") or ""
        if new_contact == KEEP_CONTACTS:
            recovery.log_contacts_kept(session, conversation_id=tracker.sender_id, token=token)
            dispatcher.utter_message(
                text="Okay, I'll keep your contact details as they are. Is there anything else I "
                "can help with?"
            )
            return cleared + NOT_NOW
        try:
            _, proposal = recovery.propose_contact_change(
                session, conversation_id=tracker.sender_id, token=token, new_contact=new_contact
            )
        except recovery.RecoveryError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return cleared + NOT_NOW
        dispatcher.utter_message(text=f"{proposal.summary}\n{ASK_FOR_CONSENT}")
        return cleared + awaiting_consent(proposal.change_id)


@describe_confirmation(recovery.CONTACT_KIND)
def _contact_changed(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    what = "email address" if result.get("field") == "email" else "phone number"
    return (
        f"Done: your {what} is now {result.get('new_masked')}. I've sent a confirmation to it "
        f"and a notice to the old one ({result.get('old_masked')}), so you'll know if anyone "
        "else ever tries this."
    )
