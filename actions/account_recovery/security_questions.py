"""The guide's "update account information" step, part one: a new security question.

Also serves "I don't remember my security answer" once verified with another factor: pick a
question, give an answer -> the exact change proposed -> "yes" (actions/changes.py).
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
from actions.common import VerifiedAccountAction
from actions.forms import FormSlotValidation
from quickconnect.services import account_recovery as recovery
from quickconnect.services.identity import VerifiedCustomer


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
        stopped = start_change(session, tracker, dispatcher, "reset the security question")
        if stopped is not None:
            return stopped
        dispatcher.utter_message(
            text="Let's set a new security question. Your old question and answer stop working "
            "once the new one is saved."
        )
        return CHANGE_ALLOWED + [
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
