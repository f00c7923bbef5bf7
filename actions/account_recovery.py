"""Account recovery guide (guides/account-recovery.txt): reset, unlock, security questions,
contact details and the guide's four common issues.

Flows (each starts with `verification_form`; the customer can verify with the account or phone
plus ANY one factor, so a forgotten email or security answer is no obstacle):
- reset_password -> Forgot Password page + a single-use link by email or SMS to the contact on
  file (`password_reset_form` asks which) -> "did it work?" -> yes: done; no: resend, SMS
  instead or a person (after two links that still fail, a `CS-` case straight away);
- unlock_account -> why is it locked? failed logins: unlock proposed, applied on "yes"
  (actions/changes.py); anything else (security hold): a `CS-` case for the security team;
- update_security_questions (also "I don't remember my security answer") -> alternative
  factors offered -> pick a question, give an answer -> proposed -> "yes";
- update_contact_info / forgot_recovery_contact -> the contacts on file (masked) -> the new
  email or phone -> proposed -> "yes" (notice to the old contact too);
- recovery_email_missing -> where and when the link went (masked), spam/junk, resend or SMS.
A security hold stops every recovery step with a case: only the security team can act.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import ASK_FOR_CONSENT, awaiting_consent, describe_confirmation
from actions.common import VerifiedAccountAction, with_outage_apology
from actions.forms import FormSlotValidation, Question, VerifiedQuestionAction
from actions.request import latest_request
from quickconnect.db.session import unit_of_work
from quickconnect.services import account_recovery as recovery
from quickconnect.services.handoff import CaseOpened
from quickconnect.services.identity import VerifiedCustomer

KEEP_CONTACTS = "[keep]"
NOT_NOW: list[EventType] = [SlotSet("awaiting_confirmation", False)]

RESEND_BUTTONS = [
    {"title": "Send a new link by email", "payload": "send me a new password reset link by email"},
    {"title": "Send it by SMS instead", "payload": "send the password reset link by SMS instead"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def _time(value: datetime | None) -> str:
    return f"{value:%H:%M} UTC" if value else "recently"


def _case_text(case: CaseOpened, why: str) -> str:
    """What the customer needs after an escalation: the case number and what happens next."""
    # `queued` (chat waiting for a live agent) where the handoff service reports it.
    if getattr(case, "queued", bool(case.agents_online)):
        wait = case.expected_wait_minutes or 5
        nxt = f"A member of our support team will join this chat in about {wait} minutes."
    elif case.masked_contact:
        nxt = (
            f"Our team will contact you by {case.follow_up_channel or 'email'} at "
            f"{case.masked_contact} within one business day."
        )
    else:
        nxt = "Our team will follow up with you within one business day."
    return (
        f"{why} I've opened case {case.case_number} for our technical support and security "
        f"team. {nxt} Please quote {case.case_number} if you contact us about this."
    )


class ActionOfferAlternativeFactors(Action):
    """ "I don't remember my security answer / my recovery email": verification only needs ONE
    factor, so offer the others (the guide's "verify through alternative questions").

    During verification the customer's original task is kept (e.g. the password reset they
    asked for); the new request only becomes the task when nothing else was pending.
    """

    def name(self) -> str:
        return "action_offer_alternative_factors"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("verification_status") == "verified":
            return []
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        forgot = "the answer to your security question"
        others = "your registered email address or the amount of your last bill"
        if intent == "forgot_recovery_contact":
            forgot = "the email or phone number on the account"
            others = "your account number with your last bill amount or your security answer"
        dispatcher.utter_message(
            text=f"No problem if you don't remember {forgot}. I only need one detail to confirm "
            f"it's you, so you can use {others} instead. Once you're verified I'll help you "
            "update it."
        )
        if tracker.active_loop.get("name") != "verification_form":
            return []
        previous = _pending_task_before_latest_message(tracker)
        return [SlotSet("pending_task", previous)] if previous else []


def _pending_task_before_latest_message(tracker: Tracker) -> str | None:
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_latest_user = True
        elif (
            seen_latest_user
            and event.get("event") == "slot"
            and event.get("name") == ("pending_task")
        ):
            return event.get("value")
    return None


# --- password reset ---------------------------------------------------------------------------


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
        case = recovery.check_hold(
            session,
            conversation_id=tracker.sender_id,
            token=tracker.get_slot("verification_token"),
            asked_for="reset the password",
        )
        if case is not None:
            dispatcher.utter_message(
                text=_case_text(
                    case,
                    "Your account has a security hold, so for your protection I can't send a "
                    "password reset link in chat.",
                )
            )
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
                text=_case_text(
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


# --- unlock -----------------------------------------------------------------------------------


class ActionCheckAccountLock(VerifiedAccountAction):
    """Why is the account locked? Failed logins: propose the unlock. Otherwise: a case."""

    def name(self) -> str:
        return "action_check_account_lock"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None), SlotSet("reset_follow_up", False)]
        check = recovery.check_lock(
            session, conversation_id=tracker.sender_id, token=tracker.get_slot("verification_token")
        )
        if check.status == "not_locked":
            dispatcher.utter_message(
                text="Good news: your account isn't locked, so you can sign in at "
                f"{recovery.SIGN_IN_URL}. If it's your password that's the problem, say "
                '"reset my password" and I\'ll send you a reset link.'
            )
            return events + NOT_NOW
        if check.status == "escalated" and check.case is not None:
            dispatcher.utter_message(
                text=_case_text(
                    check.case,
                    "Your account is locked because of a security hold, which I can't lift in "
                    "chat.",
                )
            )
            return events + NOT_NOW
        assert check.proposal is not None
        dispatcher.utter_message(
            text=f"Your account was locked after {check.lock.failed_attempts} failed sign-in "
            "attempts. Now that you're verified, I can unlock it for you (or you can unlock it "
            f"yourself by resetting your password at {recovery.FORGOT_PASSWORD_URL}).\n"
            f"{check.proposal.summary}\n{ASK_FOR_CONSENT}"
        )
        return events + awaiting_consent(check.proposal.change_id)


@describe_confirmation(recovery.UNLOCK_KIND)
def _unlocked(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: account {result.get('account_number')} is unlocked and the failed sign-in "
        "counter is back to 0. I've checked the account: it now shows as accessible, so you "
        f"can sign in at {recovery.SIGN_IN_URL}. If you don't remember your password, say "
        '"reset my password".'
    )


# --- security questions -----------------------------------------------------------------------


def _start_change(
    session: Session,
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    asked_for: str,
) -> list[EventType] | None:
    """Shared first step of a recovery change: a security hold ends it with a case."""
    case = recovery.check_hold(
        session,
        conversation_id=tracker.sender_id,
        token=tracker.get_slot("verification_token"),
        asked_for=asked_for,
    )
    if case is None:
        return None
    dispatcher.utter_message(
        text=_case_text(
            case,
            "Your account has a security hold, so for your protection I can't change its "
            "recovery details in chat.",
        )
    )
    return [SlotSet("pending_task", None), SlotSet("recovery_allowed", False)]


class ActionStartSecurityQuestions(VerifiedAccountAction):
    def name(self) -> str:
        return "action_start_security_questions"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        stopped = _start_change(session, tracker, dispatcher, "reset the security question")
        if stopped is not None:
            return stopped
        dispatcher.utter_message(
            text="Let's set a new security question. Your old question and answer stop working "
            "once the new one is saved."
        )
        return [
            SlotSet("pending_task", None),
            SlotSet("recovery_allowed", True),
            SlotSet("reset_follow_up", False),
            SlotSet("new_security_question", None),
            SlotSet("new_security_answer", None),
        ]


class ValidateSecurityQuestionsForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_security_questions_form"

    def validate_new_security_question(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        question = recovery.find_security_question(str(slot_value or ""))
        if question is None:
            dispatcher.utter_message(
                text="Sorry, I couldn't tell which question you meant. Please pick a number "
                "from 1 to 5."
            )
        return {"new_security_question": question}

    def validate_new_security_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        question = tracker.get_slot("new_security_question") or ""
        problem = recovery.check_new_answer(question, str(slot_value or ""))
        if problem:
            dispatcher.utter_message(text=problem)
            return {"new_security_answer": None}
        return {"new_security_answer": str(slot_value).strip()}


class ActionProposeSecurityQuestion(VerifiedAccountAction):
    """Show the exact change and ask for a yes; the answer leaves the slots here."""

    def name(self) -> str:
        return "action_propose_security_question"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        cleared: list[EventType] = [
            SlotSet("new_security_question", None),
            SlotSet("new_security_answer", None),
        ]
        try:
            proposal = recovery.propose_security_question(
                session,
                conversation_id=tracker.sender_id,
                token=tracker.get_slot("verification_token"),
                question=tracker.get_slot("new_security_question") or "",
                answer=tracker.get_slot("new_security_answer") or "",
            )
        except recovery.RecoveryError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return cleared + NOT_NOW
        dispatcher.utter_message(text=f"{proposal.summary}\n{ASK_FOR_CONSENT}")
        return cleared + awaiting_consent(proposal.change_id)


@describe_confirmation(recovery.SECURITY_QUESTION_KIND)
def _security_question_changed(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f'Done: your security question is now "{result.get("question")}", with the answer you '
        "gave. You can use it to verify your identity from now on."
    )


# --- contact details --------------------------------------------------------------------------


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
        stopped = _start_change(session, tracker, dispatcher, "update the recovery contacts")
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
        return [
            SlotSet("pending_task", None),
            SlotSet("recovery_allowed", True),
            SlotSet("reset_follow_up", False),
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
