"""The guide's "password reset" step, and the common issue "cannot receive recovery email".

Forgot Password page + a single-use link by email or SMS to the contact on file
(`password_reset_form` asks which) -> "did it work?" -> yes: done; no: resend, SMS instead or a
person (after two links that still fail, a `CS-` case straight away). A missing email: where
and when the link went (masked), spam/junk, resend or SMS.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.account_recovery.common import case_text, stopped_by_hold
from actions.common import VerifiedAccountAction
from actions.forms import FormSlotValidation, Question, VerifiedQuestionAction
from actions.request import latest_request
from quickconnect.services import account_recovery as recovery
from quickconnect.services.identity import VerifiedCustomer

RESEND_BUTTONS = [
    {"title": "Send a new link by email", "payload": "send me a new password reset link by email"},
    {"title": "Send it by SMS instead", "payload": "send the password reset link by SMS instead"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def _time(value: datetime | None) -> str:
    return f"{value:%H:%M} UTC" if value else "recently"


class ActionStartPasswordReset(VerifiedAccountAction):
    """Point to the Forgot Password page; note a lock; a security hold goes to a person."""

    def name(self) -> str:
        return "action_start_password_reset"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None), SlotSet("human_offered", False)]
        if stopped_by_hold(
            session,
            tracker,
            dispatcher,
            asked_for="reset the password",
            why="Your account has a security hold, so for your protection I can't send a "
            "password reset link in chat.",
        ):
            return events + [SlotSet("recovery_allowed", False), SlotSet("reset_channel", None)]
        lock = recovery.lock_status(session, customer.customer_id)
        lines = [
            "Let's get you back in. You can always start a reset yourself on the Forgot Password "
            f"page: {recovery.FORGOT_PASSWORD_URL}. I can also send you a reset link right now."
        ]
        if lock.locked:
            lines.append(
                f"I can see sign-in is locked after {lock.failed_attempts} failed attempts: "
                "resetting your password through the link unlocks it too."
            )
        dispatcher.utter_message(text=" ".join(lines))
        text = latest_request(tracker, "reset_password").text
        return events + [
            SlotSet("recovery_allowed", True),
            SlotSet("reset_channel", recovery.parse_channel(text)),
        ]


class ActionAskResetChannel(VerifiedQuestionAction):
    """password_reset_form's question: email or SMS, both to the contacts on file (masked)."""

    slot = "reset_channel"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        contacts = recovery.recovery_contacts(session, customer.customer_id)
        return Question(
            f"Where should I send the reset link: by email to {contacts.masked_email}, or "
            f"by SMS to {contacts.masked_phone}? (For your security it only goes to the contact "
            "details on file.)",
            [
                {"title": "Email", "payload": "by email"},
                {"title": "SMS", "payload": "sms please"},
            ],
        )


class ValidatePasswordResetForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_password_reset_form"

    def validate_reset_channel(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        channel = recovery.parse_channel(str(slot_value or ""))
        if channel is None:
            dispatcher.utter_message(
                text='Sorry, I didn\'t catch that. Please say "email" or "SMS".'
            )
        return {"reset_channel": channel}


class ActionSendResetLink(VerifiedAccountAction):
    """Send the link to the contact on file, then ask whether the reset worked."""

    def name(self) -> str:
        return "action_send_reset_link"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        done: list[EventType] = [SlotSet("reset_channel", None), SlotSet("human_offered", False)]
        try:
            sent = recovery.send_reset_link(
                session,
                conversation_id=tracker.sender_id,
                token=tracker.get_slot("verification_token"),
                channel=tracker.get_slot("reset_channel") or "email",
            )
        except recovery.RecoveryError as refusal:
            dispatcher.utter_message(text=f"I can't send a reset link: {refusal}")
            return done + [SlotSet("reset_follow_up", False)]
        how = "a text message" if sent.channel == "sms" else "an email"
        where = "your messages" if sent.channel == "sms" else "your inbox (and the spam folder)"
        dispatcher.utter_message(
            text=f"Done: I've sent {how} with a password reset link to {sent.masked_to}. The link "
            f"works once and expires at {_time(sent.expires_at)} (30 minutes). Check {where}, "
            "open the link and choose a new password.\nLet me know how it goes: did the reset "
            "work?",
            buttons=[
                {"title": "Yes, it worked", "payload": "/affirm"},
                {"title": "No, it didn't", "payload": "/deny"},
            ],
        )
        return done + [SlotSet("reset_follow_up", True), SlotSet("awaiting_confirmation", False)]


class ActionResetWorked(VerifiedAccountAction):
    def name(self) -> str:
        return "action_reset_worked"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        outcome = recovery.record_reset_outcome(
            session,
            conversation_id=tracker.sender_id,
            token=tracker.get_slot("verification_token"),
            worked=True,
        )
        if outcome.password_changed_at is not None:
            checked = (
                f"I can see the new password was set at "
                f"{outcome.password_changed_at:%H:%M} UTC. "
            )
        else:  # what the account shows, not only what was said
            checked = (
                "Just so you know, I don't see a new password set through the link yet: if the "
                "page didn't say your password was changed, open the link again to finish. "
            )
        dispatcher.utter_message(
            text=f"Great, I'm glad you're back in, {customer.first_name}! {checked}Keep your new "
            "password to yourself. Is there anything else I can help with?"
        )
        return [SlotSet("reset_follow_up", False)]


class ActionResetNotWorked(VerifiedAccountAction):
    """The reset failed: offer the next step; after repeated failures, open a case."""

    def name(self) -> str:
        return "action_reset_not_worked"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        outcome = recovery.record_reset_outcome(
            session,
            conversation_id=tracker.sender_id,
            token=tracker.get_slot("verification_token"),
            worked=False,
        )
        if outcome.case is not None:
            dispatcher.utter_message(
                text=case_text(
                    outcome.case,
                    "I'm sorry the reset still isn't working after "
                    f"{outcome.links_in_conversation} links.",
                )
            )
        else:
            contacts = recovery.recovery_contacts(session, customer.customer_id)
            changed = outcome.password_changed_at
            seen = (
                f"I can see a new password was set through the link at {changed:%H:%M} UTC, "
                f"so please sign in at {recovery.SIGN_IN_URL} with that one. "
                if changed is not None
                else ""
            )
            dispatcher.utter_message(
                text=f"Sorry it didn't work. {seen}Here's what we can do next:\n"
                f"- send a new link by email to {contacts.masked_email} (the old one stops "
                "working),\n"
                f"- send it by SMS to {contacts.masked_phone} instead, or\n"
                "- bring in a person from our support team (you'll get a case number).",
                buttons=RESEND_BUTTONS,
            )
        return [SlotSet("reset_follow_up", False)]


class ActionCheckResetDelivery(VerifiedAccountAction):
    """Common issue "cannot receive recovery email": spam/junk, the address on file, resend."""

    def name(self) -> str:
        return "action_check_reset_delivery"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        found = recovery.reset_delivery(
            session, conversation_id=tracker.sender_id, token=tracker.get_slot("verification_token")
        )
        email = found.contacts.masked_email
        if found.sent and found.channel == "sms":
            head = (
                f"The last reset link went by SMS to {found.masked_to} at {_time(found.sent_at)}."
            )
        elif found.sent:
            head = (
                f"The last reset link went to {found.masked_to} at {_time(found.sent_at)}. Emails "
                "can take a few minutes: please check your spam or junk folder too, and search "
                'for "QuickConnect".'
            )
        else:
            head = (
                "I can't see a reset link sent in the last 24 hours. Reset emails go to the "
                f"address on file, {email}: please check your spam or junk folder too."
            )
        if found.status == "expired":
            head += " That link has expired, so you'll need a new one."
        elif found.status == "used":
            head += " That link has already been used, so a new one is needed."
        dispatcher.utter_message(
            text=f"{head}\nIs {email} still your email address? If not, I can update it (say "
            '"update my email"). Otherwise I can send a new link by email, or by SMS to '
            f"{found.contacts.masked_phone}.",
            buttons=RESEND_BUTTONS[:2]
            + [{"title": "Update my email", "payload": "I need to update my email address"}],
        )
        return [SlotSet("pending_task", None), SlotSet("reset_follow_up", False)]
