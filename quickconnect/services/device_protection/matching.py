"""Reading what the customer typed: which device, which incident, a pre-existing problem."""

from __future__ import annotations

import re
from collections.abc import Sequence

from quickconnect.nlp.patterns import device_type_for
from quickconnect.services.device_protection.common import (
    INCIDENT_TYPES,
    INCIDENT_WORDS,
    DeviceView,
)

# --- matching what the customer typed ------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = {"my", "the", "a", "an", "it", "its", "is", "one", "on", "for", "new", "old", "i"}


def match_device(
    devices: Sequence[DeviceView], text: str | None, *, by_type: bool = True
) -> DeviceView | None:
    """The device a customer means ("the pixel", "my ipad", "Galaxy S23", "phone"), only
    when exactly one device fits; `by_type=False` needs the make or model to be named."""
    if not text or not devices:
        return None
    lowered = text.lower()
    words = set(_WORD.findall(lowered)) - _FILLER
    by_model = [
        device
        for device in devices
        if set(_WORD.findall(device.model.lower())) & words
        or device.model.lower() in lowered
        or device.make.lower() in words
    ]
    if len(by_model) == 1:
        return by_model[0]
    if not by_type:
        return None
    wanted = {device_type_for(word) for word in words} | {device_type_for(lowered.strip())}
    by_type = [device for device in devices if device.device_type in wanted]
    return by_type[0] if len(by_type) == 1 else None


def device_type_in(text: str | None) -> str | None:
    """A canonical device type named anywhere in the text ("my new apple watch" -> smartwatch)."""
    if not text:
        return None
    words = _WORD.findall(text.lower())
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            found = device_type_for(" ".join(words[start : start + size]))
            if found:
                return found
    return None


_INCIDENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "theft",
        re.compile(
            r"\b(stol[ea]n|stole|steal|theft|thief|robbed|robbery|snatched|pickpocket\w*)\b"
        ),
    ),
    (
        "accidental_damage",
        re.compile(
            r"\b(accident\w*|dropp?(ed)?|drop|fell|fall(en)?|crack(ed)?|smash(ed)?|shatter(ed)?|"
            r"broke|broken|spill(ed)?|water|wet|liquid|sat on|stepped on|bent|damage[d]?|dent)\b"
        ),
    ),
    (
        "mechanical_failure",
        re.compile(
            r"\b(mechanical|stopped working|won'?t (turn|switch|charge|boot)|doesn'?t (turn|"
            r"charge|boot|work)|not (turning|charging|working)|dead|faulty|fault|malfunction\w*|"
            r"battery|overheat\w*|glitch\w*|freez\w*|crash\w*|speaker|microphone|"
            r"camera (stopped|broke|not)|keeps? restarting|boot ?loop|failure|defect\w*)\b"
        ),
    ),
    ("other", re.compile(r"\b(other|something else|none of (those|these|them)|lost)\b")),
)


def parse_incident_type(text: str | None) -> str | None:
    """'it was stolen' -> theft, 'I dropped it' -> accidental_damage, 'won't charge' ->
    mechanical_failure, 'something else' -> other; None when no type is recognisable."""
    if not text:
        return None
    lowered = " ".join(text.lower().replace("_", " ").split())
    for kind in INCIDENT_TYPES:
        if lowered in (kind.replace("_", " "), INCIDENT_WORDS[kind]):
            return kind
    for kind, pattern in _INCIDENT_PATTERNS:
        if pattern.search(lowered):
            return kind
    return None


_PRE_EXISTING = re.compile(
    r"\b(already (had|was|were|broken|cracked|damaged|there|faulty)|(was|were|been) (there|"
    r"like that|broken|cracked|damaged|faulty) (before|since|when)|existed before|"
    r"pre-?existing|before (i|we) (enrolled|enroll|signed up|joined|got (the )?(protection|"
    r"cover|plan|insurance))|since before|for (months|years|ages) now|has always been|"
    r"had (it|this|that|the problem|the issue) (before|since|for))\b"
)


def says_pre_existing(text: str | None) -> bool:
    """Does the customer say the problem was there before ("it was already cracked when I
    signed up")? Such issues are generally not covered, so the claim is flagged for review."""
    return bool(text and _PRE_EXISTING.search(text.lower()))
