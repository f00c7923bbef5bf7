"""What the forms' custom parts share: questions built from the customer's data, and validators
that look the verified customer up.

A form's fixed questions are domain responses (`utter_ask_<slot>` in domain.yml): Rasa sends
them itself, without a call to the action server. Only a question that needs data (the
customer's devices, plans, contacts on file) is an `action_ask_<slot>`, built on
`VerifiedQuestionAction` below so each one is just the question.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from quickconnect.services import identity
from quickconnect.services.identity import VerifiedCustomer

Button = dict[str, str]


def choice_buttons(labels: Iterable[str]) -> list[Button]:
    """One button per choice, sending the choice's own name (what the validators accept)."""
    return [{"title": label, "payload": label} for label in labels]


@dataclass(frozen=True)
class Question:
    text: str
    buttons: list[Button] = field(default_factory=list)


class VerifiedQuestionAction(VerifiedAccountAction):
    """`action_ask_<slot>` for a question composed from the verified customer's data.

    Subclasses set `slot` and implement `question`; asking sets no slot (the form's validator
    does). Abstract, so the action server does not register this base class.
    """

    slot: ClassVar[str]
    read_only = True  # asking only reads the account

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    @abstractmethod
    def question(
        self, session: Session, customer: VerifiedCustomer, tracker: Tracker
    ) -> Question: ...

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        asked = self.question(session, customer, tracker)
        dispatcher.utter_message(text=asked.text, buttons=asked.buttons)
        return []


def verified_customer(session: Session, tracker: Tracker) -> VerifiedCustomer | None:
    """The customer this conversation is verified for (from the database), for validators,
    which run outside `VerifiedAccountAction`."""
    return identity.verified_customer(
        session, tracker.sender_id, tracker.get_slot("verification_token")
    )


class FormSlotValidation(FormValidationAction, ABC):
    """A form's `validate_<form>` that validates only the values the customer gave.

    Rasa hands a form's validation every slot set since the customer's last message as a
    candidate, including the ones a flow's start action has just cleared
    (`SlotSet(slot, None)`) when the form starts in the same turn as verification. rasa-sdk
    then calls `validate_<slot>(None, ...)`, and a validator that formats its value answered
    "I can't find an active device protection plan None" (issue #30) or "didn't catch" the
    incident, the date and the description before any was asked. A cleared slot is not an
    answer: it stays empty and the form asks for it. Abstract, so it is not registered.
    """

    @abstractmethod
    def name(self) -> str: ...

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        given = {k: v for k, v in tracker.slots_to_validate().items() if v is not None}

        def slots_to_validate() -> dict[str, Any]:
            return dict(given)

        tracker.slots_to_validate = slots_to_validate  # type: ignore[method-assign]
        return await super().get_validation_events(dispatcher, tracker, domain)
