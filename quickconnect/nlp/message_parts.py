"""Text rules for the parts of a message: what is only small talk, and where requests split.

Pure functions (no Rasa), used by rasa_extensions/message_parts.py and tested on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Intents that are only social: a message classified as one of these that says more is read
# again without its social words.
SMALL_TALK_INTENTS = frozenset({"greet", "thank", "goodbye"})

# The tasks a customer can ask for (spec "Intents"), the ones worth queueing as a second
# request. FAQs and small talk are answered in the same turn and are not queued.
TASK_INTENTS = frozenset(
    {
        "check_current_plan",
        "change_plan",
        "ask_plan_options",
        "enroll_device_protection",
        "manage_device_protection",
        "file_claim",
        "check_claim_status",
        "reset_password",
        "unlock_account",
        "recovery_email_missing",
        "update_security_questions",
        "update_contact_info",
        "forgot_recovery_contact",
        "add_subscription",
        "modify_subscription",
        "cancel_subscription",
        "list_subscriptions",
        "report_service_cutoff",
        "make_payment",
        "ask_payment_plan",
        "request_disconnection",
        "check_case_status",
    }
)

_SOCIAL = (
    r"hi+|hello+|hey+|hiya|howdy|yo|greetings|good\s+(?:morning|afternoon|evening|day)|morning|"
    r"evening|hallo|dear|there|team|all|folks|guys|quickconnect|support|"
    r"thanks?(?:\s+you)?(?:\s+(?:so|very)\s+much)?|thx|ty|cheers|ta|many\s+thanks|"
    r"bye|goodbye|good\s*bye|see\s+(?:you|ya)|cya|ok(?:ay)?|so|um+|uh+|well|please|pls|plz|"
    r"sorry|excuse\s+me|how\s+are\s+you(?:\s+doing)?|hope\s+you(?:'re|\s+are)\s+well"
)
_SOCIAL_RUN = re.compile(rf"^(?:\s*(?:{_SOCIAL})\b[\s,.!?:;-]*)+", re.IGNORECASE)
_SOCIAL_TAIL = re.compile(rf"(?:[\s,.!?:;-]*\b(?:{_SOCIAL}))+[\s,.!?:;-]*$", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9']+")


def without_small_talk(text: str) -> str | None:
    """The message without its leading and trailing greetings, thanks and goodbyes, or None
    when that leaves fewer than three words (the message was only small talk)."""
    rest = _SOCIAL_RUN.sub("", text)
    rest = _SOCIAL_TAIL.sub("", rest).strip(" ,.!?:;-")
    if len(_WORD.findall(rest)) < 3 or rest == text.strip():
        return None
    return rest


@dataclass(frozen=True)
class Clause:
    """A part of the message and where it is (character offsets in the message)."""

    text: str
    start: int
    end: int


# Where one request ends and another starts: a sentence end, or a joining word that starts a
# new request ("and", "also", "then", "plus"), with or without a comma.
_BOUNDARY = re.compile(
    r"(?:[.!?;]+\s+|\s*,?\s+(?:and\s+also|and\s+then|and\s+can\s+you|and\s+could\s+you|and|"
    r"also|then|plus|after\s+that|as\s+well\s+as)\s+)",
    re.IGNORECASE,
)
_MIN_WORDS = 2


def clauses(text: str) -> list[Clause]:
    """The message's requests: pieces of at least two words between boundaries; a shorter
    piece joins the one before it ("my phone and my tablet" stays one clause)."""
    pieces: list[Clause] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        pieces.append(Clause(text[start : match.start()], start, match.start()))
        start = match.end()
    pieces.append(Clause(text[start:], start, len(text)))
    merged: list[Clause] = []
    for piece in pieces:
        if merged and len(_WORD.findall(piece.text)) < _MIN_WORDS:
            last = merged[-1]
            merged[-1] = Clause(text[last.start : piece.end], last.start, piece.end)
        elif not merged or len(_WORD.findall(merged[-1].text)) >= _MIN_WORDS:
            merged.append(piece)
        else:
            last = merged[-1]
            merged[-1] = Clause(text[last.start : piece.end], last.start, piece.end)
    return [c for c in merged if len(_WORD.findall(c.text)) >= 1]
