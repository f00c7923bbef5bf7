"""Enrolling a device: starting the flow, its form, the proposal and the confirmation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import ASK_FOR_CONSENT, awaiting_consent, describe_confirmation
from actions.common import VerifiedAccountAction
from actions.device_protection.common import (
    ENROL_FORM,
    _day,
    _device_id,
    _DeviceProtectionFormValidation,
    _money,
    _new_device,
    _prefill,
    _reset,
)
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer


class ActionStartEnrolment(VerifiedAccountAction):
    """Once verified: reset, keep a device named in the request, and say what comes next."""

    def name(self) -> str:
        return "action_dp_start_enrolment"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=f"Happy to help you protect a device, {customer.first_name}. I'll find the "
            "protection plans that fit it, then confirm the price and your details before "
            "anything is set up."
        )
        return _prefill(tracker, ("enroll_device_protection",))


class ValidateEnrolForm(_DeviceProtectionFormValidation):
    form = ENROL_FORM

    def name(self) -> str:
        return f"validate_{ENROL_FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return ["dp_device", *self._new_device_slots(tracker), "dp_tier"]


class ActionProposeEnrolment(VerifiedAccountAction):
    """The enrolment summary (price, deductible, cover, payment and contact) and a yes/no."""

    def name(self) -> str:
        return "action_dp_propose_enrolment"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        tier = dp.find_tier(session, tracker.get_slot("dp_tier"))
        try:
            if tier is None:
                raise dp.UnknownTier("I couldn't find that protection plan.")
            proposal = dp.propose_enrolment(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                tier_code=tier.code,
                device_id=_device_id(tracker),
                new_device=_new_device(tracker),
            )
        except dp.DeviceProtectionError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return [*_reset(), SlotSet("awaiting_confirmation", False)]
        dispatcher.utter_message(text=f"Here's the summary:\n{proposal.summary}\n{ASK_FOR_CONSENT}")
        return [*_reset(), *awaiting_consent(proposal.change.change_id)]


@describe_confirmation(dp.ENROL)
def _enrolled(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: your {result['device']} is protected. Your plan number is "
        f"{result['plan_number']} ({result['tier_name']}, {_money(result['monthly_price'])}/month"
        f", {_money(result['deductible'])} deductible per claim, covering {result['covers']}). "
        f"The first charge is on your bill of {_day(result['first_bill_date'])}, to "
        f"{result['payment_method']}.\n{dp.HOW_TO_SEE_IT}"
    )
