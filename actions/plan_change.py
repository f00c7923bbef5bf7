"""Plan change guide (guides/plan-change.txt): current plan, options, quote, consent, apply.

Flow: verify -> show the current plan and usage -> ask what the customer needs -> recommend
plans compared with the current one -> the customer picks one (now or from a date) -> quote
(prorated amount, no fee) -> explicit yes (actions/changes.py) -> applied or scheduled,
summary emailed. "Go back to my old plan" is a change back to the previous plan when it is
still offered, and explained when it is not.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
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
from quickconnect.catalog import PLANS
from quickconnect.dates import resolve_date
from quickconnect.db.session import unit_of_work
from quickconnect.services import interactions, plan_change, plans
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.plans import CurrentPlanView

NEED_WORDS = {
    "more_data": "more data",
    "faster": "faster speeds",
    "cheaper": "a lower price",
    "family_lines": "lines for your family",
}
# "any" = the customer has no particular need: show every offered plan.
NO_PARTICULAR_NEED = "any"
_REVERT = re.compile(r"\b(back|revert|old|previous|before|undo|original)\b", re.IGNORECASE)


def _money(value: Any) -> str:
    return f"${Decimal(str(value)):.2f}"


def _amount(value: float | None, unit: str, unlimited: str) -> str:
    return unlimited if value is None else f"{value:g} {unit}"


def describe_plan(view: CurrentPlanView, first_name: str) -> str:
    lines = [
        f"Here's your current plan, {first_name}:",
        f"{view.plan_name}: {_money(view.monthly_price)} a month, since {view.since:%d %b %Y}.",
        f"It includes {_amount(view.data_gb, 'GB data', 'unlimited data')}, "
        f"{_amount(view.minutes, 'minutes', 'unlimited minutes')} and speeds up to "
        f"{view.speed_mbps} Mbps.",
    ]
    if view.features:
        lines.append("Also included: " + ", ".join(view.features) + ".")
    lines.append(
        f"This billing cycle so far you've used {view.data_used_gb:g} GB of data and "
        f"{view.minutes_used} minutes, at an average speed of {view.avg_speed_mbps:g} Mbps."
    )
    if view.next_bill_date:
        lines.append(f"Your next bill is on {view.next_bill_date:%d %b %Y}.")
    if view.scheduled_plan_name and view.scheduled_for:
        lines.append(
            f"A change to {view.scheduled_plan_name} is booked for "
            f"{view.scheduled_for:%d %b %Y}."
        )
    return "\n".join(lines)


class ActionShowCurrentPlan(VerifiedAccountAction):
    """`check_current_plan`: the plan, its allowances and this cycle's usage."""

    def name(self) -> str:
        return "action_show_current_plan"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        view = plans.current_plan(session, customer.customer_id)
        dispatcher.utter_message(text=describe_plan(view, customer.first_name))
        interactions.log_interaction(
            session,
            customer_id=customer.customer_id,
            conversation_id=tracker.sender_id,
            kind="check_current_plan",
            summary=f"Showed current plan {view.plan_name} and usage",
            outcome="answered",
        )
        return [SlotSet("pending_task", None)]


class ActionShowPlanOptions(Action):
    """`ask_plan_options`: the catalog; compared with the current plan when verified."""

    def name(self) -> str:
        return "action_show_plan_options"

    @with_outage_apology(default=[])
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        need = plan_change.parse_need(tracker.latest_message.get("text"))
        with unit_of_work(read_only=True) as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                lines = ["Here are our plans:"]
                for plan in (p for p in PLANS if p.offered):
                    features = ", ".join(plan.features)
                    lines.append(f"- {plan.name}: {_money(plan.monthly_price)}/month ({features})")
                lines.append(
                    "If you'd like to switch, say \"change my plan\" and I'll compare them with "
                    "your current plan once you're verified."
                )
                dispatcher.utter_message(text="\n".join(lines))
                return []
            options = plan_change.recommend_plans(session, customer.customer_id, need)
            intro = f"Plans with {NEED_WORDS[need]}" if need and options else "Our other plans"
            if not options:
                options = plan_change.recommend_plans(session, customer.customer_id, None)
        lines = [f"{intro}, compared with your current plan:"]
        lines += [f"- {o.name}: {_money(o.monthly_price)}/month ({o.comparison})" for o in options]
        lines.append('To switch, say for example "change to ' + options[0].name + '".')
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionStartPlanChange(VerifiedAccountAction):
    """First step once verified: confirm the current plan and usage; spot a request to revert."""

    read_only = True

    def name(self) -> str:
        return "action_start_plan_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        details = plans.account_details(session, customer.customer_id)
        view = plans.current_plan(session, customer.customer_id)
        dispatcher.utter_message(
            text=f"Let's find you the right plan. I have account {details.account_number}, "
            f"{details.full_name}, {details.address}."
        )
        dispatcher.utter_message(text=describe_plan(view, customer.first_name))
        events: list[EventType] = [SlotSet("pending_task", None)]
        if _REVERT.search(latest_request(tracker, "change_plan").text):
            option = plan_change.previous_plan(session, customer.customer_id)
            if option.available and option.previous_plan_name:
                dispatcher.utter_message(
                    text=f"You were on {option.previous_plan_name} before. I can switch you "
                    "back at today's price."
                )
                events.append(SlotSet("plan_name", option.previous_plan_name))
            else:
                dispatcher.utter_message(text=option.explanation)
        return events


class ValidatePlanChangeForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_plan_change_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # A customer who named the plan does not need to be asked what they need.
        if tracker.get_slot("plan_name"):
            return [s for s in domain_slots if s != "plan_need"]
        return domain_slots

    def validate_plan_need(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return {"plan_need": plan_change.parse_need(str(slot_value)) or NO_PARTICULAR_NEED}

    @with_outage_apology(default={"plan_name": None})
    def validate_plan_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not isinstance(slot_value, str) or not slot_value.strip():
            return {"plan_name": None}  # nothing given: the form asks for it
        with unit_of_work(read_only=True) as session:
            chosen = plan_change.find_plan(session, slot_value)
            customer = verified_customer(session, tracker)
            current = plans.current_plan(session, customer.customer_id) if customer else None
        if chosen is None:
            dispatcher.utter_message(
                text=f'I couldn\'t find a plan called "{slot_value}". Please pick one of the '
                "plans above."
            )
            return {"plan_name": None}
        if not chosen.offered:
            dispatcher.utter_message(
                text=f"{chosen.name} is no longer offered, so I can't switch you to it. "
                "Please pick one of the plans above."
            )
            return {"plan_name": None}
        if current and chosen.code == current.plan_code:
            dispatcher.utter_message(text=f"You're already on {chosen.name}. Please pick another.")
            return {"plan_name": None}
        return {"plan_name": chosen.name}


class ActionAskPlanName(VerifiedQuestionAction):
    """Recommend plans for the stated need, compared with the current plan, and ask to pick."""

    slot = "plan_name"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        need = tracker.get_slot("plan_need") or None  # "" (an empty answer) is no need
        need = None if need in (None, NO_PARTICULAR_NEED) else need
        options = plan_change.recommend_plans(session, customer.customer_id, need)
        if need and options:
            intro = f"These plans give you {NEED_WORDS[need]}:"
        else:
            if need:
                intro = f"None of our plans gives you {NEED_WORDS[need]} over your current one. "
                intro += "Here is everything else we offer:"
            else:
                intro = "Here is what we offer:"
            options = plan_change.recommend_plans(session, customer.customer_id, None)
        lines = [intro]
        lines += [f"- {o.name}: {_money(o.monthly_price)}/month ({o.comparison})" for o in options]
        lines.append(
            "Which plan would you like? There's no fee for changing plans. It applies right "
            'away, or tell me a date (e.g. "from next month").'
        )
        return Question("\n".join(lines), choice_buttons(o.name for o in options))


class ActionQuotePlanChange(VerifiedAccountAction):
    """Quote the chosen plan (prorated amount, no fee) and ask for an explicit yes."""

    def name(self) -> str:
        return "action_quote_plan_change"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet("plan_name", None),
            SlotSet("plan_need", None),
            SlotSet("plan_effective_date", None),
        ]
        chosen = plan_change.find_plan(session, tracker.get_slot("plan_name"))
        if chosen is None:
            dispatcher.utter_message(text="I couldn't find that plan. Which plan would you like?")
            return reset + [SlotSet("awaiting_confirmation", False)]
        date_text = tracker.get_slot("plan_effective_date")
        today = date.today()
        view = plans.current_plan(session, customer.customer_id)
        effective = (
            resolve_date(date_text, today, billing_cycle_day=view.billing_cycle_day)
            if date_text
            else None
        )
        if date_text and effective is None:
            dispatcher.utter_message(
                text=f'I couldn\'t work out the date "{date_text}", so this quote is for a change '
                'today. For a later date, say for example "from 1 December".'
            )
        try:
            quote, proposal = plan_change.propose_plan_change(
                session,
                conversation_id=tracker.sender_id,
                customer_id=customer.customer_id,
                new_plan_code=chosen.code,
                effective_date=effective,
            )
        except plan_change.PlanChangeError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return reset + [SlotSet("awaiting_confirmation", False)]
        price_line = (
            f"Your new monthly price will be {_money(quote.new_price)} (now "
            f"{_money(quote.current_price)}), billed from {quote.next_bill_date:%d %b %Y}."
        )
        dispatcher.utter_message(text=f"{quote.summary}\n{price_line}\n{ASK_FOR_CONSENT}")
        return reset + awaiting_consent(proposal.change_id)


@describe_confirmation(plan_change.CHANGE_KIND)
def _plan_changed(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    amount = Decimal(str(result.get("prorated_amount") or "0"))
    if amount > 0:
        money = f"A prorated charge of {_money(amount)} will be on your next bill"
    elif amount < 0:
        money = f"A prorated credit of {_money(-amount)} will be on your next bill"
    else:
        money = "There's no prorated amount"
    next_bill = date.fromisoformat(str(result["next_bill_date"]))
    money += f" ({next_bill:%d %b %Y}). There's no change fee."
    if result.get("status") == "active":
        head = (
            f"Done: your plan is now {result['plan_name']} "
            f"({_money(result['monthly_price'])}/month). I've checked your account shows it."
        )
    else:
        effective = date.fromisoformat(str(result["effective_date"]))
        head = f"Booked: your plan changes to {result['plan_name']} on {effective:%d %b %Y}."
    return f"{head}\n{result.get('interruption', '')}\n{money}"
