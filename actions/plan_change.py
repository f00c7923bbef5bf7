"""Plan change guide (guides/plan-change.txt). So far: showing the current plan and usage."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import VerifiedAccountAction
from quickconnect.services import interactions, plans
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.plans import CurrentPlanView


def _amount(value: float | None, unit: str, unlimited: str = "unlimited") -> str:
    return unlimited if value is None else f"{value:g} {unit}"


def describe_plan(view: CurrentPlanView, first_name: str) -> str:
    lines = [
        f"Here's your current plan, {first_name}:",
        f"{view.plan_name}: ${view.monthly_price:.2f} a month, since {view.since:%d %b %Y}.",
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
    return "\n".join(lines)


class ActionShowCurrentPlan(VerifiedAccountAction):
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
