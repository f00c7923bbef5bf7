"""Checks on raw customer input that every channel applies before Rasa sees the message.

They guarantee an answer to any input: an empty or oversized message gets a clear reply
instead of reaching the NLU pipeline, and a turn that produced no bot message at all
(an action server or database failure swallowed by Rasa) still gets an apology.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 2000

EMPTY_MESSAGE_REPLY = (
    "I didn't receive any text. What can I help you with? You can ask about your plan, "
    "add-ons, device protection, account access or your service."
)
TOO_LONG_REPLY = (
    f"That message is too long for me (over {MAX_MESSAGE_CHARS:,} characters). "
    "Could you tell me in a sentence or two what you need?"
)
NO_REPLY_APOLOGY = (
    "I'm sorry, something went wrong on my side and I couldn't finish that. Nothing on your "
    'account was changed. Please try again in a moment, or type "agent" to talk to a person.'
)


def precheck(text: object) -> str | None:
    """Return a direct reply for input that must not reach the assistant, else None."""
    if not isinstance(text, str) or not text.strip():
        return EMPTY_MESSAGE_REPLY
    if len(text) > MAX_MESSAGE_CHARS:
        return TOO_LONG_REPLY
    return None
