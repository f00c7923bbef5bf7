"""Managing a plan: starting the flow, its form, the proposal and the confirmations."""

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
    MANAGE_CHOICES,
    MANAGE_FORM,
    UPDATE_CONTACT_HINT,
    _day,
    _device_id,
    _DeviceProtectionFormValidation,
    _money,
    _new_device,
    _no_plan,
    _prefill,
    _reset,
    parse_manage_choice,
)
from actions.request import latest_request
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer


class ActionStartManage(VerifiedAccountAction):
    """Once verified: the plan number is always asked for (the guide); keep what was said."""

    def name(self) -> str:
        return "action_dp_start_manage"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        text = latest_request(tracker, "manage_device_protection").text
        choice = parse_manage_choice(text)
        events = _prefill(
            tracker, ("manage_device_protection",), keep_device=choice == "add_device"
        )
        if not dp.customer_plans(session, customer.customer_id):
            events.append(SlotSet("dp_no_plan", True))
            return events
        if choice:
            events += [SlotSet("dp_manage_choice", choice), SlotSet("dp_payment_hint", text)]
        tier = dp.find_tier(session, text) if choice == "change_tier" else None
        if tier:
            events.append(SlotSet("dp_tier", tier.name))
        return events


class ValidateManageForm(_DeviceProtectionFormValidation):
    form = MANAGE_FORM

    def name(self) -> str:
        return f"validate_{MANAGE_FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("dp_no_plan"):
            return []
        slots = ["protection_plan_number", "dp_manage_choice"]
        choice = tracker.get_slot("dp_manage_choice")
        if choice == "change_tier":
            slots.append("dp_tier")
        elif choice == "add_device":
            slots += ["dp_device", *self._new_device_slots(tracker)]
        return slots

    def validate_dp_manage_choice(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        choice = parse_manage_choice(str(slot_value))
        if choice is None:
            dispatcher.utter_message(text="Sorry, I didn't catch what you'd like to change.")
            return {"dp_manage_choice": None}
        if str(slot_value) in MANAGE_CHOICES:  # set by the start action with its own hint
            return {"dp_manage_choice": choice}
        return {"dp_manage_choice": choice, "dp_payment_hint": str(slot_value)}


class ActionManagePlan(VerifiedAccountAction):
    """Do what the customer chose for the plan: a proposal to confirm, or the contact check."""

    def name(self) -> str:
        return "action_dp_manage"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        if tracker.get_slot("dp_no_plan"):
            return _no_plan(dispatcher)
        plan_number = str(tracker.get_slot("protection_plan_number"))
        choice = tracker.get_slot("dp_manage_choice")
        done = [*_reset(), SlotSet("awaiting_confirmation", False)]
        common = {
            "session": session,
            "conversation_id": tracker.sender_id,
            "customer_id": customer.customer_id,
            "plan_number": plan_number,
        }
        try:
            if choice == "contact":
                plan, contact = dp.plan_contact_details(**common)
                dispatcher.utter_message(
                    text=f"Messages about {plan.plan_number} go to the contact details on your "
                    f"account: {contact.masked_email} and {contact.masked_phone}. "
                    + UPDATE_CONTACT_HINT
                )
                return done
            if choice == "payment":
                proposal = dp.propose_payment_method_change(
                    **common, method_hint=tracker.get_slot("dp_payment_hint")
                )
            elif choice == "add_device":
                proposal = dp.propose_add_device(
                    **common, device_id=_device_id(tracker), new_device=_new_device(tracker)
                )
            else:
                tier = dp.find_tier(session, tracker.get_slot("dp_tier"))
                if tier is None:
                    raise dp.UnknownTier("I couldn't find that protection plan.")
                proposal = dp.propose_tier_change(**common, tier_code=tier.code)
        except dp.DeviceProtectionError as refusal:
            dispatcher.utter_message(text=str(refusal))
            return done
        dispatcher.utter_message(text=f"{proposal.summary}\n{ASK_FOR_CONSENT}")
        return [*_reset(), *awaiting_consent(proposal.change.change_id)]


@describe_confirmation(dp.CHANGE_TIER)
def _tier_changed(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: {result['plan_number']} is now {result['tier_name']} (was "
        f"{result['old_tier_name']}). Your new price of {_money(result['monthly_total'])}/month "
        f"applies from your bill of {_day(result['next_bill_date'])}."
    )


@describe_confirmation(dp.CHANGE_PAYMENT)
def _payment_changed(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: {result['plan_number']} is now charged to {result['payment_method']}, from "
        "your next bill."
    )


@describe_confirmation(dp.ADD_DEVICE)
def _device_added(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: your {result['device']} is now covered by {result['plan_number']}. The plan "
        f"costs {_money(result['monthly_total'])}/month from your bill of "
        f"{_day(result['next_bill_date'])}."
    )
