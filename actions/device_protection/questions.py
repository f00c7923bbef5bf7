"""The questions the device protection forms ask with data: device, tier, contact details."""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.device_protection.common import (
    CLAIM_FORM,
    MANAGE_FORM,
    PROTECTABLE_TYPES,
    _device_id,
    _money,
    _new_device,
)
from actions.forms import (
    Question,
    VerifiedQuestionAction,
    choice_buttons,
)
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer


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
