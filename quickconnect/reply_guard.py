"""The reply guard: no internal value (an empty slot, a missing field, a Python repr, an
unfilled template) ever reaches a customer.

Pure functions, no Rasa imports, so the same checks run in both servers (the hooks in
`rasa_extensions/reply_guard.py` and `actions/reply_guard.py`) and in the test clients (the
live conversation runner, the end-to-end tests), which must agree on what a defect is.

- `find_defects(text)`: what is wrong with a text, as short descriptions (empty: nothing).
- `clean(text)`: the text without the broken parts, or None: send `APOLOGY` instead.
- `message_defects(message)` / `clean_message(message)`: the same for a bot message (its text
  and the titles of its buttons and quick replies).
- `mode()`: `QC_REPLY_GUARD` = `strict` (tests: a defect is sent unchanged, logged, and the
  test clients fail on it) or anything else (production: logged, cleaned or apologised for).

The customer-facing texts are English, so the words are matched as whole tokens and with
their ordinary uses left alone: "None of our plans fits" is English, "plan None" is a slot;
"nonetheless", "annul", "Nan" (a name), "banana" never match.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_VAR = "QC_REPLY_GUARD"
STRICT = "strict"

APOLOGY = (
    "I'm sorry, I couldn't put that answer together properly. Could you say that again? "
    'You can also type "agent" to talk to a person.'
)

# A token is delimited by anything but a letter, digit, underscore, hyphen or apostrophe
# (so "None-of-that" or "can't" are single tokens and never split into a defect).
_LEFT = r"(?<![\w'\-])"
_RIGHT = r"(?![\w'\-])"

_QUOTED = r"""(?:'[^'\n]*'|"[^"\n]*")"""

# (description, pattern). Order matters only for the descriptions' order.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "Python None",
        # "None" the value; not "None of ...", "None at all", "None whatsoever", "None yet",
        # "None left" (the English pronoun, which the bot may start a sentence with).
        re.compile(
            _LEFT + r"None" + _RIGHT + r"(?!\s+(?:of|at\s+all|whatsoever|yet|left|so\s+far)\b)"
        ),
    ),
    ("null", re.compile(_LEFT + r"(?:null|NULL|Null)" + _RIGHT + r"(?!\s+and\s+void\b)")),
    ("NaN", re.compile(_LEFT + r"(?:nan|NaN|NAN)" + _RIGHT)),
    ("infinite number", re.compile(r"(?<=\$)-?inf" + _RIGHT)),
    ("undefined", re.compile(_LEFT + r"undefined" + _RIGHT + r"(?=\s*(?:[.,;:)]|$))")),
    ("[object ...]", re.compile(r"\[object\b[^\]]*\]?")),
    ("Python repr", re.compile(r"<[^<>\n]{0,200}? at 0x[0-9a-fA-F]+>")),
    ("Python repr", re.compile(r"\b(?:Decimal|datetime\.(?:date|datetime|time))\([^()\n]*\)")),
    ("Python list repr", re.compile(rf"\[{_QUOTED}(?:,\s*{_QUOTED})*\]")),
    ("unfilled {placeholder}", re.compile(r"\{[^{}\n]{0,80}\}")),
    ("stray template brace", re.compile(r"[{}]")),
)  # fmt: skip

# Removal leaves at most this many defects behind a clean reply; more: apologise instead.
MAX_REPAIRS = 2
_MIN_WORDS_AFTER_CLEAN = 3


def find_defects(text: object) -> list[str]:
    """What in `text` is an internal value, e.g. ["Python None: 'None'"]; [] when it is fine."""
    if text is None:
        return []
    if not isinstance(text, str):
        return [f"not a text: {type(text).__name__}"]
    defects: list[str] = []
    taken: list[tuple[int, int]] = []
    for description, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(start < span[1] and span[0] < end for start, end in taken):
                continue  # already reported as part of a larger defect
            taken.append(span)
            defects.append(f"{description}: {match.group(0)!r}")
    return defects


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)  # brackets left empty
    text = re.sub(r"[ \t]+([.,;:!?)])", r"\1", text)  # "plan ." -> "plan."
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"([,;:])(?=[,;:.])", "", text)  # ", ." -> "."
    text = re.sub(r"[ \t]{2,}", " ", text)
    return "\n".join(line.strip() for line in text.splitlines()).strip()


def clean(text: str) -> str | None:
    """`text` without its defects (tidied), or None when it cannot be saved (send `APOLOGY`).

    A reply with a hole or two still reads ("I can't find an active plan on your account.");
    one that is mostly internal values, or little else once they are gone, does not.
    """
    defects = find_defects(text)
    if not defects:
        return text
    if len(defects) > MAX_REPAIRS:
        return None
    repaired = text
    for _, pattern in _PATTERNS:
        repaired = pattern.sub("", repaired)
    repaired = _tidy(repaired)
    if find_defects(repaired) or len(re.findall(r"[A-Za-z]+", repaired)) < _MIN_WORDS_AFTER_CLEAN:
        return None
    return repaired


def _choices(message: Mapping[str, Any]) -> list[tuple[str, list[Any]]]:
    return [
        (key, list(message.get(key) or []))
        for key in ("buttons", "quick_replies")
        if isinstance(message.get(key), list)
    ]


def message_defects(message: Mapping[str, Any]) -> list[str]:
    """Defects of a bot message: its text and its button and quick-reply titles."""
    defects = list(find_defects(message.get("text")))
    for key, choices in _choices(message):
        for choice in choices:
            if isinstance(choice, Mapping):
                defects += [f"{key} title {d}" for d in find_defects(choice.get("title"))]
    return defects


def clean_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `message` that is safe to send: a broken text cleaned (or the apology, and
    then no buttons, which would answer a question nobody asked), broken choices dropped."""
    safe = dict(message)
    text = message.get("text")
    if find_defects(text):
        repaired = clean(text) if isinstance(text, str) else None
        if repaired is None:
            safe["text"] = APOLOGY
            for key, _ in _choices(message):
                safe[key] = []
            return safe
        safe["text"] = repaired
    for key, choices in _choices(message):
        safe[key] = [
            c for c in choices if not (isinstance(c, Mapping) and find_defects(c.get("title")))
        ]
    return safe


def mode() -> str:
    """`strict` (tests) or `production`, from `QC_REPLY_GUARD` (read at every call, cheap)."""
    return STRICT if os.environ.get(ENV_VAR, "").strip().lower() == STRICT else "production"


def screen(
    message: Mapping[str, Any], conversation_id: str, action_name: str, log: logging.Logger
) -> dict[str, Any] | None:
    """The one check both servers make on a bot message: None when it is fine; otherwise the
    defect is logged at ERROR (conversation, action, text) and the message to send instead
    is returned: the cleaned one in production, the message unchanged in strict mode (tests),
    so the test clients fail on what the customer would have seen."""
    defects = message_defects(message)
    if not defects:
        return None
    log.error(
        "Reply guard: conversation %s, action %s: %s in %r",
        conversation_id,
        action_name,
        "; ".join(defects),
        message.get("text"),
    )
    return dict(message) if mode() == STRICT else clean_message(message)


@dataclass
class Tally:
    """How many replies a test client checked and which had defects (thread-safe)."""

    checked: int = 0
    defects: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def check(self, message: Mapping[str, Any], where: str = "") -> list[str]:
        """Count one bot message; return (and remember) its defects."""
        found = message_defects(message)
        with self._lock:
            self.checked += 1
            self.defects += [f"{where}: {d}" if where else d for d in found]
        return found

    def summary(self) -> str:
        return f"reply guard: {self.checked} replies checked, {len(self.defects)} defects"
