"""Subscriptions guide (guides/subscriptions.txt): list, add, modify and cancel add-ons.

Flow: verify -> `action_start_subscription` reads what was asked (add / modify / cancel, and
the service if one was named) -> `subscription_form` asks for the service and, where it
matters, the tier -> `action_quote_subscription` shows price, terms and activation time
(add), the bill impact and any fee (modify), or the fee and refund (cancel), and asks for an
explicit yes (actions/changes.py). A new add-on is created pending activation; the
`activate-due` job makes it live later and the customer is notified then.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.changes import (
    ASK_FOR_CONSENT,
    NO_LONGER_AWAITING,
    awaiting_consent,
    describe_confirmation,
)
from actions.common import VerifiedAccountAction, with_outage_apology
from actions.forms import (
    FormSlotValidation,
    Question,
    VerifiedQuestionAction,
    choice_buttons,
    verified_customer,
)
from actions.request import latest_request
from quickconnect.db.session import unit_of_work
from quickconnect.services import changes, interactions, subscriptions
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.subscriptions import format_date, format_time, usd

OPERATION_FOR_TASK = {
    "add_subscription": "add",
    "modify_subscription": "modify",
    "cancel_subscription": "cancel",
}
VERBS = {"add": "add", "modify": "change", "cancel": "cancel"}
FORM_RESET: list[EventType] = [
    SlotSet("service_name", None),
    SlotSet("service_tier", None),
    SlotSet("subscription_operation", None),
]


def _is_bare_service_name(text: str) -> bool:
    """A service name with at most a couple of filler words around it, no request verb."""
    rest = subscriptions.without_service_names(text)
    return bool(subscriptions.find_service(text)) and len(rest.split()) <= 2


def _describe_sub(sub: subscriptions.SubscriptionView) -> str:
    line = f"- {sub.service_name} {sub.tier_name}: {usd(sub.monthly_price)}/month"
    if sub.status == "pending_activation" and sub.activates_at:
        line += f" (being set up, live by {format_time(sub.activates_at)})"
    return line


def _describe_service(service: subscriptions.ServiceView) -> str:
    tiers = ", ".join(f"{t.name} {usd(t.monthly_price)}" for t in service.tiers)
    return f"- {service.name}: {service.description} ({tiers} a month)"


class ActionListSubscriptions(VerifiedAccountAction):
    """`list_subscriptions`: the customer's add-ons and the ones they can still add."""

    def name(self) -> str:
        return "action_list_subscriptions"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        view = subscriptions.overview(session, customer.customer_id)
        if view.current:
            total = sum((s.monthly_price for s in view.current), Decimal("0"))
            lines = [f"Here are your add-on services, {customer.first_name}:"]
            lines += [_describe_sub(s) for s in view.current]
            lines.append(f"Together that's {usd(total)} a month on top of your plan.")
        else:
            lines = [f"You don't have any add-on services yet, {customer.first_name}."]
        if view.available:
            lines.append("You could also add:")
            lines += [_describe_service(s) for s in view.available]
        lines.append(
            'To add, change or cancel one, just say so, e.g. "add '
            + (view.available[0].name if view.available else "StreamMax")
            + '".'
        )
        dispatcher.utter_message(text="\n".join(lines))
        interactions.log_interaction(
            session,
            customer_id=customer.customer_id,
            conversation_id=tracker.sender_id,
            kind="list_subscriptions",
            summary=f"Listed {len(view.current)} add-on(s) and {len(view.available)} available",
            outcome="answered",
        )
        return [SlotSet("pending_task", None)]


class ActionStartSubscription(VerifiedAccountAction):
    """First step once verified: which operation, and the service if one was named."""

    def name(self) -> str:
        return "action_start_subscription"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        events: list[EventType] = [SlotSet("pending_task", None)]
        task = tracker.get_slot("pending_task")
        message = latest_request(tracker, *OPERATION_FOR_TASK)
        if task not in OPERATION_FOR_TASK:  # e.g. a switch of request mid-form
            task = (tracker.latest_message.get("intent") or {}).get("name")
        operation = OPERATION_FOR_TASK.get(task, "add")
        earlier = tracker.get_slot("subscription_operation")
        # Mid-form, a bare service name ("oh then World Calling") answers the question asked;
        # only a message that says what to do switches the request.
        if (
            tracker.active_loop_name == "subscription_form"
            and earlier in VERBS
            and _is_bare_service_name(tracker.latest_message.get("text") or "")
        ):
            operation = earlier
        # A change of mind: an offer still waiting for a yes is withdrawn.
        change_id = tracker.get_slot("pending_change_id")
        if tracker.get_slot("awaiting_confirmation") and change_id:
            changes.cancel_change(session, conversation_id=tracker.sender_id, change_id=change_id)
            dispatcher.utter_message(text="Okay, I've dropped the change I offered before.")
            events += NO_LONGER_AWAITING
        named = next(
            (e.get("value") for e in message.entities if e.get("entity") == "service_name"),
            None,
        )
        current = subscriptions.current_subscriptions(session, customer.customer_id)
        if operation != "add" and not current:
            dispatcher.utter_message(
                text=f"You don't have any add-on services on your account, so there's nothing "
                f"to {VERBS[operation]}. Would you like to add one?"
            )
            operation, named = "add", None
        events.append(SlotSet("subscription_operation", operation))
        if not named:
            return events + [SlotSet("service_name", None), SlotSet("service_tier", None)]
        check = subscriptions.check_request(
            session, customer.customer_id, operation, named, message.text
        )
        if check.problem:
            dispatcher.utter_message(text=check.problem)
        return events + [
            SlotSet("service_name", check.service.name if check.service else None),
            SlotSet("service_tier", check.tier.name if check.tier else None),
        ]


class ValidateSubscriptionForm(FormSlotValidation):
    def name(self) -> str:
        return "validate_subscription_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Cancelling needs no tier.
        if tracker.get_slot("subscription_operation") == "cancel":
            return [s for s in domain_slots if s != "service_tier"]
        return domain_slots

    @with_outage_apology(default={"service_name": None})
    def validate_service_name(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:  # cleared on purpose (the reason was already given)
            return {"service_name": None}
        operation = tracker.get_slot("subscription_operation") or "add"
        with unit_of_work() as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                return {"service_name": None}
            check = subscriptions.check_request(
                session,
                customer.customer_id,
                operation,
                str(slot_value),
                tracker.latest_message.get("text"),
            )
        if check.problem or check.service is None:
            dispatcher.utter_message(text=check.problem or "Which service do you mean?")
            return {"service_name": None}
        tier = check.tier.name if check.tier else None
        if tier is None:  # keep a tier chosen earlier if it belongs to this service
            earlier = tracker.get_slot("service_tier")
            tier = next((t.name for t in check.service.tiers if t.name == earlier), None)
        return {"service_name": check.service.name, "service_tier": tier}

    @with_outage_apology(default={"service_tier": None})
    def validate_service_tier(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if slot_value is None:
            return {"service_tier": None}
        operation = tracker.get_slot("subscription_operation") or "add"
        with unit_of_work() as session:
            customer = verified_customer(session, tracker)
            if customer is None:
                return {"service_tier": None}
            code = subscriptions.find_service(tracker.get_slot("service_name"))
            if code is None:
                return {"service_name": None, "service_tier": None}
            choices = subscriptions.tier_choices(session, customer.customer_id, operation, code)
            tier = subscriptions.find_tier(
                subscriptions.get_service(session, code), str(slot_value)
            )
        if tier not in choices:
            names = " or ".join(f"{t.name} ({usd(t.monthly_price)}/month)" for t in choices)
            dispatcher.utter_message(text=f"Sorry, which one would you like: {names}?")
            return {"service_tier": None}
        return {"service_tier": tier.name}


class ActionAskServiceName(VerifiedQuestionAction):
    """Ask which service: the ones to add, or the customer's own to change or cancel."""

    slot = "service_name"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        operation = tracker.get_slot("subscription_operation") or "add"
        view = subscriptions.overview(session, customer.customer_id)
        if operation == "add":
            lines = ["Which service would you like to add? Most are live within 24 hours."]
            lines += [_describe_service(s) for s in view.available]
            names = [s.name for s in view.available]
        else:
            lines = [f"Which add-on would you like to {VERBS[operation]}? You have:"]
            lines += [_describe_sub(s) for s in view.current]
            names = [s.service_name for s in view.current]
        lines.append('Or say "stop" if you\'ve changed your mind.')
        return Question("\n".join(lines), choice_buttons(names))


class ActionAskServiceTier(VerifiedQuestionAction):
    """Ask which tier (for a change: the tiers other than the current one)."""

    slot = "service_tier"

    def question(self, session: Session, customer: VerifiedCustomer, tracker: Tracker) -> Question:
        operation = tracker.get_slot("subscription_operation") or "add"
        name = tracker.get_slot("service_name")
        code = subscriptions.find_service(name)
        if code is None:  # the add-on was cleared mid-form: ask without naming one
            return Question(
                "Which add-on and which option would you like? Tell me the add-on's name, or "
                'say "list my add-ons" to see what you have and what you can add.'
            )
        choices = subscriptions.tier_choices(session, customer.customer_id, operation, code)
        options = "\n".join(f"- {t.name}: {usd(t.monthly_price)}/month" for t in choices)
        return Question(
            f"Which {name} option would you like?\n{options}",
            choice_buttons(t.name for t in choices),
        )


class ActionQuoteSubscription(VerifiedAccountAction):
    """Quote the add, change or cancellation with its money and ask for an explicit yes."""

    def name(self) -> str:
        return "action_quote_subscription"

    def handle(
        self,
        session: Session,
        customer: VerifiedCustomer,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[EventType]:
        operation = tracker.get_slot("subscription_operation") or "add"
        code = subscriptions.find_service(tracker.get_slot("service_name"))
        tier_name = tracker.get_slot("service_tier")
        tier = None
        if code and tier_name:
            tier = subscriptions.find_tier(subscriptions.get_service(session, code), tier_name)
        refused = FORM_RESET + [SlotSet("awaiting_confirmation", False)]
        if code is None:
            dispatcher.utter_message(text="I couldn't find that service. Which one did you mean?")
            return refused
        kwargs = {"conversation_id": tracker.sender_id, "customer_id": customer.customer_id}
        try:
            if operation == "add":
                quote, proposal = subscriptions.propose_add(
                    session, service_code=code, tier_code=tier and tier.code, **kwargs
                )
            elif operation == "modify":
                quote, proposal = subscriptions.propose_modify(
                    session, service_code=code, tier_code=tier and tier.code, **kwargs
                )
            else:
                quote, proposal = subscriptions.propose_cancel(session, service_code=code, **kwargs)
        except subscriptions.SubscriptionError as refusal:
            dispatcher.utter_message(text=f"I can't set that up: {refusal}")
            return refused
        text = quote.summary
        if isinstance(quote, subscriptions.CancelQuote):
            text += f"\nAfter that: {quote.what_next}"
        dispatcher.utter_message(text=f"{text}\n{ASK_FOR_CONSENT}")
        return FORM_RESET + awaiting_consent(proposal.change_id)


def _money_line(amount: Decimal, credit: str, charge: str) -> str:
    return credit.format(usd(amount)) if amount < 0 else charge.format(usd(amount))


@describe_confirmation(subscriptions.ADD_KIND)
def _added(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    live_by = datetime.fromisoformat(str(result["activates_at"]))
    return (
        f"Done: {result['service_name']} {result['tier_name']} is on its way. It should be "
        f"live by {format_time(live_by)}, and we'll send you a message as soon as it is. "
        f"You'll pay {usd(Decimal(str(result['monthly_price'])))}/month from the day it goes live."
    )


@describe_confirmation(subscriptions.MODIFY_KIND)
def _modified(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    text = (
        f"Done: your {result['service_name']} is now {result['tier_name']} "
        f"({usd(Decimal(str(result['monthly_price'])))}/month)."
    )
    impact = Decimal(str(result["bill_impact"]))
    next_bill = date.fromisoformat(str(result["next_bill_date"]))
    if impact != 0:
        text += " " + _money_line(
            impact,
            "Your bill of " + format_date(next_bill) + " will show a credit of {}.",
            "Your bill of " + format_date(next_bill) + " will include {} for this change.",
        )
    return text


@describe_confirmation(subscriptions.CANCEL_KIND)
def _cancelled(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    net = Decimal(str(result["net_adjustment"]))
    next_bill = date.fromisoformat(str(result["next_bill_date"]))
    text = f"Done: your {result['service_name']} is cancelled."
    if net < 0:
        text += f" A credit of {usd(net)} will be on your bill of {format_date(next_bill)}."
    elif net > 0:
        text += f" Your bill of {format_date(next_bill)} will include {usd(net)}."
    else:
        text += " There's nothing to pay and nothing to refund."
    return f"{text}\n{result['what_next']}"
