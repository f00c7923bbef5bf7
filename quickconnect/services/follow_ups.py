"""Short follow-up questions and second requests: what the bot says, from what it said before.

"ok how long will it take" right after the bot opened a ticket with an estimated fix is a
question about that answer, not a goodbye and not the add-on activation FAQ. The answer is in
what the bot just said: the sentence that says when (or why, or how much). Reading it back
from the bot's own last replies works for every flow without each flow storing its facts
twice. No Rasa imports: the action (actions/follow_ups.py) passes the texts in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# What each task is, in the words of "You also asked me to ...".
TASK_DESCRIPTIONS: dict[str, str] = {
    "check_current_plan": "look at your current plan and what you pay",
    "change_plan": "change your plan",
    "ask_plan_options": "go through the plans you could switch to",
    "enroll_device_protection": "protect a device",
    "manage_device_protection": "change your device protection plan",
    "file_claim": "file a device protection claim",
    "check_claim_status": "check on your claim",
    "reset_password": "reset your password",
    "unlock_account": "unlock your account",
    "recovery_email_missing": "sort out the recovery email that didn't arrive",
    "update_security_questions": "update your security questions",
    "update_contact_info": "update your contact details",
    "forgot_recovery_contact": "recover your account without its recovery contact",
    "add_subscription": "add a service",
    "modify_subscription": "change one of your add-ons",
    "cancel_subscription": "cancel an add-on",
    "list_subscriptions": "go through the add-ons on your account",
    "report_service_cutoff": "look into your service being down",
    "make_payment": "take a payment",
    "ask_payment_plan": "set up a payment plan",
    "request_disconnection": "disconnect your service",
    "check_case_status": "check on your case or ticket",
}


def task_description(intent: str) -> str:
    """The words for a queued task; a generic phrase for one not in the table."""
    return TASK_DESCRIPTIONS.get(intent, "help with your other request")


def offer_text(intent: str) -> str:
    return f"You also asked me to {task_description(intent)}. Shall I do that now?"


@dataclass(frozen=True)
class FollowUpKind:
    """What a short follow-up asks about, and the sentences of a reply that answer it."""

    name: str
    asks: re.Pattern[str]
    answers: re.Pattern[str]


_KINDS = (
    FollowUpKind(
        "when",
        re.compile(
            r"\b(how long|when|what time|how soon|how many (days|hours)|eta|by when)\b", re.I
        ),
        re.compile(
            r"\b(by \d|within|\d+ ?(minutes?|hours?|days?|business days?)|estimated|"
            r"scheduled|on \d{1,2} \w{3}|today|tomorrow|UTC|around)\b",
            re.I,
        ),
    ),
    FollowUpKind(
        "why",
        re.compile(r"\b(why|how come|what happened|what caused|reason)\b", re.I),
        re.compile(
            r"\b(because|due to|reason|outage|overdue|violat|caused|since|so that)\b|: ", re.I
        ),
    ),
    FollowUpKind(
        "cost",
        re.compile(r"\b(how much|cost|price|fee|charge|pay)\b", re.I),
        re.compile(r"\$\d|\bfree\b|\bno (fee|charge)\b", re.I),
    ),
)
_OTHER_ONE = re.compile(
    r"\b(the other (one|ones?)|and the other|what about the other|the second one|the rest)\b", re.I
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _sentences(texts: Sequence[str]) -> list[str]:
    return [s.strip() for text in texts for s in _SENTENCE.split(text) if s.strip()]


def answer_follow_up(question: str, last_replies: Sequence[str]) -> str:
    """The reply to a short follow-up, from the bot's replies just before it.

    The sentences of those replies that answer the kind of question asked are said again
    ("As I said: ..."); when none does, or the question is about "the other one", the bot asks
    what the customer means instead of guessing, and never ends the chat."""
    sentences = _sentences(last_replies)
    if _OTHER_ONE.search(question):
        return (
            "Which one do you mean? Tell me its name (the device, add-on or plan) and I'll "
            "pick it up from there."
        )
    for kind in _KINDS:
        if not kind.asks.search(question):
            continue
        found = [s for s in sentences if kind.answers.search(s)]
        if found:
            return "As I said: " + " ".join(found[:2])
    if sentences:
        return (
            "I'm not sure what you'd like to know about that. Could you ask in a few more "
            "words? For example: when will it be done, why did it happen, or what does it cost."
        )
    return "What would you like to know? Tell me a little more and I'll help."
