"""Escalation to a person (spec: "Escalation to a person").

Opens (or re-uses) a `CS-` case with the reason and a summary of the conversation, tells the
customer the case number and the expected wait, or, with nobody online, how we follow up.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import SYSTEM_ERRORS, apologise_for_outage
from quickconnect.db.session import unit_of_work
from quickconnect.services import handoff, identity

# Channels that can show an agent's messages live (rasa_extensions/webchat.py); over the
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
        if case.queued:
            wait = case.expected_wait_minutes or 5
            dispatcher.utter_message(
                text=f"{opening}I've opened case {case.case_number} for you. A member of our "
                f"support team will join this chat shortly (expected wait: about {wait} "
                "minutes). Please keep this chat open."
            )
        else:
            if case.masked_contact:
                follow_up = (
                    f"we'll contact you by {case.follow_up_channel or 'email'} at "
                    f"{case.masked_contact} within one business day"
                )
            else:
                follow_up = (
                    "we'll follow up with you once you've verified your account in a chat, or "
                    "you can quote the case number when you contact us"
                )
            nobody = (
                "Our support team can't join this chat channel live"
                if case.agents_online
                else "No one from our support team is online right now"
            )
            dispatcher.utter_message(
                text=f"{opening}I've opened case {case.case_number}. {nobody}, so the case "
                f"stays open and {follow_up}. Meanwhile I'm happy to help with anything else."
            )
        return events + [SlotSet("pending_task", None), SlotSet("human_offered", False)]
