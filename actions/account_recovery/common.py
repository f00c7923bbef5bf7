"""What the recovery steps share: the security-hold stop and the case text after an escalation.

A security hold stops every recovery step with a `CS-` case: only the security team can act,
so the check comes first in every step that sends a link or changes recovery details.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from quickconnect.services import account_recovery as recovery
from quickconnect.services.handoff import CaseOpened

# Proposals that did not happen: no change is waiting for the customer's yes.
NOT_NOW: list[EventType] = [SlotSet("awaiting_confirmation", False)]


def case_text(case: CaseOpened, why: str) -> str:
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


def stopped_by_hold(
    session: Session,
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    *,
    asked_for: str,
    why: str,
) -> bool:
    """True (and the case told to the customer) when a security hold stops this step."""
    case = recovery.check_hold(
        session,
        conversation_id=tracker.sender_id,
        token=tracker.get_slot("verification_token"),
        asked_for=asked_for,
    )
    if case is None:
        return False
    dispatcher.utter_message(text=case_text(case, why))
    return True


# What a recovery change starts with once no hold stopped it (the forms run on
# `recovery_allowed`); `start_change` returns the refusal instead.
CHANGE_ALLOWED: list[EventType] = [
    SlotSet("pending_task", None),
    SlotSet("recovery_allowed", True),
    SlotSet("reset_follow_up", False),
]


def start_change(
    session: Session,
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    asked_for: str,
) -> list[EventType] | None:
    """Shared first step of a recovery change: a security hold ends it with a case."""
    if not stopped_by_hold(
        session,
        tracker,
        dispatcher,
        asked_for=asked_for,
        why="Your account has a security hold, so for your protection I can't change its "
        "recovery details in chat.",
    ):
        return None
    return [SlotSet("pending_task", None), SlotSet("recovery_allowed", False)]
