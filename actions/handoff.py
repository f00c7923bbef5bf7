"""Escalation to a person (spec: "Escalation to a person").

Opens (or re-uses) a `CS-` case with the reason and a summary of the conversation, tells the
customer the case number and the expected wait, or, with nobody online, how we follow up.
When we have no way to reach them (not verified, no contact given yet), `action_handoff`
starts `followup_contact_form` to ask for an email address or phone number (issue #8).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import SYSTEM_ERRORS, apologise_for_outage, with_outage_apology
from actions.forms import FormSlotValidation
from quickconnect.db.session import unit_of_work
from quickconnect.services import handoff, identity

# Channels that can show an agent's messages live (rasa_extensions/webchat/); over the
# plain REST channel nobody could join, so the case is followed up instead.
LIVE_CHAT_CHANNELS = {"webchat"}

# Actions that are bookkeeping, not something done for the customer.
_NOT_WORTH_SUMMARISING = {"action_listen", "action_session_start", "action_handoff"}


def escalation_reason(tracker: Tracker) -> str:
    if tracker.get_slot("verification_status") == "failed":
        return "verification_failed"
    if (tracker.latest_message.get("intent") or {}).get("name") == "request_human":
        return "customer_request"
    if tracker.latest_action_name == "action_default_fallback":
        return "repeated_misunderstanding"
    return "customer_request"


def conversation_summary(tracker: Tracker, verified_account: str | None) -> str:
    """What an agent needs at a glance: what was asked, who it is, what was done."""
    intents: list[str] = []
    done: list[str] = []
    for event in tracker.events:
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name and name not in intents:
                intents.append(name)
        elif event.get("event") == "action":
            name = event.get("name") or ""
            if (
                name.startswith("action_")
                and name not in _NOT_WORTH_SUMMARISING
                and name not in done
            ):
                done.append(name)
    status = tracker.get_slot("verification_status") or "unverified"
    who = f"verified as {verified_account}" if verified_account else status
    last = (tracker.latest_message.get("text") or "").strip()[:200]
    return (
        f"Customer: {who}. Asked about: {', '.join(intents) or 'nothing yet'}. "
        f"Done so far: {', '.join(done) or 'nothing'}. "
        f"Pending task: {tracker.get_slot('pending_task') or 'none'}. Last message: \"{last}\""
    )


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        reason = escalation_reason(tracker)
        try:
            with unit_of_work() as session:
                customer = identity.verified_customer(
                    session, tracker.sender_id, tracker.get_slot("verification_token")
                )
                case = handoff.open_case(
                    session,
                    conversation_id=tracker.sender_id,
                    customer_id=customer.customer_id if customer else None,
                    reason=reason,
                    summary=conversation_summary(
                        tracker, customer.account_number if customer else None
                    ),
                    live_chat=tracker.get_latest_input_channel() in LIVE_CHAT_CHANNELS,
                    account_tried_id=identity.account_tried(session, tracker.sender_id)
                    if reason == "verification_failed"
                    else None,
                )
        except SYSTEM_ERRORS as error:
            apologise_for_outage(dispatcher, error)
            return events

        opening = ""
        if reason == "verification_failed":
            opening = (
                "I'm sorry, I couldn't verify your identity, so I can't access the account in "
                "this chat. A person from our support team can help. "
            )
        if case.shared:
            dispatcher.utter_message(
                text=f"{opening}There is already an open case about this, {case.case_number}: "
                "our support team follows it up with the account holder at the contact "
                "details on file. Meanwhile I'm happy to help with anything that doesn't need "
                "your account."
            )
        elif case.queued:
            wait = case.expected_wait_minutes or 5
            dispatcher.utter_message(
                text=f"{opening}I've opened case {case.case_number} for you. A member of our "
                f"support team will join this chat shortly (expected wait: about {wait} "
                "minutes). Please keep this chat open."
            )
        else:
            nobody = (
                "Our support team can't join this chat channel live"
                if case.agents_online
                else "No one from our support team is online right now"
            )
            if case.needs_contact:
                # The form asks (action_ask_followup_contact) right after this message.
                dispatcher.utter_message(
                    text=f"{opening}I've opened case {case.case_number}. {nobody}, so the "
                    "case stays open."
                )
                return events + [
                    SlotSet("pending_task", None),
                    SlotSet("human_offered", False),
                    SlotSet("followup_contact", None),
                    ActiveLoop(FOLLOWUP_FORM),
                ]
            follow_up = (
                f"we'll contact you by {case.follow_up_channel or 'email'} at "
                f"{case.masked_contact} within one business day"
            )
            dispatcher.utter_message(
                text=f"{opening}I've opened case {case.case_number}. {nobody}, so the case "
                f"stays open and {follow_up}. Meanwhile I'm happy to help with anything else."
            )
        return events + [SlotSet("pending_task", None), SlotSet("human_offered", False)]


# --- follow-up contact (no agent online, customer not verified) ------------------------------

FOLLOWUP_FORM = "followup_contact_form"
# pending_task too: an answer like "email me at ..." can read as update_contact_info, which
# must not wait for a verification that nobody asked for.
FOLLOWUP_DONE: list[EventType] = [SlotSet("followup_contact", None), SlotSet("pending_task", None)]

# The messages of this step, composed here like every form prompt (domain.yml, "responses").
ASK_FOLLOWUP_CONTACT = (
    "So you don't have to wait, we can follow up with you instead. What email address or "
    'phone number should we use? If you\'d rather not leave one, just say "no thanks".'
)
FOLLOWUP_CONTACT_INVALID = "Sorry, that doesn't look like an email address or a phone number."
FOLLOWUP_BOOKED = (
    "Thanks! We'll contact you at {contact} about case {case_number} within one business "
    "day.{confirmation} Is there anything else I can help with?"
)
FOLLOWUP_DECLINED = (
    "Okay, no follow-up then. Case {case_number} stays open: just quote it when you contact "
    "us again. Is there anything else I can help with?"
)
FOLLOWUP_NOT_BOOKED = (
    "Sorry, I couldn't add that to your case, as it's no longer open. Is there anything else "
    "I can help with?"
)


class ActionAskFollowupContact(Action):
    def name(self) -> str:
        return "action_ask_followup_contact"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=ASK_FOLLOWUP_CONTACT)
        return []


class ValidateFollowupContactForm(FormSlotValidation):
    """Accepts an email address or phone number (stored normalised); anything else re-asks."""

    def name(self) -> str:
        return "validate_followup_contact_form"

    def validate_followup_contact(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        contact = handoff.parse_follow_up_contact(str(slot_value or ""))
        if contact is None:
            if (tracker.latest_message.get("intent") or {}).get("name") != "affirm":
                dispatcher.utter_message(text=FOLLOWUP_CONTACT_INVALID)
            return {"followup_contact": None}  # asked again ("yes please" just asks)
        return {"followup_contact": contact.address}


class ActionBookFollowup(Action):
    """Stores the contact on the open case and queues a confirmation to it."""

    def name(self) -> str:
        return "action_book_followup"

    @with_outage_apology(lambda: list(FOLLOWUP_DONE))
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with unit_of_work() as session:
            try:
                booked = handoff.book_follow_up(
                    session,
                    conversation_id=tracker.sender_id,
                    contact=tracker.get_slot("followup_contact") or "",
                )
            except (LookupError, ValueError):
                booked = None
        if booked is None:
            dispatcher.utter_message(text=FOLLOWUP_NOT_BOOKED)
        else:
            dispatcher.utter_message(
                text=FOLLOWUP_BOOKED.format(
                    contact=booked.masked_contact,
                    case_number=booked.case_number,
                    confirmation=" A confirmation is on its way there."
                    if booked.confirmation_id is not None
                    else "",
                )
            )
        return list(FOLLOWUP_DONE)


class ActionDeclineFollowup(Action):
    """No contact given ("no thanks", stop): the case stays open under its number."""

    def name(self) -> str:
        return "action_decline_followup"

    @with_outage_apology(lambda: [ActiveLoop(None), SlotSet("requested_slot", None)])
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        with unit_of_work() as session:
            case_number = handoff.open_case_number(session, tracker.sender_id)
        if case_number:
            dispatcher.utter_message(text=FOLLOWUP_DECLINED.format(case_number=case_number))
        else:  # resolved in the meantime: nothing left to follow up
            dispatcher.utter_message(response="utter_nothing_to_stop")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *FOLLOWUP_DONE]
