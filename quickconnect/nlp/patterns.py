"""Entity patterns and tokenizer tweaks for the project's own spaCy pipeline (`qc_en_v<N>`).

No pretrained spaCy model is used: the pipeline is `spacy.blank("en")` plus two entity rulers,
and everything they recognise is defined here. Labels are exactly the spec's entity names
(`ENTITY_LABELS`). Catalog entities (`plan_name`, `service_name`) are generated from
`quickconnect.catalog`, the single source for names and aliases.

How overlaps are resolved (see `build_pipeline.create_nlp`):

1. `IDENTIFIER` ruler runs first: account / protection plan / claim / case / ticket numbers,
   emails and phone numbers. These formats are the most specific, so nothing later may take
   their tokens (the second ruler has `overwrite_ents=False`), e.g. the digits of
   "qc 482913" are never a phone number or an amount.
2. `ENTITY` ruler: amounts, dates, device types, plan and service names. Inside one ruler spaCy
   keeps the longest match (ties: the earlier one), so "the netflix thing" beats "netflix" and
   "basic protection" (a protection tier) beats "basic" (a mobile plan).

Guards: a pattern labelled `GUARD_LABEL` marks a known false positive ("phone number",
"unlimited texts", "12.50 GB", "to watch", "the 2nd time"). Being longer, it wins over the
shorter entity inside it. Guard spans stay in `doc.ents` with that label, so consumers must keep
only `ENTITY_LABELS` (Rasa's SpacyEntityExtractor does this through its `dimensions` setting).

Values are the text as typed; normalising them (upper-casing identifiers, parsing amounts and
dates, mapping aliases to catalog codes with `catalog_code_for`) is the action server's job.

Changing anything here changes the pipeline: bump `build_pipeline.PIPELINE_VERSION` (and the
model folder in config.yml), otherwise Rasa keeps using its cached copy of the old pipeline.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from quickconnect.catalog import ADDONS, PLANS, PROTECTION_TIERS

Pattern = dict[str, Any]

ENTITY_LABELS: tuple[str, ...] = (
    "account_number",
    "protection_plan_number",
    "claim_number",
    "case_number",
    "ticket_number",
    "email",
    "phone_number",
    "amount",
    "date",
    "device_type",
    "plan_name",
    "service_name",
)
GUARD_LABEL = "qc_guard"

# Identifier label -> prefix typed by customers ("QC-482913", "qc482913", "qc 482913").
IDENTIFIER_PREFIXES: dict[str, str] = {
    "account_number": "qc",
    "protection_plan_number": "dp",
    "claim_number": "cl",
    "case_number": "cs",
    "ticket_number": "tk",
}
_DASHES = ["-", "\u2013", "\u2014"]  # hyphen, en dash, em dash

# --------------------------------------------------------------------------------------------
# Tokenizer tweaks (saved with the pipeline by `nlp.to_disk`)
# --------------------------------------------------------------------------------------------

EMAIL_RE = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
# A North American number written without spaces: 5550100001, 555-010-0001, 555.010.0001,
# (555)010-0001, +1-555-010-0001, +15550100001.
PHONE_COMPACT_RE = r"(?:\+?1[\-.]?)?(?:\(\d{3}\)|\d{3})[\-.]?\d{3}[\-.]?\d{4}"

# Whole strings the tokenizer must keep as one token. Without this the default English rules
# split "ALICE@Example.COM" at ".C" and "(555)010-0001" / "555-010-0001" at every dash.
TOKEN_MATCH_RE = rf"^(?:{EMAIL_RE}|{PHONE_COMPACT_RE})$"

# Extra suffixes split off numbers: "84usd" -> "84" "usd", "20gig" -> "20" "gig".
EXTRA_SUFFIXES: tuple[str, ...] = (r"(?<=[0-9])(?i:usd|dollars?|bucks|gigs?)",)

# --------------------------------------------------------------------------------------------
# Shared token-level building blocks
# --------------------------------------------------------------------------------------------

_SIX_DIGITS = r"^\d{6}$"
_NUMBER = r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$"  # 84 / 84.2 / 84.20 / 1,234.50
_NUMBER_2DP = r"^(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}$"  # 84.20 (bare money-like decimal)
_CURRENCY_BEFORE = ["$", "us$", "usd"]
_CURRENCY_AFTER = ["$", "usd", "dollar", "dollars", "bucks"]
_NUMBER_UNITS = [  # a decimal followed by one of these is not money
    "gb",
    "mb",
    "tb",
    "kb",
    "gig",
    "gigs",
    "gigabyte",
    "gigabytes",
    "megabytes",
    "mbps",
    "gbps",
    "%",
    "percent",
    "am",
    "pm",
    "a.m.",
    "p.m.",
    "hours",
    "hrs",
    "minutes",
    "mins",
    "km",
    "miles",
    "mi",
    "kg",
    "lbs",
    "inch",
    "inches",
    "ghz",
    "mp",
]

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ABBR = ["mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"]
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "jan.",
    "feb.",
    "mar.",
    "apr.",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "sept.",
    "oct.",
    "nov.",
    "dec.",
]
_DAY_NUM = r"^(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?$"  # 3, 03, 3rd, 31st
_ORDINAL_NUM = r"^(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)$"  # 15th
_ORDINAL_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "thirtieth",
    "last",
]
_YEAR = r"^(?:19|20)\d{2}$"
_TIME_UNITS = [
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
]
_FEW = ["few", "couple"]

# --------------------------------------------------------------------------------------------
# Identifiers, emails, phone numbers (first ruler)
# --------------------------------------------------------------------------------------------


def _regex(pattern: str, attr: str = "TEXT") -> Pattern:
    return {attr: {"REGEX": pattern}}


def identifier_patterns() -> list[Pattern]:
    """QC-/DP-/CL-/CS-/TK- numbers: any case, dash (or en dash) optional, space allowed."""
    patterns: list[Pattern] = []
    for label, prefix in IDENTIFIER_PREFIXES.items():
        patterns += [
            # QC-482913, qc482913, Qc\u2013482913 (one token)
            {"label": label, "pattern": [_regex(rf"^{prefix}[\-\u2013\u2014]?\d{{6}}$", "LOWER")]},
            # qc 482913
            {"label": label, "pattern": [{"LOWER": prefix}, _regex(_SIX_DIGITS)]},
            # QC - 482913
            {
                "label": label,
                "pattern": [{"LOWER": prefix}, {"ORTH": {"IN": _DASHES}}, _regex(_SIX_DIGITS)],
            },
        ]
    return patterns


def email_patterns() -> list[Pattern]:
    return [{"label": "email", "pattern": [_regex(rf"^{EMAIL_RE}$")]}]


def phone_patterns() -> list[Pattern]:
    """North American numbers in the usual spellings, plus +<country code> groups."""
    country = {"TEXT": {"REGEX": r"^\+?1$"}, "OP": "?"}
    d3 = _regex(r"^\d{3}$")
    d4 = _regex(r"^\d{4}$")
    area_options = [[d3], [{"ORTH": "("}, d3, {"ORTH": ")"}], [_regex(r"^\(\d{3}\)$")]]
    tail_options = [
        [d3, d4],  # 010 0001
        [d3, {"ORTH": {"IN": _DASHES + ["."]}}, d4],  # 010 - 0001
        [_regex(r"^\d{3}[\-.]\d{4}$")],  # 010-0001 kept together
        [_regex(r"^\d{7}$")],  # 0100001
    ]
    patterns: list[Pattern] = [
        # one token: 5550100001, 555-010-0001, (555)010-0001, +15550100001 ...
        {"label": "phone_number", "pattern": [country, _regex(rf"^{PHONE_COMPACT_RE}$")]},
        # international, one token: +447700900123
        {"label": "phone_number", "pattern": [_regex(r"^\+\d{8,15}$")]},
    ]
    for area in area_options:
        for tail in tail_options:
            patterns.append({"label": "phone_number", "pattern": [country, *area, *tail]})
    # +44 20 7946 0958 / +353 1 234 5678: a +country code then 2 to 4 groups of digits
    group = _regex(r"^\d{1,5}$")
    for n_groups in (2, 3, 4):
        patterns.append(
            {
                "label": "phone_number",
                "pattern": [_regex(r"^\+\d{1,3}$"), *([group] * n_groups)],
            }
        )
    return patterns


# --------------------------------------------------------------------------------------------
# Amounts, dates, devices, catalog (second ruler)
# --------------------------------------------------------------------------------------------


def amount_patterns() -> list[Pattern]:
    """$84.20, $ 84, US$84, USD 84, 84.20$, 84.2 dollars, 84 usd, fifty bucks, bare 84.20.

    A bare integer ("I have 3 phones") is never an amount: there is no way to tell it apart
    from other numbers. A bare two-decimal number ("it was 84.20") is, unless a unit follows.
    """
    num = _regex(_NUMBER)
    return [
        {"label": "amount", "pattern": [{"LOWER": {"IN": _CURRENCY_BEFORE}}, num]},
        {"label": "amount", "pattern": [num, {"LOWER": {"IN": _CURRENCY_AFTER}}]},
        {"label": "amount", "pattern": [num, {"LOWER": {"IN": ["cent", "cents"]}}]},
        # 84 dollars and 20 cents / 84 dollars 20
        {
            "label": "amount",
            "pattern": [
                num,
                {"LOWER": {"IN": ["dollar", "dollars", "bucks"]}},
                {"LOWER": "and", "OP": "?"},
                _regex(r"^\d{1,2}$"),
                {"LOWER": {"IN": ["cent", "cents"]}, "OP": "?"},
            ],
        },
        # fifty dollars, twenty five bucks, a hundred dollars
        {
            "label": "amount",
            "pattern": [
                {"LIKE_NUM": True, "OP": "+"},
                {"LOWER": {"IN": ["dollar", "dollars", "bucks"]}},
            ],
        },
        {"label": "amount", "pattern": [_regex(_NUMBER_2DP)]},
        {"label": GUARD_LABEL, "pattern": [_regex(_NUMBER), {"LOWER": {"IN": _NUMBER_UNITS}}]},
    ]


_DATE_PHRASES = [
    "today",
    "tomorrow",
    "yesterday",
    "tonight",
    "this morning",
    "this afternoon",
    "this evening",
    "last night",
    "earlier today",
    "later today",
    "the day after tomorrow",
    "day after tomorrow",
    "the day before yesterday",
    "day before yesterday",
    "this week",
    "next week",
    "last week",
    "this weekend",
    "next weekend",
    "last weekend",
    "this month",
    "next month",
    "last month",
    "this year",
    "next year",
    "last year",
    "end of the month",
    "the end of the month",
    "end of this month",
    "end of month",
    "end of next month",
    "the end of next month",
    "start of next month",
    "the start of next month",
    "beginning of next month",
    "the beginning of next month",
    "next billing cycle",
    "the next billing cycle",
    "start of the next billing cycle",
    "start of my next billing cycle",
    "the start of my next billing cycle",
    "end of the billing cycle",
    "end of this billing cycle",
    "end of my billing cycle",
    "the end of my billing cycle",
    "the end of the billing cycle",
    "past few days",
    "the past few days",
    "last few days",
    "the last few days",
    "past couple of days",
    "the past couple of days",
]


def date_patterns() -> list[Pattern]:
    """Dates as customers type them; values stay raw (no Duckling to resolve them)."""
    day = _regex(_DAY_NUM)
    year = _regex(_YEAR)
    month = {"LOWER": {"IN": _MONTHS}}
    comma = {"ORTH": ",", "OP": "?"}
    dash = {"ORTH": {"IN": _DASHES + ["/", "."]}}
    ordinal = _regex(_ORDINAL_NUM)
    unit = {"LOWER": {"IN": _TIME_UNITS}}
    number = {"LIKE_NUM": True}
    patterns: list[Pattern] = [{"label": "date", "pattern": p} for p in _DATE_PHRASES]
    token_patterns: list[list[Pattern]] = [
        # monday, next friday, this coming tuesday, last sat
        [
            {"LOWER": {"IN": ["next", "this", "last", "coming"]}, "OP": "?"},
            {"LOWER": {"IN": _WEEKDAYS}},
        ],
        [{"LOWER": {"IN": ["next", "this", "last", "coming"]}}, {"LOWER": {"IN": _WEEKDAY_ABBR}}],
        [{"LOWER": "this"}, {"LOWER": "coming"}, {"LOWER": {"IN": _WEEKDAYS + _WEEKDAY_ABBR}}],
        # March 3 / march 3rd, 2026 / Dec. 1
        [month, day],
        [month, day, comma, year],
        # 3 March / 3rd of March 2026 / the 3rd of march
        [{"LOWER": "the", "OP": "?"}, day, {"LOWER": "of", "OP": "?"}, month],
        [{"LOWER": "the", "OP": "?"}, day, {"LOWER": "of", "OP": "?"}, month, comma, year],
        # March 2026
        [month, year],
        # the 15th / 15th / the 15th of next month
        [{"LOWER": "the", "OP": "?"}, ordinal],
        [
            {"LOWER": "the", "OP": "?"},
            ordinal,
            {"LOWER": "of"},
            {"LOWER": {"IN": ["next", "this", "the"]}},
            {"LOWER": "month"},
        ],
        # the first of next month / the fifteenth of march
        [
            {"LOWER": "the", "OP": "?"},
            {"LOWER": {"IN": _ORDINAL_WORDS}},
            {"LOWER": "of"},
            {"LOWER": {"IN": ["next", "this", "the"]}},
            {"LOWER": "month"},
        ],
        [{"LOWER": "the", "OP": "?"}, {"LOWER": {"IN": _ORDINAL_WORDS}}, {"LOWER": "of"}, month],
        # 3/14, 14/03/2026, 3/14/26 (one token); 24/7 is not a date
        [
            _regex(
                r"^(?!24/7$)(?:(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])"
                r"|(?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2]))(?:/(?:\d{2}|\d{4}))?$"
            )
        ],
        # 14.03.2026, 2026/12/01, 2026.12.01 (one token)
        [_regex(r"^(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:\d{2}|\d{4})$")],
        [_regex(r"^(?:19|20)\d{2}[/.](?:0?[1-9]|1[0-2])[/.](?:0?[1-9]|[12]\d|3[01])$")],
        # 2026-12-01 / 12-01-2026 (split at the dashes)
        [year, dash, _regex(r"^(?:0?[1-9]|1[0-2])$"), dash, _regex(r"^(?:0?[1-9]|[12]\d|3[01])$")],
        [
            _regex(r"^(?:0?[1-9]|[12]\d|3[01])$"),
            dash,
            _regex(r"^(?:0?[1-9]|[12]\d|3[01])$"),
            dash,
            year,
        ],
        # 2 days ago / two weeks ago / a week ago / a few days ago / 2days ago
        [number, unit, {"LOWER": "ago"}],
        [{"LOWER": {"IN": ["a", "an", "one"]}}, unit, {"LOWER": "ago"}],
        [
            {"LOWER": "a", "OP": "?"},
            {"LOWER": {"IN": _FEW}},
            {"LOWER": "of", "OP": "?"},
            unit,
            {"LOWER": "ago"},
        ],
        [_regex(r"^\d+(?:days?|weeks?|months?|hrs?|hours?|mins?)$", "LOWER"), {"LOWER": "ago"}],
        # in 2 days / in a week / in a couple of weeks / 3 days from now / a week from today
        [{"LOWER": "in"}, {"LOWER": {"IN": ["a", "an", "one"]}, "OP": "?"}, number, unit],
        [{"LOWER": "in"}, {"LOWER": {"IN": ["a", "an"]}}, unit],
        [
            {"LOWER": "in"},
            {"LOWER": "a", "OP": "?"},
            {"LOWER": {"IN": _FEW}},
            {"LOWER": "of", "OP": "?"},
            unit,
        ],
        [
            {"LOWER": {"IN": ["a", "an", "one"]}, "OP": "?"},
            number,
            unit,
            {"LOWER": "from"},
            {"LOWER": {"IN": ["now", "today"]}},
        ],
        [
            {"LOWER": {"IN": ["a", "an", "one"]}},
            unit,
            {"LOWER": "from"},
            {"LOWER": {"IN": ["now", "today"]}},
        ],
    ]
    patterns += [{"label": "date", "pattern": p} for p in token_patterns]
    # "the 2nd time", "my 3rd attempt", "the first of them": ordinals that are not dates
    patterns.append(
        {
            "label": GUARD_LABEL,
            "pattern": [
                {
                    "LOWER": {"IN": ["the", "my", "a", "his", "her", "our", "their", "your"]},
                    "OP": "?",
                },
                ordinal,
                {
                    "LOWER": {
                        "IN": [
                            "time",
                            "times",
                            "attempt",
                            "attempts",
                            "try",
                            "one",
                            "line",
                            "phone",
                            "device",
                            "bill",
                            "payment",
                            "floor",
                            "birthday",
                            "place",
                            "month",
                            "year",
                            "week",
                            "day",
                            "call",
                            "person",
                            "account",
                            "grade",
                            "generation",
                            "gen",
                        ]
                    }
                },
            ],
        }
    )
    return patterns


# Canonical device type -> phrases. Canonical types match catalog.DEVICE_TYPES, plus
# "computer" (desktops / PCs: recognised so the assistant can say they aren't covered).
DEVICE_PHRASES: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phones",
        "cell phone",
        "cellphone",
        "cell phones",
        "cellphones",
        "mobile phone",
        "mobile phones",
        "mobile",
        "smartphone",
        "smartphones",
        "smart phone",
        "iphone",
        "iphones",
        "android",
        "android phone",
        "samsung phone",
        "galaxy phone",
        "pixel",
        "pixel phone",
        "google pixel",
        "handset",
    ),
    "tablet": ("tablet", "tablets", "ipad", "ipads", "galaxy tab", "android tablet"),
    "smartwatch": (
        "smartwatch",
        "smartwatches",
        "smart watch",
        "smart watches",
        "watch",
        "apple watch",
        "galaxy watch",
        "fitness watch",
    ),
    "laptop": ("laptop", "laptops", "macbook", "macbooks", "chromebook", "chromebooks"),
    "router": (
        "router",
        "routers",
        "modem",
        "wifi router",
        "wi-fi router",
        "wireless router",
        "home router",
        "wifi box",
        "internet box",
    ),
    "computer": ("computer", "computers", "pc", "desktop", "desktop computer"),
}


def device_type_for(value: str) -> str | None:
    """Map an extracted device_type value ("iPhone", "smart watch") to its canonical type."""
    key = " ".join(value.lower().replace("\u2013", "-").split())
    for device, phrases in DEVICE_PHRASES.items():
        if key in phrases:
            return device
    return None


def device_patterns() -> list[Pattern]:
    patterns: list[Pattern] = [
        {"label": "device_type", "pattern": phrase, "id": device}
        for device, phrases in DEVICE_PHRASES.items()
        for phrase in phrases
    ]
    not_a_device_after = {
        "phone": [
            "number",
            "numbers",
            "no",
            "no.",
            "#",
            "call",
            "calls",
            "line",
            "lines",
            "bill",
            "bills",
            "plan",
            "plans",
            "service",
            "support",
            "company",
            "contract",
            "provider",
            ":",
        ],
        "mobile": [
            "number",
            "numbers",
            "no",
            "no.",
            "app",
            "application",
            "data",
            "plan",
            "plans",
            "service",
            "network",
            "bill",
            "internet",
            "hotspot",
            "signal",
            "coverage",
            "line",
            "lines",
            "account",
            "site",
            "website",
            "payment",
            "banking",
            "provider",
            ":",
        ],
        "android": ["app", "application", "version", "update"],
        "desktop": ["site", "website", "version", "app"],
        "computer": ["program", "programs", "science", "game", "games", "class", "course"],
    }
    for word, followers in not_a_device_after.items():
        patterns.append(
            {
                "label": GUARD_LABEL,
                "pattern": [
                    # "mobile phone number", "cell phone bill" are not devices either
                    {"LOWER": {"IN": ["cell", "mobile", "cellphone", "smart"]}, "OP": "?"},
                    {"LOWER": word},
                    {"LOWER": {"IN": followers}},
                ],
            }
        )
    patterns += [
        {"label": GUARD_LABEL, "pattern": [{"LOWER": "by"}, {"LOWER": "phone"}]},
        {
            "label": GUARD_LABEL,
            "pattern": [{"LOWER": {"IN": ["over", "on"]}}, {"LOWER": "the"}, {"LOWER": "phone"}],
        },
        # "watch" the verb: "I want to watch", "can I watch", "we watch"
        {
            "label": GUARD_LABEL,
            "pattern": [
                {
                    "LOWER": {
                        "IN": [
                            "to",
                            "can",
                            "cannot",
                            "n't",
                            "i",
                            "we",
                            "you",
                            "they",
                            "and",
                            "or",
                            "also",
                            "even",
                            "still",
                            "could",
                            "would",
                            "will",
                            "'ll",
                            "lets",
                            "let's",
                            "me",
                            "us",
                            "cant",
                            "wont",
                            "dont",
                            "please",
                        ]
                    }
                },
                {"LOWER": "watch"},
            ],
        },
        {"label": GUARD_LABEL, "pattern": [{"LOWER": "watch"}, {"LOWER": {"IN": ["out", "for"]}}]},
        {
            "label": GUARD_LABEL,
            "pattern": [{"LOWER": "dead"}, {"LOWER": {"IN": ["pixel", "pixels"]}}],
        },
    ]
    return patterns


def _phrase_variants(phrase: str) -> list[str]:
    """ "data add-on" -> also "data add on" and "data addon"."""
    variants = [phrase]
    if "-" in phrase:
        variants += [phrase.replace("-", " "), phrase.replace("-", "")]
    return variants


@cache
def catalog_phrases() -> dict[str, dict[str, str]]:
    """{label: {lower-case phrase: catalog code}} for plan_name and service_name.

    Plans and device protection tiers are both `plan_name` (tier codes start with PROTECT_),
    add-on services are `service_name`. Raises if one phrase would point at two codes.
    The result is cached: treat it as read-only.
    """
    groups: list[tuple[str, str, str, tuple[str, ...]]] = [
        ("plan_name", p.code, p.name, p.aliases) for p in PLANS
    ]
    groups += [("plan_name", t.code, t.name, t.aliases) for t in PROTECTION_TIERS]
    groups += [("service_name", a.code, a.name, a.aliases) for a in ADDONS]
    table: dict[str, dict[str, str]] = {"plan_name": {}, "service_name": {}}
    owner: dict[str, tuple[str, str]] = {}
    for label, code, name, aliases in groups:
        for raw in (name, *aliases):
            for phrase in _phrase_variants(" ".join(raw.lower().split())):
                if owner.get(phrase, (label, code)) != (label, code):
                    raise ValueError(
                        f"catalog phrase {phrase!r} is used for both {owner[phrase]} and "
                        f"{(label, code)}; make the aliases in quickconnect/catalog.py unique"
                    )
                owner[phrase] = (label, code)
                table[label][phrase] = code
    return table


def catalog_code_for(label: str, value: str) -> str | None:
    """Map an extracted plan_name / service_name value to its catalog code, else None."""
    key = " ".join(value.lower().replace("\u2013", "-").split())
    table = catalog_phrases().get(label, {})
    return table.get(key) or table.get(key.replace("-", " "))


def catalog_patterns() -> list[Pattern]:
    patterns: list[Pattern] = [
        {"label": label, "pattern": phrase, "id": code}
        for label, phrases in catalog_phrases().items()
        for phrase, code in phrases.items()
    ]
    # Everyday uses of single-word plan aliases that do not name a plan.
    not_a_plan = [
        (
            "unlimited",
            [
                "data",
                "texts",
                "text",
                "texting",
                "minutes",
                "calls",
                "talk",
                "messages",
                "sms",
                "hotspot",
            ],
        ),
        (
            "basic",
            [
                "question",
                "questions",
                "info",
                "information",
                "details",
                "stuff",
                "steps",
                "troubleshooting",
                "things",
            ],
        ),
        (
            "family",
            [
                "member",
                "members",
                "emergency",
                "reasons",
                "friends",
                "friend",
                "photos",
                "pictures",
            ],
        ),
        ("everyday", ["use", "usage", "life", "stuff", "things", "tasks", "browsing"]),
    ]
    for word, followers in not_a_plan:
        patterns.append(
            {"label": GUARD_LABEL, "pattern": [{"LOWER": word}, {"LOWER": {"IN": followers}}]}
        )
    # "my family is ...", "our family uses ..." (but "my family plan" stays a plan)
    patterns.append(
        {
            "label": GUARD_LABEL,
            "pattern": [
                {"LOWER": {"IN": ["my", "our", "the", "whole"]}},
                {"LOWER": "family"},
                {
                    "LOWER": {
                        "IN": [
                            "is",
                            "are",
                            "was",
                            "were",
                            "has",
                            "have",
                            "and",
                            "needs",
                            "uses",
                            "use",
                            "wants",
                            "will",
                            "lives",
                            "travels",
                            "'s",
                            "loves",
                            "watches",
                        ]
                    }
                },
            ],
        }
    )
    return patterns


def build_identifier_patterns() -> list[Pattern]:
    """Patterns for the first, highest-priority ruler."""
    return identifier_patterns() + email_patterns() + phone_patterns()


def build_entity_patterns() -> list[Pattern]:
    """Patterns for the second ruler (it never overwrites the first ruler's entities)."""
    return amount_patterns() + date_patterns() + device_patterns() + catalog_patterns()


def token_match_regex() -> re.Pattern[str]:
    return re.compile(TOKEN_MATCH_RE)
