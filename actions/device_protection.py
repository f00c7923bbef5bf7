"""Device protection guide (guides/device-protection.txt): enrol, manage, claim, claim status.

Flows (each starts after verification, see data/rules/device_protection.yml):
- enrol: which device (on the account, or a new one: type, make and model, value) -> the
  tiers that fit it -> summary with price, deductible, cover, payment method and contact
  details on file -> explicit yes (actions/changes.py) -> `DP-` plan, summary emailed.
- manage: always the plan number first -> what to do: payment method, contact details, add a
  device, upgrade/downgrade -> a proposal and a yes (contact details are shown masked and
  changed by the account-recovery flow, `update_contact_info`).
- claim: plan number (proof of protection) -> device on that plan -> incident type, date,
  description -> are the contact details on file current? -> `CL-` claim, review timeline,
  pre-existing issues flagged.
- claim status: by claim number, or the customer's open and recently decided claims.
"""

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
from sqlalchemy.orm import Session

from actions.changes import ASK_FOR_CONSENT, awaiting_consent, describe_confirmation
from actions.common import VerifiedAccountAction, with_outage_apology
from actions.forms import (
    FormSlotValidation,
    Question,
    VerifiedQuestionAction,
    choice_buttons,
    verified_customer,
)
from actions.request import latest_request
from quickconnect.dates import resolve_date
from quickconnect.db.models import utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.identifiers import parse_amount
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer

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


# --- starting the flows -------------------------------------------------------------------------


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


class ActionStartClaim(VerifiedAccountAction):
    """Once verified: keep the plan, device, incident type and date the report mentioned."""

    def name(self) -> str:
        return "action_dp_start_claim"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        # The device is asked for once the plan is known (it must be on that plan).
        events = _prefill(tracker, ("file_claim",), keep_device=False)
        if not dp.customer_plans(session, customer.customer_id):
            events.append(SlotSet("dp_no_plan", True))
            return events
        dispatcher.utter_message(
            text="I'm sorry that happened. Let's get your claim started; I'll need a few "
            "details for the claims team."
        )
        message = latest_request(tracker, "file_claim")
        incident = dp.parse_incident_type(message.text)
        if incident and incident != "other":
            events.append(SlotSet("dp_incident_type", incident))
        when = message.entity("date")
        if when:
            events.append(SlotSet("dp_incident_date", when))
        return events


# --- the forms ------------------------------------------------------------------------------------


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


class ValidateClaimForm(_DeviceProtectionFormValidation):
    form = CLAIM_FORM

    def name(self) -> str:
        return f"validate_{CLAIM_FORM}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("dp_no_plan"):
            return []
        return [
            "protection_plan_number",
            "dp_device",
            "dp_incident_type",
            "dp_incident_date",
            "dp_incident_description",
            "dp_contact_current",
        ]

    @with_outage_apology(default={"dp_device": None})
    def validate_dp_device(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Only a device the plan covers can be claimed for."""
        text = str(slot_value)
        if text.startswith("device:"):
            return {"dp_device": text}
        plan_number = tracker.get_slot("protection_plan_number")
        if not plan_number:
            return {"dp_device": None}  # asked again once the plan is known
        with unit_of_work() as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                return {"dp_device": None}
            try:
                plan = dp.find_protection_plan(session, customer.customer_id, plan_number)
            except dp.UnknownProtectionPlan as unknown:  # the plan number is asked again
                dispatcher.utter_message(text=str(unknown))
                return {"dp_device": None, "protection_plan_number": None}
            everything = dp.customer_devices(session, customer.customer_id)
        on_plan = dp.match_device(plan.devices, text)
        if on_plan is not None:
            return {"dp_device": f"device:{on_plan.device_id}"}
        elsewhere = dp.match_device(everything, text)
        named = elsewhere.label if elsewhere else (dp.device_type_in(text) or "that device")
        if elsewhere or dp.device_type_in(text):
            dispatcher.utter_message(
                text=f"I'm sorry, your {named} isn't covered by {plan.plan_number}, so I can't "
                f"file a claim for it on this plan. {plan.plan_number} covers your "
                f'{plan.device_labels}. To protect another device from now on, say "enrol a '
                "device in protection\" once we're done."
            )
        else:
            dispatcher.utter_message(text="Sorry, I didn't catch which device it is.")
        return {"dp_device": None}

    def validate_dp_incident_type(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        incident = dp.parse_incident_type(str(slot_value))
        if incident is None:
            dispatcher.utter_message(text="Sorry, I didn't catch what kind of incident it was.")
        return {"dp_incident_type": incident}

    def validate_dp_incident_date(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        today = utcnow().date()
        day = resolve_date(str(slot_value), today, prefer="past")
        if day is None:
            dispatcher.utter_message(
                text='I couldn\'t work out that date. Please give the day, e.g. "yesterday", '
                '"2 days ago" or "March 3".'
            )
            return {"dp_incident_date": None}
        if day > today:
            dispatcher.utter_message(text="That date is in the future; when did it happen?")
            return {"dp_incident_date": None}
        return {"dp_incident_date": day.isoformat()}

    def validate_dp_incident_description(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = " ".join(str(slot_value).split())
        if len(text) < 5:
            dispatcher.utter_message(text="Could you tell me a little more about what happened?")
            return {"dp_incident_description": None}
        return {"dp_incident_description": text[:2000]}


# --- the questions ------------------------------------------------------------------------------


class ActionAskDevice(VerifiedQuestionAction):
    """Which device: uncovered devices on file (enrol, add) or the plan's devices (claim)."""

    slot = "dp_device"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        if tracker.active_loop_name == CLAIM_FORM:
            try:
                plan = dp.find_protection_plan(
                    session, customer.customer_id, tracker.get_slot("protection_plan_number")
                )
            except dp.UnknownProtectionPlan:  # no plan yet: ask without naming one
                return Question(
                    'Which device is the claim for? Tell me its make and model, e.g. "my Pixel".'
                )
            return Question(
                f"Which device is the claim for? {plan.plan_number} covers your "
                f"{plan.device_labels}.",
                choice_buttons(d.label for d in plan.devices),
            )
        devices = [
            d
            for d in dp.customer_devices(session, customer.customer_id)
            if d.protection_plan_number is None
        ]
        if not devices:
            return Question(
                "Which device would you like to protect? Tell me what kind it is (phone, "
                "tablet, smartwatch or laptop).",
                [{"title": t.capitalize(), "payload": f"a {t}"} for t in PROTECTABLE_TYPES],
            )
        listed = "\n".join(f"- {d.label} ({d.device_type})" for d in devices)
        return Question(
            "Which device would you like to protect? These are on your account without "
            f'protection:\n{listed}\nOr tell me about a new device (e.g. "a new iPhone").',
            choice_buttons(d.label for d in devices)
            + [{"title": "A new device", "payload": "a new device"}],
        )


class ActionAskTier(VerifiedQuestionAction):
    """The tiers that fit the device (enrol) or every device on the plan (upgrade/downgrade)."""

    slot = "dp_tier"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        plan: dp.PlanView | None = None
        if tracker.active_loop_name == MANAGE_FORM:
            try:
                plan = dp.find_protection_plan(
                    session, customer.customer_id, tracker.get_slot("protection_plan_number")
                )
            except dp.UnknownProtectionPlan:
                plan = None
        new = _new_device(tracker)
        device_id = _device_id(tracker)
        if plan is not None:
            fitting: list[dp.TierOption] | None = None
            for device in plan.devices:
                fits = dp.tiers_for(session, device.device_type, device.value)
                fitting = fits if fitting is None else [t for t in fitting if t in fits]
            options = [t for t in (fitting or []) if t.code != plan.tier.code]
            intro = (
                f"{plan.plan_number} is on {plan.tier.name} ({_money(plan.tier.monthly_price)}"
                "/month per device). You can switch to:"
            )
        elif device_id is not None or new is not None:
            device = next(
                (
                    d
                    for d in dp.customer_devices(session, customer.customer_id)
                    if d.device_id == device_id
                ),
                None,
            )
            if device is not None:
                device_type, value, label = device.device_type, device.value, device.label
            elif new is not None:
                device_type, value, label = new.device_type, new.value, new.label
            else:  # a device id that is not this customer's: ask without naming a device
                device_type, value, label = "", None, ""
            options = dp.tiers_for(session, device_type, value) if device_type else []
            intro = f"These protection plans fit your {label}:"
        else:  # neither a plan nor a device known yet (a slot cleared mid-form)
            options = dp.all_tiers(session)
            intro = "These are our protection plans:"
        if not options:
            return Question(
                "I'm sorry, none of our protection plans fits that. Plans cover phones, "
                'tablets, smartwatches and laptops up to $2,500.00. Type "stop" to leave this, '
                'or "agent" for a person.'
            )
        lines = [intro] + [f"- {t.description}" for t in options]
        lines.append("Pre-existing issues are generally not covered. Which plan would you like?")
        return Question("\n".join(lines), choice_buttons(t.name for t in options))


class ActionAskContactCurrent(VerifiedQuestionAction):
    """Before closing a claim: are the (masked) contact details on file still current?"""

    slot = "dp_contact_current"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        contact = dp.contact_on_file(session, customer.customer_id)
        return Question(
            "Last thing: the claims team will contact you at "
            f"{contact.masked_email} and {contact.masked_phone}. Are these still current?",
            [
                {"title": "Yes, they're current", "payload": "/affirm"},
                {"title": "No, they've changed", "payload": "/deny"},
            ],
        )


# --- finishing the flows -------------------------------------------------------------------------


def _no_plan(dispatcher: CollectingDispatcher) -> list[EventType]:
    dispatcher.utter_message(
        text="I can't find an active device protection plan on your account. If you'd like "
        'to protect a device, say "enrol my device in protection".'
    )
    return [*_reset(), SlotSet("awaiting_confirmation", False)]


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


class ActionFileClaim(VerifiedAccountAction):
    """File the documented claim: number, review timeline, pre-existing and cover notes."""

    def name(self) -> str:
        return "action_dp_file_claim"

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
        description = str(tracker.get_slot("dp_incident_description") or "")
        said = f"{latest_request(tracker, 'file_claim').text} {description}"
        contact_current = tracker.get_slot("dp_contact_current")
        try:
            filed = dp.file_claim(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                plan_number=str(tracker.get_slot("protection_plan_number")),
                device_id=_device_id(tracker) or 0,
                incident_type=str(tracker.get_slot("dp_incident_type")),
                incident_date=date.fromisoformat(str(tracker.get_slot("dp_incident_date"))),
                description=description,
                customer_says_pre_existing=dp.says_pre_existing(said),
                contact_current=contact_current,
            )
        except (dp.DeviceProtectionError, ValueError) as refusal:
            dispatcher.utter_message(text=f"I couldn't file that claim: {refusal}")
            return _reset()
        claim = filed.claim
        lines = [
            f"Thank you. I've filed your claim {claim.claim_number} for your "
            f"{claim.device_label} ({dp.INCIDENT_WORDS[claim.incident_type]} on "
            f"{dp.format_date(claim.incident_date)}, plan {claim.plan_number}).",
            "Our claims team will review it and aim to give you a decision by "
            f"{dp.format_date(claim.estimated_decision_date)} (within "
            f"{dp.REVIEW_BUSINESS_DAYS} business days). If it's approved, the resolution will "
            "be a repair, a replacement or a reimbursement, with a "
            f"{_money(filed.deductible)} deductible.",
        ]
        if claim.pre_existing:
            lines.append(
                "Please note: this looks like a pre-existing issue (from before the device was "
                "covered). Pre-existing issues are generally not covered, but the claims team "
                "will review the details."
            )
        if not filed.covered_by_tier:
            lines.append(
                f"Please note: {filed.tier_name} doesn't cover "
                f"{dp.INCIDENT_WORDS[claim.incident_type]}, so the claim may not be approved."
            )
        if contact_current is False:
            lines.append(
                "Since your contact details have changed, please update them so we can reach "
                'you about this claim: say "update my contact details".'
            )
        lines.append(
            f"I've emailed a summary to {filed.contact.masked_email}. You can check on the "
            f'claim any time by asking "what\'s the status of {claim.claim_number}".'
        )
        dispatcher.utter_message(text="\n".join(lines))
        return _reset()


class ActionClaimStatus(VerifiedAccountAction):
    """A claim by number, or the customer's open and recently decided claims."""

    def name(self) -> str:
        return "action_dp_claim_status"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None), SlotSet("claim_number", None)]
        number = tracker.get_slot("claim_number")
        if number:
            try:
                claim = dp.look_up_claim(
                    session,
                    conversation_id=tracker.sender_id,
                    customer_id=customer.customer_id,
                    claim_number=number,
                )
                dispatcher.utter_message(text=dp.describe_claim(claim))
                return events
            except dp.UnknownClaim as unknown:
                dispatcher.utter_message(text=f"{unknown} Here are the claims I can see:")
        overview = dp.claims_overview(
            session, conversation_id=tracker.sender_id, customer_id=customer.customer_id
        )
        if not overview.open_claims and not overview.decided_claims:
            dispatcher.utter_message(
                text="There are no device protection claims on your account. To report a "
                'problem with a protected device, say "I want to file a claim".'
            )
            return events
        lines = []
        if overview.open_claims:
            lines.append("Open claims:")
            lines += [f"- {dp.describe_claim(c)}" for c in overview.open_claims]
        else:
            lines.append("You have no open claims.")
        if overview.decided_claims:
            lines.append("Recently decided:")
            lines += [f"- {dp.describe_claim(c)}" for c in overview.decided_claims]
        dispatcher.utter_message(text="\n".join(lines))
        return events


# --- confirmations ------------------------------------------------------------------------------


def _day(value: Any) -> str:
    return dp.format_date(date.fromisoformat(str(value)))


@describe_confirmation(dp.ENROL)
def _enrolled(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    return (
        f"Done: your {result['device']} is protected. Your plan number is "
        f"{result['plan_number']} ({result['tier_name']}, {_money(result['monthly_price'])}/month"
        f", {_money(result['deductible'])} deductible per claim, covering {result['covers']}). "
        f"The first charge is on your bill of {_day(result['first_bill_date'])}, to "
        f"{result['payment_method']}.\n{dp.HOW_TO_SEE_IT}"
    )


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
