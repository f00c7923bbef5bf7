"""Resolve the raw date phrases our spaCy entity ruler extracts into calendar dates.

Why this exists: the assistant has no Duckling, so `date` entities arrive as the text the
customer typed ("the 15th", "next monday", "3/14"; see `quickconnect.nlp.patterns`). Actions
need a real `date`, and only they know which way an ambiguous phrase points, so they pass
`prefer`:

- ``"future"`` (effective dates of plan changes): "the 15th" is the next 15th on or after
  today, "March 3" the next March 3 on or after today, "monday" the first Monday after today.
- ``"past"`` (incident dates of claims): "the 15th" is the most recent 15th on or before today,
  "March 3" likewise, "monday" the most recent Monday before today.

Choices made here (a customer's phrase can mean more than one day; these are the readings
the assistant commits to, so tests pin them):

- Weekdays: "next X" and "(this) coming X" are the first X after today, "last X" the most
  recent X before today (whatever `prefer` says). A bare "X" follows `prefer` and never means
  today. "this X" follows `prefer` and may be today.
- Numeric dates with "/" (and "-" when a year follows): if one part is over 12 it is the day;
  if both are 12 or less the date is read US-style, month/day ("3/4" is March 4, "14/3" is
  14 March). "24/7" is never a date. Dots are always day.month.year ("14.03.2026"); a leading
  four-digit year is year-month-day ("2026-12-01", "2026/12/01"). Two-digit years are 20xx.
- "next week" is Monday of next week, "next month" the 1st of next month, "end of the month"
  the last day of this month. "the next billing cycle" / "next bill" / "next billing period"
  is the next start of a billing period strictly after today (the 1st of next month when the
  customer's `billing_cycle_day` is unknown); "end of the billing cycle" is the day before it.
- "N days/weeks/months/years ago", "in N ...", "N ... from now": exact arithmetic; a month or
  year step that lands on a missing day (31 Jan + 1 month) moves back to the month's last day.
  Minutes and hours resolve to today when under 24 hours, to whole days when a multiple of 24.
- Impossible calendar days ("Feb 30", "31/4", "29.02.2027") give None rather than a nearby day.
- Ranges and vague phrases give None, so the assistant asks for the exact day instead of
  guessing: "last week", "this week", "this month", "last month", "this weekend", "next year",
  "a few days ago", "a couple of weeks ago", "March 2026".

Everything else that is not recognised also gives None: never guess.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from quickconnect.billing_cycle import next_cycle_start

__all__ = ["format_day", "resolve_date"]

_PREFERENCES = ("future", "past")

_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS: dict[str, int] = {}
for _number, _name in enumerate(calendar.month_name[1:], start=1):
    _MONTHS[_name.lower()] = _number
    _MONTHS[_name[:3].lower()] = _number
_MONTHS["sept"] = 9

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_WEEKDAY_ABBR: dict[str, int] = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}

_UNIT_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_UNIT_ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()


def _number_words() -> tuple[dict[str, int], dict[str, int]]:
    """Cardinal and ordinal words up to 31 ("two", "twenty-one", "thirty first")."""
    cardinals = {word: n for n, word in enumerate(_UNIT_WORDS, start=1)}
    ordinals = {word: n for n, word in enumerate(_UNIT_ORDINALS, start=1)}
    cardinals |= {"a": 1, "an": 1, "twenty": 20, "thirty": 30}
    ordinals |= {"twentieth": 20, "thirtieth": 30}
    for tens_word, tens in (("twenty", 20), ("thirty", 30)):
        last_unit = 9 if tens == 20 else 1
        for n in range(1, last_unit + 1):
            for joiner in ("-", " "):
                cardinals[f"{tens_word}{joiner}{_UNIT_WORDS[n - 1]}"] = tens + n
                ordinals[f"{tens_word}{joiner}{_UNIT_ORDINALS[n - 1]}"] = tens + n
    return cardinals, ordinals


_CARDINALS, _ORDINALS = _number_words()


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation, longest first so "twenty one" wins over "twenty"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH_RE = rf"(?P<month>{_alternation(_MONTHS)})\.?"
_DAY_RE = rf"(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{_alternation(_ORDINALS)})"
_YEAR_RE = r"(?:,? (?P<year>\d{4}))?"
_COUNT_RE = rf"(?P<count>\d+|{_alternation(_CARDINALS)})"
_UNIT_RE = r"(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"


@dataclass(frozen=True)
class _Context:
    today: date
    billing_cycle_day: int | None
    forward: bool  # prefer == "future"


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def resolve_date(
    text: str | None,
    today: date,
    *,
    billing_cycle_day: int | None = None,
    prefer: str = "future",
) -> date | None:
    """The calendar day a customer's date phrase names, relative to `today`; None if unsure.

    `prefer` ("future" or "past") decides ambiguous phrases such as "the 15th" or "monday"; see
    the module docstring for every reading. `billing_cycle_day` (1-28, the customer's) is only
    used by billing-cycle phrases. Raises ValueError for a bad `prefer` or `billing_cycle_day`
    (caller bugs), never for the text: text that is not a single, real day gives None.
    """
    if prefer not in _PREFERENCES:
        raise ValueError(f"prefer must be 'future' or 'past', got {prefer!r}")
    if billing_cycle_day is not None and not 1 <= billing_cycle_day <= 28:
        raise ValueError(f"billing cycle day must be 1-28, got {billing_cycle_day}")
    phrase = _normalise(text)
    if not phrase:
        return None
    context = _Context(today, billing_cycle_day, prefer == "future")
    for resolver in _RESOLVERS:
        try:
            resolved = resolver(phrase, context)
        except (OverflowError, ValueError):  # "in 99999 years" and other dates out of range
            return None
        if resolved is not None:
            return resolved
    return None


def format_day(d: date) -> str:
    """'22 Nov 2026': unambiguous for customers everywhere, and independent of the locale."""
    return f"{d.day} {_MONTH_ABBR[d.month - 1]} {d.year}"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _normalise(text: str | None) -> str:
    """Lower-case, single spaces, no trailing punctuation, no leading "on" / "the"."""
    if not text:
        return ""
    phrase = " ".join(text.lower().replace("\u2013", "-").replace("\u2014", "-").split())
    phrase = phrase.strip(" ,.;:!?")
    # "2026 - 12 - 01" (the ruler keeps the text as typed) -> "2026-12-01"
    phrase = re.sub(r"(?<=\d) ?([/.\-]) ?(?=\d)", r"\1", phrase)
    while (stripped := re.sub(r"^(?:on|the) ", "", phrase)) != phrase:
        phrase = stripped
    return phrase


def _day(year: int, month: int, day: int) -> date | None:
    """The date, or None if that day does not exist (Feb 30, 31 April, 29 Feb 2027)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift_months(day: date, months: int) -> date:
    """Same day `months` later (or earlier), moved back to the last day if the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _first_of_next_month(today: date) -> date:
    return _shift_months(today.replace(day=1), 1)


def _next_bill_date(context: _Context) -> date:
    """Start of the next billing period strictly after today (1st of next month if unknown)."""
    if context.billing_cycle_day is None:
        return _first_of_next_month(context.today)
    return next_cycle_start(context.today, context.billing_cycle_day)


def _day_number(word: str) -> int:
    """'15th' / '15' / 'fifteenth' -> 15."""
    digits = re.match(r"\d+", word)
    return int(digits.group()) if digits else _ORDINALS[word]


def _full_year(year: str) -> int:
    return int(year) + 2000 if len(year) == 2 else int(year)


def _nearest_month_day(month: int, day: int, context: _Context) -> date | None:
    """`month`/`day` on or after today (future) or on or before today (past).

    Searches up to 8 years so that 29 February finds its leap year; None if the day never
    exists (30 February).
    """
    step = 1 if context.forward else -1
    for offset in range(9):
        candidate = _day(context.today.year + offset * step, month, day)
        if candidate is None:
            continue
        if (candidate >= context.today) if context.forward else (candidate <= context.today):
            return candidate
    return None


def _nearest_day_of_month(day: int, context: _Context) -> date | None:
    """The `day`-th on or after today (future) or on or before (past), skipping short months."""
    step = 1 if context.forward else -1
    first = context.today.replace(day=1)
    for offset in range(13):
        month = _shift_months(first, offset * step)
        candidate = _day(month.year, month.month, day)
        if candidate is None:
            continue
        if (candidate >= context.today) if context.forward else (candidate <= context.today):
            return candidate
    return None


def _weekday_after(today: date, weekday: int, *, include_today: bool) -> date:
    days = (weekday - today.weekday()) % 7
    if days == 0 and not include_today:
        days = 7
    return today + timedelta(days=days)


def _weekday_before(today: date, weekday: int, *, include_today: bool) -> date:
    days = (today.weekday() - weekday) % 7
    if days == 0 and not include_today:
        days = 7
    return today - timedelta(days=days)


# --------------------------------------------------------------------------------------------
# Resolvers: each takes the normalised phrase and returns a date, or None if it is not theirs
# (or names a day that does not exist). The first date returned wins.
# --------------------------------------------------------------------------------------------

_FIXED_OFFSETS: dict[str, int] = {
    "today": 0,
    "tonight": 0,
    "now": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "earlier today": 0,
    "later today": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
    "yesterday": -1,
    "last night": -1,
    "day before yesterday": -2,
}


def _fixed(phrase: str, context: _Context) -> date | None:
    offset = _FIXED_OFFSETS.get(phrase)
    return None if offset is None else context.today + timedelta(days=offset)


_BILLING_PERIOD = r"(?:billing cycle|billing period|bill cycle|billing date|bill date|bill)"
_START_OF = r"(?:(?:the )?(?:start|beginning) of )?"
_PERIODS: list[tuple[re.Pattern[str], Callable[[_Context], date]]] = [
    (
        re.compile(rf"^{_START_OF}next week$"),
        lambda c: c.today + timedelta(days=7 - c.today.weekday()),
    ),
    (
        re.compile(rf"^{_START_OF}next month$"),
        lambda c: _first_of_next_month(c.today),
    ),
    (
        re.compile(r"^end of (?:the |this )?month$"),
        lambda c: _last_day(c.today.year, c.today.month),
    ),
    (
        re.compile(r"^end of next month$"),
        lambda c: _shift_months(_first_of_next_month(c.today), 1) - timedelta(days=1),
    ),
    (
        re.compile(rf"^{_START_OF}(?:my |the )?next {_BILLING_PERIOD}$"),
        _next_bill_date,
    ),
    (
        re.compile(rf"^end of (?:the |this |my |the current )?{_BILLING_PERIOD}$"),
        lambda c: _next_bill_date(c) - timedelta(days=1),
    ),
]


def _period(phrase: str, context: _Context) -> date | None:
    for pattern, resolve in _PERIODS:
        if pattern.match(phrase):
            return resolve(context)
    return None


_WEEKDAY_PHRASE = re.compile(
    rf"^(?:(?P<qualifier>next|last|this coming|coming|this) )?"
    rf"(?P<weekday>{_alternation(_WEEKDAYS | _WEEKDAY_ABBR)})$"
)


def _weekday(phrase: str, context: _Context) -> date | None:
    match = _WEEKDAY_PHRASE.match(phrase)
    if not match:
        return None
    qualifier, name = match["qualifier"], match["weekday"]
    if qualifier is None and name not in _WEEKDAYS:  # bare "sat" / "sun": not a date
        return None
    weekday = _WEEKDAYS[name] if name in _WEEKDAYS else _WEEKDAY_ABBR[name]
    today = context.today
    if qualifier in ("next", "coming", "this coming"):
        return _weekday_after(today, weekday, include_today=False)
    if qualifier == "last":
        return _weekday_before(today, weekday, include_today=False)
    include_today = qualifier == "this"
    if context.forward:
        return _weekday_after(today, weekday, include_today=include_today)
    return _weekday_before(today, weekday, include_today=include_today)


_RELATIVE_PHRASES = [
    re.compile(rf"^{_COUNT_RE} ?{_UNIT_RE} ago$"),
    re.compile(rf"^in (?:a |an |one )?{_COUNT_RE} {_UNIT_RE}$"),
    re.compile(rf"^(?:a |an |one )?{_COUNT_RE} {_UNIT_RE} from (?:now|today)$"),
]


def _relative(phrase: str, context: _Context) -> date | None:
    for pattern in _RELATIVE_PHRASES:
        match = pattern.match(phrase)
        if match:
            break
    else:
        return None
    count_word = match["count"]
    count = int(count_word) if count_word.isdigit() else _CARDINALS[count_word]
    sign = -1 if phrase.endswith(" ago") else 1
    unit = match["unit"].rstrip("s")
    if unit in ("min", "minute", "hr", "hour"):
        hours = count / 60 if unit.startswith("min") else count
        if hours < 24:
            return context.today
        if hours % 24:
            return None  # "30 hours ago": today or yesterday depends on the time of day
        return context.today + timedelta(days=sign * int(hours // 24))
    if unit == "day":
        return context.today + timedelta(days=sign * count)
    if unit == "week":
        return context.today + timedelta(weeks=sign * count)
    months = count if unit == "month" else count * 12
    return _shift_months(context.today, sign * months)


_DAY_OF_MONTH = re.compile(
    rf"^(?:{_DAY_RE}|(?P<last>last))(?: of (?P<which>next|this|the) month)?$"
)


def _day_of_month(phrase: str, context: _Context) -> date | None:
    """'15th', 'the 15th of next month', 'the first of next month', 'the last of this month'."""
    match = _DAY_OF_MONTH.match(phrase)
    if not match:
        return None
    which = match["which"]
    day_word = match["day"]
    if day_word is not None and day_word.isdigit():  # a bare "15" is not a date
        return None
    if which is None and (match["last"] or day_word in _ORDINALS):
        return None  # "the first" / "the second" alone: too often not a date ("the second time")
    if which in (None, "the"):
        if match["last"]:  # "the last of the month"
            return _last_day(context.today.year, context.today.month)
        return _nearest_day_of_month(_day_number(day_word), context)
    month = context.today.replace(day=1)
    if which == "next":
        month = _shift_months(month, 1)
    if match["last"]:
        return _last_day(month.year, month.month)
    return _day(month.year, month.month, _day_number(day_word))


_MONTH_DAY_PHRASES = [
    re.compile(rf"^{_MONTH_RE} {_DAY_RE}{_YEAR_RE}$"),  # March 3, march 3rd, 2026
    re.compile(rf"^{_DAY_RE} (?:of )?{_MONTH_RE}{_YEAR_RE}$"),  # 3 March, the 3rd of march 2026
]


def _month_day(phrase: str, context: _Context) -> date | None:
    for pattern in _MONTH_DAY_PHRASES:
        match = pattern.match(phrase)
        if match:
            month, day = _MONTHS[match["month"]], _day_number(match["day"])
            if match["year"]:
                return _day(int(match["year"]), month, day)
            return _nearest_month_day(month, day, context)
    return None


_ISO = re.compile(r"^(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})$")
_DOTTED = re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4}|\d{2})$")
_SLASHED = re.compile(
    r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<year>\d{4}|\d{2}))?$"
    r"|^(?P<a2>\d{1,2})-(?P<b2>\d{1,2})-(?P<year2>\d{4}|\d{2})$"
)


def _numeric(phrase: str, context: _Context) -> date | None:
    """'2026-12-01' (ISO), '14.03.2026' (day.month.year), '3/14', '14/3/26', '12-01-2026'."""
    if match := _ISO.match(phrase):
        return _day(int(match["year"]), int(match["month"]), int(match["day"]))
    if match := _DOTTED.match(phrase):
        return _day(_full_year(match["year"]), int(match["month"]), int(match["day"]))
    match = _SLASHED.match(phrase)
    if not match or phrase == "24/7":
        return None
    first = int(match["a"] or match["a2"])
    second = int(match["b"] or match["b2"])
    year = match["year"] or match["year2"]
    if first > 12 and second > 12:
        return None
    # one part over 12 is the day; otherwise US order, month/day
    month, day = (second, first) if first > 12 else (first, second)
    if year:
        return _day(_full_year(year), month, day)
    return _nearest_month_day(month, day, context)


_RESOLVERS: tuple[Callable[[str, _Context], date | None], ...] = (
    _fixed,
    _period,
    _weekday,
    _relative,
    _day_of_month,
    _month_day,
    _numeric,
)
