"""Filing a claim: starting the flow, its form and filing it."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction, with_outage_apology
from actions.device_protection.common import (
    CLAIM_FORM,
    _device_id,
    _DeviceProtectionFormValidation,
    _money,
    _no_plan,
    _prefill,
    _reset,
)
from actions.forms import (
    verified_customer,
)
from actions.request import latest_request
from quickconnect.dates import resolve_date
from quickconnect.db.models import utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.services import device_protection as dp
from quickconnect.services.identity import VerifiedCustomer


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
