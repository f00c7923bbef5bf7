"""Date phrases from the entity ruler -> calendar dates (`quickconnect.dates`)."""

from __future__ import annotations

from datetime import date

import pytest
from spacy.language import Language

from quickconnect.dates import format_day, resolve_date
from quickconnect.nlp.build_pipeline import create_nlp

WED = date(2026, 11, 18)  # a Wednesday; most cases are relative to it
MON = date(2026, 11, 16)
SUN = date(2026, 11, 22)


def future(text: str | None, today: date = WED, **kwargs: object) -> date | None:
    return resolve_date(text, today, prefer="future", **kwargs)  # type: ignore[arg-type]


def past(text: str | None, today: date = WED, **kwargs: object) -> date | None:
    return resolve_date(text, today, prefer="past", **kwargs)  # type: ignore[arg-type]


# --- phrases that mean the same day whichever way `prefer` points -----------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", WED),
        ("Today", WED),
        ("tonight", WED),
        ("this morning", WED),
        ("earlier today", WED),
        ("tomorrow", date(2026, 11, 19)),
        ("the day after tomorrow", date(2026, 11, 20)),
        ("day after tomorrow", date(2026, 11, 20)),
        ("yesterday", date(2026, 11, 17)),
        ("last night", date(2026, 11, 17)),
        ("the day before yesterday", date(2026, 11, 16)),
        # relative counts
        ("2 days ago", date(2026, 11, 16)),
        ("2days ago", date(2026, 11, 16)),
        ("a day ago", date(2026, 11, 17)),
        ("two weeks ago", date(2026, 11, 4)),
        ("a week ago", date(2026, 11, 11)),
        ("twenty-one days ago", date(2026, 10, 28)),
        ("a month ago", date(2026, 10, 18)),
        ("a year ago", date(2025, 11, 18)),
        ("in 3 days", date(2026, 11, 21)),
        ("in a week", date(2026, 11, 25)),
        ("in two weeks", date(2026, 12, 2)),
        ("in 2 months", date(2027, 1, 18)),
        ("3 days from now", date(2026, 11, 21)),
        ("a week from today", date(2026, 11, 25)),
        ("an hour ago", WED),
        ("5 minutes ago", WED),
        ("48 hours ago", date(2026, 11, 16)),
        # explicit years
        ("March 3, 2026", date(2026, 3, 3)),
        ("march 3rd 2027", date(2027, 3, 3)),
        ("3rd of March 2026", date(2026, 3, 3)),
        ("the 3rd of march, 2025", date(2025, 3, 3)),
        ("14.03.2026", date(2026, 3, 14)),
        ("14.03.26", date(2026, 3, 14)),
        ("1.2.2027", date(2027, 2, 1)),  # dots: always day.month.year
        ("2026-12-01", date(2026, 12, 1)),
        ("2026 - 12 - 01", date(2026, 12, 1)),  # the ruler keeps the text as typed
        ("2026/12/01", date(2026, 12, 1)),
        ("2026.12.01", date(2026, 12, 1)),
        ("14/03/2026", date(2026, 3, 14)),
        ("3/14/26", date(2026, 3, 14)),
        ("12-01-2026", date(2026, 12, 1)),  # both parts <= 12: US month-day
        ("25-12-2026", date(2026, 12, 25)),
        # named days of next / this month
        ("the 15th of next month", date(2026, 12, 15)),
        ("the first of next month", date(2026, 12, 1)),
        ("the 15th of this month", date(2026, 11, 15)),
        ("the last of next month", date(2026, 12, 31)),
        ("the last of the month", date(2026, 11, 30)),
        # named periods
        ("next week", date(2026, 11, 23)),
        ("start of next week", date(2026, 11, 23)),
        ("next month", date(2026, 12, 1)),
        ("the start of next month", date(2026, 12, 1)),
        ("beginning of next month", date(2026, 12, 1)),
        ("the end of the month", date(2026, 11, 30)),
        ("end of this month", date(2026, 11, 30)),
        ("end of month", date(2026, 11, 30)),
        ("the end of next month", date(2026, 12, 31)),
        # weekdays with a direction word ignore `prefer`
        ("next monday", date(2026, 11, 23)),
        ("next friday", date(2026, 11, 20)),
        ("next wednesday", date(2026, 11, 25)),  # never today
        ("this coming friday", date(2026, 11, 20)),
        ("coming wednesday", date(2026, 11, 25)),
        ("next sat", date(2026, 11, 21)),
        ("last monday", MON),
        ("last wednesday", date(2026, 11, 11)),  # never today
        ("last fri", date(2026, 11, 13)),
        # punctuation and "on" around the phrase
        ("on the 15th of next month", date(2026, 12, 15)),
        ("tomorrow!", date(2026, 11, 19)),
        ("  Next   Month. ", date(2026, 12, 1)),
        ("Dec. 1, 2026", date(2026, 12, 1)),
    ],
)
def test_same_day_in_both_directions(text: str, expected: date) -> None:
    assert future(text) == expected
    assert past(text) == expected


# --- phrases that depend on `prefer` ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "forward", "backward"),
    [
        # day of month: on or after / on or before today
        ("the 15th", date(2026, 12, 15), date(2026, 11, 15)),
        ("on the 15th", date(2026, 12, 15), date(2026, 11, 15)),
        ("15th", date(2026, 12, 15), date(2026, 11, 15)),
        ("the 18th", WED, WED),  # today counts
        ("the 20th", date(2026, 11, 20), date(2026, 10, 20)),
        ("the 31st", date(2026, 12, 31), date(2026, 10, 31)),  # November has no 31st
        ("the 2nd", date(2026, 12, 2), date(2026, 11, 2)),
        ("the 15th of the month", date(2026, 12, 15), date(2026, 11, 15)),
        # month and day without a year: the next / most recent one
        ("March 3", date(2027, 3, 3), date(2026, 3, 3)),
        ("march 3rd", date(2027, 3, 3), date(2026, 3, 3)),
        ("3 March", date(2027, 3, 3), date(2026, 3, 3)),
        ("the 3rd of march", date(2027, 3, 3), date(2026, 3, 3)),
        ("the fifteenth of march", date(2027, 3, 15), date(2026, 3, 15)),
        ("Dec. 1", date(2026, 12, 1), date(2025, 12, 1)),
        ("sept 30", date(2027, 9, 30), date(2026, 9, 30)),
        ("November 18", WED, WED),  # today counts
        ("november 20", date(2026, 11, 20), date(2025, 11, 20)),
        # numeric without a year
        ("3/14", date(2027, 3, 14), date(2026, 3, 14)),  # second part > 12: it is the day
        ("14/3", date(2027, 3, 14), date(2026, 3, 14)),  # first part > 12: it is the day
        ("3/4", date(2027, 3, 4), date(2026, 3, 4)),  # both <= 12: US month/day
        ("12/1", date(2026, 12, 1), date(2025, 12, 1)),
        ("11/18", WED, WED),
        # bare weekdays: never today
        ("monday", date(2026, 11, 23), MON),
        ("Monday", date(2026, 11, 23), MON),
        ("on monday", date(2026, 11, 23), MON),
        ("wednesday", date(2026, 11, 25), date(2026, 11, 11)),
        ("friday", date(2026, 11, 20), date(2026, 11, 13)),
        # "this <weekday>" may be today
        ("this wednesday", WED, WED),
        ("this monday", date(2026, 11, 23), MON),
        ("this friday", date(2026, 11, 20), date(2026, 11, 13)),
    ],
)
def test_prefer_decides_ambiguous_phrases(text: str, forward: date, backward: date) -> None:
    assert future(text) == forward
    assert past(text) == backward


def test_prefer_defaults_to_future() -> None:
    assert resolve_date("the 15th", WED) == date(2026, 12, 15)
    assert resolve_date("monday", WED) == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("today", "text", "forward", "backward"),
    [
        (MON, "monday", date(2026, 11, 23), date(2026, 11, 9)),
        (MON, "sunday", SUN, date(2026, 11, 15)),
        (SUN, "sunday", date(2026, 11, 29), date(2026, 11, 15)),
        (SUN, "monday", date(2026, 11, 23), MON),
        (SUN, "last sunday", date(2026, 11, 15), date(2026, 11, 15)),
        (SUN, "next sunday", date(2026, 11, 29), date(2026, 11, 29)),
    ],
)
def test_weekdays_at_the_edges_of_the_week(
    today: date, text: str, forward: date, backward: date
) -> None:
    assert future(text, today) == forward
    assert past(text, today) == backward


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (MON, date(2026, 11, 23)),  # Monday: the following Monday, not today
        (WED, date(2026, 11, 23)),
        (SUN, date(2026, 11, 23)),
        (date(2026, 12, 31), date(2027, 1, 4)),
    ],
)
def test_next_week_is_monday_of_next_week(today: date, expected: date) -> None:
    assert future("next week", today) == expected


# --- month and year boundaries, leap years ----------------------------------------------------


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2026, 12, 31), "next month", date(2027, 1, 1)),
        (date(2026, 12, 1), "next month", date(2027, 1, 1)),
        (date(2026, 12, 31), "tomorrow", date(2027, 1, 1)),
        (date(2027, 1, 1), "yesterday", date(2026, 12, 31)),
        (date(2026, 12, 31), "end of the month", date(2026, 12, 31)),
        (date(2026, 12, 10), "end of next month", date(2027, 1, 31)),
        (date(2027, 1, 10), "end of next month", date(2027, 2, 28)),
        (date(2028, 1, 10), "end of next month", date(2028, 2, 29)),
        (date(2028, 2, 3), "end of the month", date(2028, 2, 29)),
        (date(2027, 2, 3), "end of the month", date(2027, 2, 28)),
        (date(2026, 12, 31), "in 3 days", date(2027, 1, 3)),
        (date(2027, 1, 2), "5 days ago", date(2026, 12, 28)),
        (date(2026, 12, 20), "the 15th of next month", date(2027, 1, 15)),
        (date(2027, 1, 10), "the 30th of next month", None),  # no 30 February
        (date(2027, 1, 10), "the last of next month", date(2027, 2, 28)),
        # month arithmetic lands on the last day of a shorter month
        (date(2027, 1, 31), "in a month", date(2027, 2, 28)),
        (date(2028, 1, 31), "in 1 month", date(2028, 2, 29)),
        (date(2026, 3, 31), "a month ago", date(2026, 2, 28)),
        (date(2028, 2, 29), "a year ago", date(2027, 2, 28)),
        (date(2028, 2, 29), "in 4 years", date(2032, 2, 29)),
    ],
)
def test_month_and_year_boundaries(today: date, text: str, expected: date | None) -> None:
    assert future(text, today) == expected


@pytest.mark.parametrize(
    ("today", "text", "prefer", "expected"),
    [
        (date(2026, 12, 31), "the 15th", "future", date(2027, 1, 15)),
        (date(2027, 1, 5), "the 15th", "past", date(2026, 12, 15)),
        (date(2026, 12, 31), "March 3", "future", date(2027, 3, 3)),
        (date(2027, 1, 2), "Dec 31", "past", date(2026, 12, 31)),
        (date(2027, 1, 2), "the 31st", "past", date(2026, 12, 31)),
        (date(2026, 3, 5), "the 30th", "past", date(2026, 1, 30)),  # no 30 February
        (date(2026, 1, 31), "the 30th", "future", date(2026, 3, 30)),
        # 29 February: only in leap years; the search finds the nearest one
        (date(2027, 6, 1), "feb 29", "future", date(2028, 2, 29)),
        (date(2027, 6, 1), "feb 29", "past", date(2024, 2, 29)),
        (date(2028, 2, 1), "2/29", "future", date(2028, 2, 29)),
        (date(2028, 3, 1), "29 february", "past", date(2028, 2, 29)),
        (date(2028, 2, 10), "the 29th", "future", date(2028, 2, 29)),
        (date(2027, 2, 10), "the 29th", "future", date(2027, 3, 29)),
        (date(2027, 3, 5), "the 29th", "past", date(2027, 1, 29)),
    ],
)
def test_year_boundaries_and_leap_days_by_preference(
    today: date, text: str, prefer: str, expected: date
) -> None:
    assert resolve_date(text, today, prefer=prefer) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feb 29, 2028", date(2028, 2, 29)),
        ("29.02.2024", date(2024, 2, 29)),
        ("2028-02-29", date(2028, 2, 29)),
        ("2/29/2028", date(2028, 2, 29)),
        ("Feb 29, 2027", None),
        ("29.02.2027", None),
        ("2027-02-29", None),
        ("2100-02-29", None),  # century, not a leap year
        ("2000-02-29", date(2000, 2, 29)),
    ],
)
def test_leap_days_with_a_year(text: str, expected: date | None) -> None:
    assert future(text) == expected
    assert past(text) == expected


# --- billing cycle ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "cycle_day", "expected"),
    [
        (WED, 20, date(2026, 11, 20)),  # later this month
        (WED, 18, date(2026, 12, 18)),  # today is a bill date: the next one
        (WED, 5, date(2026, 12, 5)),
        (WED, 1, date(2026, 12, 1)),
        (date(2026, 12, 31), 28, date(2027, 1, 28)),
        (date(2026, 12, 10), 28, date(2026, 12, 28)),
        (WED, None, date(2026, 12, 1)),  # unknown cycle day: 1st of next month
        (date(2026, 12, 31), None, date(2027, 1, 1)),
    ],
)
@pytest.mark.parametrize(
    "text",
    [
        "the next billing cycle",
        "next billing cycle",
        "start of my next billing cycle",
        "the start of the next billing cycle",
        "next bill",
        "my next bill",
        "next billing period",
        "next bill date",
    ],
)
def test_next_billing_cycle(text: str, today: date, cycle_day: int | None, expected: date) -> None:
    assert future(text, today, billing_cycle_day=cycle_day) == expected
    assert past(text, today, billing_cycle_day=cycle_day) == expected


@pytest.mark.parametrize(
    ("text", "cycle_day", "expected"),
    [
        ("the end of my billing cycle", 20, date(2026, 11, 19)),
        ("end of this billing cycle", 5, date(2026, 12, 4)),
        ("end of the billing cycle", None, date(2026, 11, 30)),
    ],
)
def test_end_of_billing_cycle(text: str, cycle_day: int | None, expected: date) -> None:
    assert future(text, billing_cycle_day=cycle_day) == expected


def test_billing_cycle_day_is_ignored_by_other_phrases() -> None:
    assert future("next month", billing_cycle_day=20) == date(2026, 12, 1)
    assert future("the 15th", billing_cycle_day=20) == date(2026, 12, 15)


# --- nothing to resolve: None, never a guess --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "whenever",
        "asap",
        "ASAP",
        "soon",
        "later",
        "someday",
        "next time",
        # ranges and vague spans: the day inside them is unknown
        "last week",
        "this week",
        "this weekend",
        "next weekend",
        "this month",
        "last month",
        "this year",
        "next year",
        "last year",
        "the past few days",
        "a few days ago",
        "a couple of weeks ago",
        "in a couple of days",
        "March 2026",
        "30 hours ago",
        # impossible days
        "feb 30",
        "February 30, 2026",
        "31/4",
        "4/31",
        "2/30",
        "30.02.2026",
        "2026-02-30",
        "2026-13-01",
        "0/5",
        "the 32nd",
        "the 0th",
        "the 31st of next month",  # today (below) is in January: 31 February
        # both numeric parts over 12, and not dates at all
        "13/13",
        "24/7",
        "12.50",
        "3-14",
        "15",
        "the first",  # a bare ordinal word ("the second time")
        "sat",  # abbreviations only count with next/last/this
        "monday morning maybe",
        "in 99999 years",
    ],
)
def test_unrecognised_or_impossible_gives_none(text: str | None) -> None:
    today = date(2027, 1, 10)  # so that "the 31st of next month" is 31 February
    assert resolve_date(text, today, prefer="future") is None
    assert resolve_date(text, today, prefer="past") is None


@pytest.mark.parametrize(
    "kwargs",
    [{"prefer": "soon"}, {"prefer": "FUTURE"}, {"billing_cycle_day": 0}, {"billing_cycle_day": 29}],
)
def test_bad_arguments_are_caller_bugs(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        resolve_date("today", WED, **kwargs)  # type: ignore[arg-type]


# --- the spans our entity ruler really produces -----------------------------------------------


@pytest.fixture(scope="module")
def nlp() -> Language:
    return create_nlp()


@pytest.mark.parametrize(
    ("sentence", "forward", "backward"),
    [
        ("please switch me over on the 15th", date(2026, 12, 15), date(2026, 11, 15)),
        ("can it start next monday?", date(2026, 11, 23), date(2026, 11, 23)),
        ("my phone fell in the pool 2 days ago", date(2026, 11, 16), date(2026, 11, 16)),
        ("it happened on March 3", date(2027, 3, 3), date(2026, 3, 3)),
        ("it cracked on 3 March", date(2027, 3, 3), date(2026, 3, 3)),
        ("dropped it on 3/14", date(2027, 3, 14), date(2026, 3, 14)),
        ("stolen on 14.03.2026", date(2026, 3, 14), date(2026, 3, 14)),
        ("change it on 2026-12-01 please", date(2026, 12, 1), date(2026, 12, 1)),
        ("do it at the start of next month", date(2026, 12, 1), date(2026, 12, 1)),
        ("from the next billing cycle", date(2026, 12, 1), date(2026, 12, 1)),
        ("by the end of the month", date(2026, 11, 30), date(2026, 11, 30)),
        ("in 3 days", date(2026, 11, 21), date(2026, 11, 21)),
        ("switch next week", date(2026, 11, 23), date(2026, 11, 23)),
        ("it broke last friday", date(2026, 11, 13), date(2026, 11, 13)),
        ("on Dec. 1, 2026", date(2026, 12, 1), date(2026, 12, 1)),
        ("it was stolen last week", None, None),
    ],
)
def test_resolves_entity_ruler_spans(
    nlp: Language,
    sentence: str,
    forward: date | None,
    backward: date | None,
) -> None:
    spans = [ent.text for ent in nlp(sentence).ents if ent.label_ == "date"]
    assert len(spans) == 1, spans
    assert future(spans[0]) == forward
    assert past(spans[0]) == backward


# --- format_day -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 22), "22 Nov 2026"),
        (date(2027, 1, 1), "1 Jan 2027"),
        (date(2028, 2, 29), "29 Feb 2028"),
        (date(2026, 9, 30), "30 Sep 2026"),
    ],
)
def test_format_day(day: date, expected: str) -> None:
    assert format_day(day) == expected
