"""Identity verification form (spec: "Identity verification").

The form asks for the account (number or phone on file; the fixed question is the response
`utter_ask_account_number`), then one knowledge factor (this module's question, which names
the account's own security question).
Every check is done by `quickconnect.services.identity` against the database, which also
counts failures per conversation, per account and per client address (the channel's
metadata, `actions.common.client_key`); the slots only mirror its answers for the dialogue
rules. A limit reached ends the form as failed, and the failure rule offers a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import client_key, with_outage_apology
from quickconnect.db.session import unit_of_work
from quickconnect.services import identity

# Channels where the client chooses the conversation id, so knowing one is no proof of
# being its customer: a verification there is bound to the client's address.
CLIENT_NAMED_CHANNELS = {"rest"}

# The factor the customer typed is never kept in a slot once checked.
VERIFIED_PLACEHOLDER = "[verified]"
FAILED_PLACEHOLDER = "[not verified]"


def _locked_out() -> dict[str, Any]:
    """Fill the form so it ends; the failure rule then offers a person with a case number."""
    return {
        "verification_status": "failed",
        "verification_token": None,
        "account_number": FAILED_PLACEHOLDER,
        "verification_answer": FAILED_PLACEHOLDER,
    }


# What the customer is told when a limit beyond this conversation refuses verification.
REFUSAL_TEXT = {
    identity.REFUSED_ACCOUNT: (
        "For your security, identity checks for this account are paused in chat for now, "
        "after several unsuccessful attempts. We've let the account holder know at the "
        "contact details on file."
    ),
    identity.REFUSED_CLIENT: (
        "For your security, I can't run more identity checks from this connection for a "
        "while, after several unsuccessful attempts."
    ),
}
WEAK_FACTOR_TEXT = (
    "For your security, a bill amount that is the same as one of our standard prices can't "
    "confirm who you are on its own. Please tell me the email address registered on the "
    "account or the answer to your security question instead."
)


def _refused(dispatcher: CollectingDispatcher, refusal: str | None) -> dict[str, Any]:
    """End the form as failed, saying which limit refused it when it is not the chat's own."""
    if refusal in REFUSAL_TEXT:
        dispatcher.utter_message(text=REFUSAL_TEXT[refusal])
    return _locked_out()


def _attempts_text(attempts_left: int) -> str:
    return f"You have {attempts_left} attempt{'s' if attempts_left != 1 else ''} left."


class ValidateVerificationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_verification_form"

    @with_outage_apology(default={"account_number": None})
    def validate_account_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        status = tracker.get_slot("verification_status")
        if status == "verified":
            return {"account_number": slot_value}  # another account is refused by the task
        if status == "failed":
            return _locked_out()
        with unit_of_work() as session:
            found = identity.identify_account(
                session, tracker.sender_id, str(slot_value), client_key=client_key(tracker)
            )
        if found.locked_out:
            return _refused(dispatcher, found.refusal)
        if not found.found:
            dispatcher.utter_message(
                text="I couldn't find an account with that number or phone number. Please check "
                f"it and try again (account numbers look like QC-123456). "
                f"{_attempts_text(found.attempts_left)}"
            )
            return {"account_number": None}
        return {
            "account_number": found.account_number,
            "security_question": found.security_question,
        }

    @with_outage_apology(default={"verification_answer": None})
    def validate_verification_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        status = tracker.get_slot("verification_status")
        if status == "verified":
            return {"verification_answer": VERIFIED_PLACEHOLDER}
        if status == "failed":
            return _locked_out()
        account_number = tracker.get_slot("account_number")
        if not account_number:
            # A factor given before the account is known is asked for again afterwards,
            # so it is always checked against the right account.
            return {"verification_answer": None}
        answer = str(slot_value)
        with unit_of_work(read_only=True) as session:
            material = identity.factor_material(session, account_number)
        # The slow security-answer hash runs outside any transaction (see FactorCheck).
        checked = identity.check_factor(material, account_number, answer)
        with unit_of_work() as session:
            result = identity.verify_factor(
                session,
                tracker.sender_id,
                account_number,
                answer,
                checked=checked,
                client_key=client_key(tracker),
                # over REST the client names the conversation: hold only for this client
                bind_client=tracker.get_latest_input_channel() in CLIENT_NAMED_CHANNELS,
            )
        if result.status == "verified":
            dispatcher.utter_message(text=f"Thanks, {result.first_name}, that matches our records.")
            return {
                "verification_answer": VERIFIED_PLACEHOLDER,
                "verification_status": "verified",
                "verification_token": result.token,
                "customer_first_name": result.first_name,
            }
        if result.status == "retry":
            dispatcher.utter_message(
                text="Sorry, that doesn't match what we have on file. You can try your "
                "registered email, your last bill amount or your security answer. "
                f"{_attempts_text(result.attempts_left)}"
            )
            return {"verification_answer": None}
        if result.status == "weak_factor":
            dispatcher.utter_message(text=WEAK_FACTOR_TEXT)
            return {"verification_answer": None}
        return _refused(dispatcher, result.refusal)


class ActionAskVerificationAnswer(Action):
    """The form's second question, naming the account's own security question."""

    def name(self) -> str:
        return "action_ask_verification_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = tracker.get_slot("security_question")
        security = (
            f'the answer to your security question: "{question}"'
            if question
            else ("the answer to your security question")
        )
        dispatcher.utter_message(
            text="Thanks. To confirm it's you, please tell me one of these: the email address "
            f"registered on the account, the amount of your last bill, or {security}"
        )
        return []
