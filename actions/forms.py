"""What the forms' custom parts share: questions built from the customer's data, and validators
that look the verified customer up.

A form's fixed questions are domain responses (`utter_ask_<slot>` in domain.yml): Rasa sends
them itself, without a call to the action server. Only a question that needs data (the
customer's devices, plans, contacts on file) is an `action_ask_<slot>`, built on
`VerifiedQuestionAction` below so each one is just the question.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
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
