"""The guide's "unlocked account" step: why is sign-in locked, and unlock it.

Failed logins: the unlock is proposed and applied on "yes" (actions/changes.py); anything else
(a security hold): a `CS-` case for the security team.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.account_recovery.common import NOT_NOW, case_text
from actions.changes import ASK_FOR_CONSENT, awaiting_consent, describe_confirmation
from actions.common import VerifiedAccountAction
from quickconnect.services import account_recovery as recovery
from quickconnect.services.identity import VerifiedCustomer


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
                text=case_text(
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
