"""What every account action shares: the verification check and failure handling.

Two invariants live here so no flow can forget them:
- who is verified comes from the database (token bound to this conversation), never from
  slots alone, and a verified customer cannot act on another account number;
- a database or network failure becomes a clear apology, never a stack trace, and the
  unit of work rolls back so nothing is half-applied.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.client_context import latest_client
from quickconnect.db.session import unit_of_work
from quickconnect.identifiers import normalize_account_number
from quickconnect.services import identity
from quickconnect.services.identity import VerifiedCustomer

logger = logging.getLogger(__name__)

# Failures of the systems behind the bot (database down or slow, network) as opposed to bugs.
SYSTEM_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, TimeoutError)

UNVERIFIED_RESET: list[EventType] = [
    SlotSet("verification_status", "unverified"),
    SlotSet("verification_token", None),
    SlotSet("verification_answer", None),
    SlotSet("account_number", None),
]


SYSTEM_UNAVAILABLE = (
    "I'm sorry, I can't reach our account systems right now, so I haven't looked up or changed "
    'anything. Please try again in a few minutes, or type "agent" and I\'ll get you a person.'
)


def client_key(tracker: Tracker) -> str | None:
    """The client address the channel recorded on the latest customer message, if any
    (`quickconnect.client_address`); verification limits failures per client with it."""
    return latest_client({"events": tracker.events})


def apologise_for_outage(dispatcher: CollectingDispatcher, error: BaseException) -> None:
    logger.error("Back-end failure: %r", error)
    dispatcher.utter_message(text=SYSTEM_UNAVAILABLE)


def with_outage_apology(default: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a handler so a back-end failure apologises and returns `default`.

    The handler (blocking database work) runs in a worker thread: rasa-sdk calls synchronous
    actions on its event loop, so one slow query or password hash would stall every other
    conversation the action server is serving.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)  # rasa-sdk inspects the signature of `run`
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return await asyncio.to_thread(fn, self, *args, **kwargs)
            except SYSTEM_ERRORS as error:
                dispatcher = next(a for a in args if isinstance(a, CollectingDispatcher))
                apologise_for_outage(dispatcher, error)
                return default() if callable(default) else default

        return wrapper

    return decorate


class VerifiedAccountAction(Action, ABC):
    """Base for actions that read or change a verified customer's account.

    Subclasses implement `name` and `handle`; `handle` runs inside one database transaction,
    a read-only one when the subclass sets `read_only` (see `unit_of_work`).
    (Abstract, so the action server does not register the base class itself.)
    """

    read_only: ClassVar[bool] = False

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # In a worker thread, for the same reason as `with_outage_apology`.
        return await asyncio.to_thread(self._run_in_transaction, dispatcher, tracker, domain)

    def _run_in_transaction(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            with unit_of_work(read_only=self.read_only) as session:
                customer = identity.verified_customer(
                    session, tracker.sender_id, tracker.get_slot("verification_token")
                )
                if customer is None:
                    dispatcher.utter_message(
                        text="For your security I need to verify your identity again before "
                        "I can help with that. Please ask me again and I'll check it first."
                    )
                    return list(UNVERIFIED_RESET)
                mentioned = normalize_account_number(tracker.get_slot("account_number") or "")
                if mentioned and mentioned != customer.account_number:
                    dispatcher.utter_message(
                        text=f"In this chat you're verified for account {customer.account_number}"
                        ", so I can only look at or change that account. For another account, "
                        "please start a new chat and verify for it."
                    )
                    return [SlotSet("account_number", customer.account_number)]
                return self.handle(session, customer, dispatcher, tracker, domain)
        except SYSTEM_ERRORS as error:
            apologise_for_outage(dispatcher, error)
            return []
