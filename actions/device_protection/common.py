"""Forms, slots, the form validation the three flows share, and small helpers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import with_outage_apology
from actions.forms import (
    FormSlotValidation,
    verified_customer,
)
from actions.request import latest_request
from quickconnect.db.session import unit_of_work
from quickconnect.identifiers import parse_amount
from quickconnect.services import device_protection as dp

ENROL_FORM = "dp_enrol_form"
MANAGE_FORM = "dp_manage_form"
CLAIM_FORM = "dp_claim_form"
NEW_DEVICE = "new"
PROTECTABLE_TYPES = ("phone", "tablet", "smartwatch", "laptop")
MANAGE_CHOICES = ("payment", "contact", "add_device", "change_tier")

# Every slot of these flows, reset when a flow starts and when it ends.
FLOW_SLOTS = (
    "protection_plan_number",
    "claim_number",
    "dp_device",
    "dp_new_device_type",
    "dp_new_device_model",
    "dp_new_device_value",
    "dp_tier",
    "dp_manage_choice",
    "dp_payment_hint",
    "dp_incident_type",
    "dp_incident_date",
    "dp_incident_description",
    "dp_contact_current",
    "dp_no_plan",
)
UPDATE_CONTACT_HINT = (
    'If anything has changed, just say "update my contact details" and I\'ll help you '
    "change them."
)
_NEW_WORDS = re.compile(
    r"\b(new|another|different|other|none|not (listed|there|on (the|my) (list|account)))\b",
    re.IGNORECASE,
)
_CHOICE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "payment",
        re.compile(r"\b(pay|paying|payment|card|visa|mastercard|amex|bank|billing|charged?)\b"),
    ),
    (
        "add_device",
        re.compile(r"\b(add|another device|second device|new device|extra device|include)\b"),
    ),
    (
        "change_tier",
        re.compile(
            r"\b(upgrade|downgrade|premium|basic|plus|tier|level|better cover|cheaper|"
            r"change (the |my )?(plan|cover|coverage|protection))\b"
        ),
    ),
    ("contact", re.compile(r"\b(contact|e-?mail|phone number|number|address|details)\b")),
)


def _money(value: Any) -> str:
    return f"${float(value):,.2f}"


def _reset() -> list[EventType]:
    """Clear the flow's slots (and a task an answer may have re-requested mid-form)."""
    return [SlotSet(slot, None) for slot in FLOW_SLOTS] + [SlotSet("pending_task", None)]


def parse_manage_choice(text: str | None) -> str | None:
    """'change the card it's paid with' -> payment, 'upgrade to premium' -> change_tier."""
    if not text:
        return None
    lowered = text.lower().replace("_", " ")
    if lowered.strip() in MANAGE_CHOICES:
        return lowered.strip()
    if lowered.strip() == "add device":
        return "add_device"
    for choice, pattern in _CHOICE_PATTERNS:
        if pattern.search(lowered):
            return choice
    return None


def _prefill(
    tracker: Tracker, intents: tuple[str, ...], *, keep_device: bool = True
) -> list[EventType]:
    """Reset the flow's slots, then keep what the request itself already said."""
    message = latest_request(tracker, *intents)
    events = _reset()
    plan = message.entity("protection_plan_number")
    if plan:
        events.append(SlotSet("protection_plan_number", plan))
    device = message.entity("device_type")
    if device and keep_device:
        events.append(SlotSet("dp_device", device))
    return events


def _new_device(tracker: Tracker) -> dp.NewDevice | None:
    """The new device described in chat; None until its type and model are known (never the
    text "None" of an empty slot)."""
    device_type = tracker.get_slot("dp_new_device_type")
    make_model = tracker.get_slot("dp_new_device_model")
    if tracker.get_slot("dp_device") != NEW_DEVICE or not device_type or not make_model:
        return None
    value = parse_amount(str(tracker.get_slot("dp_new_device_value") or ""))
    return dp.NewDevice(
        device_type=str(device_type),
        make_model=str(make_model),
        value=value if value is not None else Decimal("0"),
    )


def _device_id(tracker: Tracker) -> int | None:
    value = str(tracker.get_slot("dp_device") or "")
    return int(value.split(":", 1)[1]) if value.startswith("device:") else None


class _DeviceProtectionFormValidation(FormSlotValidation, ABC):
    """Validation shared by the three forms; each subclass names its form and its slots.
    (Abstract, so the action server does not register the base class itself.)"""

    form: str = ""

    @abstractmethod
    def name(self) -> str: ...

    def _new_device_slots(self, tracker: Tracker) -> list[str]:
        if tracker.get_slot("dp_device") != NEW_DEVICE:
            return []
        return ["dp_new_device_type", "dp_new_device_model", "dp_new_device_value"]

    @with_outage_apology(default={"protection_plan_number": None})
    def validate_protection_plan_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not isinstance(slot_value, str) or not slot_value.strip():
            return {"protection_plan_number": None}  # nothing given: the form asks for it
        with unit_of_work() as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                return {"protection_plan_number": None}
            try:
                plan = dp.find_protection_plan(session, customer.customer_id, slot_value)
            except dp.UnknownProtectionPlan as unknown:
                plans = dp.customer_plans(session, customer.customer_id)
                listed = ", ".join(f"{p.plan_number} ({p.device_labels})" for p in plans)
                on_file = (
                    f"The plans on your account are: {listed}."
                    if plans
                    else "I can't see any active protection plan on your account."
                )
                dispatcher.utter_message(
                    text=f"{unknown} {on_file} Plan numbers look like DP-123456 and are in your "
                    "plan summary email."
                )
                return {"protection_plan_number": None}
        return {"protection_plan_number": plan.plan_number}

    @with_outage_apology(default={"dp_device": None})
    def validate_dp_device(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(slot_value)
        if text == NEW_DEVICE or text.startswith("device:"):
            return {"dp_device": text}
        with unit_of_work() as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                return {"dp_device": None}
            all_devices = dp.customer_devices(session, customer.customer_id)
        uncovered = [d for d in all_devices if d.protection_plan_number is None]
        device = dp.match_device(uncovered, text)
        if device is not None:
            return {"dp_device": f"device:{device.device_id}"}
        covered = dp.match_device(all_devices, text, by_type=False)  # named by make or model
        if covered is not None and covered.protection_plan_number:
            dispatcher.utter_message(
                text=f"Your {covered.label} is already protected by "
                f"{covered.protection_plan_number}. Which other device would you like to protect?"
            )
            return {"dp_device": None}
        device_type = dp.device_type_in(text)
        if _NEW_WORDS.search(text) or device_type:
            return self._new_device_type({"dp_device": NEW_DEVICE}, device_type, dispatcher)
        dispatcher.utter_message(text="Sorry, I didn't catch which device you mean.")
        return {"dp_device": None}

    def _new_device_type(
        self, result: dict[str, Any], device_type: str | None, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if device_type in PROTECTABLE_TYPES:
            result["dp_new_device_type"] = device_type
        elif device_type:
            dispatcher.utter_message(
                text=f"I'm sorry, our protection plans don't cover a {device_type}: they cover "
                "phones, tablets, smartwatches and laptops."
            )
            return {"dp_device": None}
        return result

    def validate_dp_new_device_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        device_type = dp.device_type_in(str(slot_value))
        if device_type in PROTECTABLE_TYPES:
            return {"dp_new_device_type": device_type}
        if device_type:
            dispatcher.utter_message(
                text=f"I'm sorry, our protection plans don't cover a {device_type}. They cover "
                "phones, tablets, smartwatches and laptops."
            )
        return {"dp_new_device_type": None}

    def validate_dp_new_device_model(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        model = " ".join(str(slot_value).split())
        model = re.sub(r"^(it'?s|it is|its|a|an|the|my)\s+", "", model, flags=re.IGNORECASE)
        if len(model) < 2 or len(model) > 80:
            return {"dp_new_device_model": None}
        return {"dp_new_device_model": model}

    def validate_dp_new_device_value(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        value = parse_amount(str(slot_value))
        if value is None or value <= 0:
            dispatcher.utter_message(text='Please give the price as a number, e.g. "$899".')
            return {"dp_new_device_value": None}
        return {"dp_new_device_value": str(value)}

    @with_outage_apology(default={"dp_tier": None})
    def validate_dp_tier(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not isinstance(slot_value, str) or not slot_value.strip():
            return {"dp_tier": None}  # nothing given: the form asks for it
        with unit_of_work() as session:
            tier = dp.find_tier(session, slot_value)
        if tier is None:
            dispatcher.utter_message(
                text=f'I couldn\'t find a protection plan called "{slot_value}". Please pick '
                "one of the plans above."
            )
            return {"dp_tier": None}
        return {"dp_tier": tier.name}


def _no_plan(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(
        text="I can't find an active device protection plan on your account. If you'd like "
        'to protect a device, say "enrol my device in protection".'
    )
    return [*_reset(), SlotSet("awaiting_confirmation", False)]


def _day(value: Any) -> str:
    return dp.format_date(date.fromisoformat(str(value)))
