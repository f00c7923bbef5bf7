"""Property-based tests of every slot parser: any text gives a value or None, never an
exception (an exception in a form's validate_* is a failed turn for the customer), and the
forms customers really type come out normalised.

Hypothesis runs with a fixed seed (`derandomize`) so CI sees the same examples each run;
`HYPOTHESIS_PROFILE=explore` draws new ones (and more) locally.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from actions.service_cutoffs import parse_installments
from quickconnect.dates import resolve_date
from quickconnect.identifiers import (
    find_identifier,
    normalize_account_number,
    normalize_case_number,
    normalize_claim_number,
    normalize_email,
    normalize_phone,
    normalize_protection_plan_number,
    normalize_ticket_number,
    parse_amount,
)
from quickconnect.services.handoff import parse_follow_up_contact
from quickconnect.services.plan_change import find_plan

pytestmark = pytest.mark.faults

settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile("explore", max_examples=5000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Text as customers and attackers type it: anything printable or not, emoji, RTL, NUL,
# very long runs of digits, and the separators the parsers look for.
NASTY = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
) | st.from_regex(r"[\d\s.,$€+()#:/-]{0,80}", fullmatch=True)

NUMBER_PARSERS = [
    normalize_account_number,
    normalize_protection_plan_number,
    normalize_claim_number,
    normalize_case_number,
    normalize_ticket_number,
]


@given(text=NASTY)
@example(text="9" * 5000)
@example(text="\x00QC-100001")
@example(text="qc\u0660\u0661\u0662\u0663\u0664\u0665")  # Arabic-Indic digits
def test_identifier_parsers_never_raise(text: str) -> None:
    for parse in NUMBER_PARSERS:
        value = parse(text)
        assert value is None or re.fullmatch(r"[A-Z]{2}-[0-9]{6}", value), (parse, value)
    for prefix in ("QC", "DP", "CL", "CS", "TK"):
        found = find_identifier(text, prefix)
        assert found is None or re.fullmatch(rf"{prefix}-[0-9]{{6}}", found)


@given(
    digits=st.from_regex(r"[0-9]{6}", fullmatch=True),
    separator=st.sampled_from(["", "-", " ", "_", ".", "#", ":"]),
    prefix=st.sampled_from(["qc", "QC", "Qc"]),
)
def test_account_numbers_as_typed_normalise(digits: str, separator: str, prefix: str) -> None:
    assert normalize_account_number(f" {prefix}{separator}{digits} ") == f"QC-{digits}"
    assert find_identifier(f"my account is {prefix}{separator}{digits}.", "QC") == f"QC-{digits}"


@given(text=NASTY)
@example(text="+" + "1" * 400)
@example(text="(((((((((((((((")
def test_phone_parser_gives_e164_or_none(text: str) -> None:
    value = normalize_phone(text)
    assert value is None or re.fullmatch(r"\+[1-9][0-9]{7,14}", value), value


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("qc-\u0661\u0660\u0660\u0660\u0660\u0661", "QC-100001"),  # Arabic-Indic digits
        ("QC \u0967\u0966\u0966\u0966\u0966\u0967", "QC-100001"),  # Devanagari
        ("QC-\uff11\uff10\uff10\uff10\uff10\uff11", "QC-100001"),  # full-width
    ],
)
def test_account_numbers_in_other_scripts_digits(typed: str, expected: str) -> None:
    assert normalize_account_number(typed) == expected
    assert find_identifier(f"account {typed} please", "QC") == expected


def test_phone_numbers_in_other_scripts_digits() -> None:
    assert (
        normalize_phone("+\u0661 \u0665\u0665\u0665 \u0660\u0661\u0660 \u0660\u0660\u0660\u0661")
        == "+15550100001"
    )
    assert normalize_phone("+\u06600000000") is None  # a leading zero, whatever the script


@given(area=st.integers(200, 999), exchange=st.integers(0, 999), line=st.integers(0, 9999))
def test_north_american_numbers_as_typed_normalise(area: int, exchange: int, line: int) -> None:
    e164 = f"+1{area}{exchange:03d}{line:04d}"
    for typed in (
        f"{area}-{exchange:03d}-{line:04d}",
        f"({area}) {exchange:03d} {line:04d}",
        f"+1 {area} {exchange:03d} {line:04d}",
        f"1{area}{exchange:03d}{line:04d}",
    ):
        assert normalize_phone(typed) == e164, typed


@given(text=NASTY)
@example(text="a@b.c" + "\x00")
@example(text="<mailto:ALICE@EXAMPLE.COM>")
def test_email_parser_gives_one_lowercase_address_or_none(text: str) -> None:
    value = normalize_email(text)
    if value is not None:
        assert value == value.lower().strip()
        assert value.count("@") == 1 and not re.search(r"\s", value)


@given(
    local=st.from_regex(r"[A-Za-z0-9._+-]{1,30}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9-]{1,20}\.[A-Za-z]{2,6}", fullmatch=True),
)
def test_emails_as_typed_normalise(local: str, domain: str) -> None:
    assert normalize_email(f"  {local}@{domain} ") == f"{local}@{domain}".lower()


@given(text=NASTY)
@example(text="1" * 100)
@example(text="1e999999")
@example(text="..,,..,,1")
def test_amount_parser_gives_cents_or_none(text: str) -> None:
    value = parse_amount(text)
    if value is not None:
        assert value == value.quantize(Decimal("0.01"))
        assert value >= 0


@given(cents=st.integers(0, 10_000_000))
def test_amounts_as_typed_parse(cents: int) -> None:
    amount = Decimal(cents) / 100
    assert parse_amount(f"${amount:.2f}") == amount.quantize(Decimal("0.01"))
    assert parse_amount(f"{amount:,.2f} dollars") == amount.quantize(Decimal("0.01"))
    assert parse_amount(f"USD {amount:.2f}") == amount.quantize(Decimal("0.01"))


@given(
    text=NASTY,
    today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    cycle=st.none() | st.integers(1, 28),
    prefer=st.sampled_from(["future", "past"]),
)
@example(text="in 99999999999 years", today=date(2026, 1, 1), cycle=None, prefer="future")
@example(text="99/99/9999", today=date(2026, 1, 1), cycle=None, prefer="past")
@example(text="the 31st", today=date(2026, 2, 1), cycle=None, prefer="future")
def test_date_parser_gives_a_real_day_or_none(
    text: str, today: date, cycle: int | None, prefer: str
) -> None:
    day = resolve_date(text, today, billing_cycle_day=cycle, prefer=prefer)
    assert day is None or isinstance(day, date)


@given(
    days=st.integers(0, 400), today=st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 1, 1))
)
def test_days_ago_resolve_in_the_past(days: int, today: date) -> None:
    phrase = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
    assert resolve_date(phrase, today, prefer="past") == today - timedelta(days=days)


@given(text=NASTY)
@example(text="4" * 4000)
def test_installment_parser_gives_a_count_or_none(text: str) -> None:
    for strict in (False, True):
        value = parse_installments(text, strict=strict)
        assert value is None or isinstance(value, int)


@given(text=NASTY)
@example(text="me@example.com and +1 555 010 0001")
def test_follow_up_contact_parser_gives_email_or_phone_or_none(text: str) -> None:
    contact = parse_follow_up_contact(text)
    if contact is not None:
        if contact.channel == "email":
            assert contact.address == normalize_email(contact.address)
        else:
            assert contact.channel == "sms" and contact.address == normalize_phone(contact.address)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(text=NASTY)
@example(text="Unlimited Plus")
@example(text="%")
@example(text="_")
@example(text="' OR 1=1 --")
def test_plan_names_find_a_plan_or_none(session: Session, text: str) -> None:
    """On SQLite and PostgreSQL (the tests' `session` fixture): LIKE wildcards, quotes and
    NUL characters find nothing rather than failing."""
    plan = find_plan(session, text)
    assert plan is None or plan.name
