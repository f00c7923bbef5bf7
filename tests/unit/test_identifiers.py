"""Identifiers, contact details, amounts and secrets as customers type them (pure functions)."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal

import pytest
from argon2 import PasswordHasher

from quickconnect import identifiers as ids
from quickconnect.billing_cycle import add_months, cycle_start, next_cycle_start


@pytest.mark.parametrize(
    "typed", ["QC-482913", "qc482913", "QC 482913", "qc-482913", " Qc_482913 ", "QC#482913"]
)
def test_account_number_loose_forms(typed: str) -> None:
    assert ids.normalize_account_number(typed) == "QC-482913"


@pytest.mark.parametrize(
    "typed", ["", None, "QC-48291", "QC-4829130", "482913", "QD-482913", "xQC-482913", "QC--482913"]
)
def test_account_number_rejects_other_text(typed: str | None) -> None:
    assert ids.normalize_account_number(typed) is None


@pytest.mark.parametrize(
    ("function", "typed", "expected"),
    [
        (ids.normalize_protection_plan_number, "dp300219", "DP-300219"),
        (ids.normalize_claim_number, "cl 558201", "CL-558201"),
        (ids.normalize_case_number, "Cs-204981", "CS-204981"),
        (ids.normalize_ticket_number, "tk771203", "TK-771203"),
        (ids.normalize_claim_number, "DP-300219", None),
    ],
)
def test_named_identifier_normalisers(function, typed: str, expected: str | None) -> None:  # noqa: ANN001
    assert function(typed) == expected


def test_find_identifier_in_free_text() -> None:
    assert ids.find_identifier("hi, my account is qc 100001 thanks", "QC") == "QC-100001"
    assert ids.find_identifier("claim CL-558201 and case cs204981", "CS") == "CS-204981"
    assert ids.find_identifier("ABCQC100001", "QC") is None
    assert ids.find_identifier("QC-1000012", "QC") is None


def test_new_identifier_format() -> None:
    for prefix in ("QC", "DP", "CL", "CS", "tk"):
        assert re.fullmatch(rf"{prefix.upper()}-\d{{6}}", ids.new_identifier(prefix))


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("555-010-0001", "+15550100001"),
        ("(555) 010 0001", "+15550100001"),
        ("+1 555 010 0001", "+15550100001"),
        ("1-555-010-0001", "+15550100001"),
        ("5550100001", "+15550100001"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("QC-100001", None),
        ("100001", None),
        ("call me", None),
        ("", None),
    ],
)
def test_normalize_phone(typed: str, expected: str | None) -> None:
    assert ids.normalize_phone(typed) == expected


def test_normalize_email() -> None:
    assert ids.normalize_email("  Alice.Martin@Example.COM ") == "alice.martin@example.com"
    assert ids.normalize_email("<bob@example.com>") == "bob@example.com"
    assert ids.normalize_email("not an email") is None
    assert ids.normalize_email(None) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("$84.2", "84.20"),
        ("84.20", "84.20"),
        ("84,20 dollars", "84.20"),
        ("USD 84.20", "84.20"),
        ("it was $84.20.", "84.20"),
        ("84", "84.00"),
        ("1,234.5", "1234.50"),
        ("1.234,56", "1234.56"),
        ("1,234", "1234.00"),
        ("$ 112.97", "112.97"),
    ],
)
def test_parse_amount(typed: str, expected: str) -> None:
    assert ids.parse_amount(typed) == Decimal(expected)


@pytest.mark.parametrize("typed", ["", None, "no idea", "$"])
def test_parse_amount_without_a_number(typed: str | None) -> None:
    assert ids.parse_amount(typed) is None


def test_masking_shows_only_a_hint() -> None:
    assert ids.mask_email("alice.martin@example.com") == "a***@example.com"
    assert ids.mask_phone("+15550100001") == "•••-•••-0001"
    assert ids.mask_email(None) is None and ids.mask_phone("") is None


def test_hash_secret_round_trip_and_format() -> None:
    stored = ids.hash_secret("demo-agent-pass")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "demo-agent-pass" not in stored
    assert ids.verify_secret("demo-agent-pass", stored)
    assert not ids.verify_secret("demo-agent-pas", stored)
    assert not ids.verify_secret("demo-agent-pass", "garbage")
    assert not ids.verify_secret("demo-agent-pass", "$argon2id$garbage")
    assert not ids.verify_secret("demo-agent-pass", None)
    assert ids.hash_secret("same") != ids.hash_secret("same")  # salted
    assert not ids.needs_rehash(stored)


def _legacy_pbkdf2(secret: str, rounds: int = 1_000) -> str:
    """A hash as stored before Argon2, built by hand from its documented format."""
    salt = "00112233445566778899aabbccddeeff"
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), rounds).hex()
    return f"pbkdf2_sha256${rounds}${salt}${digest}"


def test_legacy_pbkdf2_hashes_still_verify_and_ask_for_a_rehash() -> None:
    legacy = _legacy_pbkdf2("demo-agent-pass")
    assert ids.verify_secret("demo-agent-pass", legacy)
    assert not ids.verify_secret("demo-agent-pas", legacy)
    assert not ids.verify_secret("demo-agent-pass", legacy.replace("pbkdf2_sha256", "md5"))
    assert not ids.verify_secret("demo-agent-pass", "pbkdf2_sha256$0$salt$digest")
    assert ids.needs_rehash(legacy)


def test_weaker_argon2_parameters_ask_for_a_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("x")
    assert ids.verify_secret("x", weak)
    assert ids.needs_rehash(weak)


@pytest.mark.parametrize("typed", ["Biscuit", "  biscuit ", "BISCUIT!", "biscuit.", "¿Biscuit?"])
def test_security_answers_match_loosely(typed: str) -> None:
    stored = ids.hash_answer("Biscuit")
    assert "biscuit" not in stored.lower()
    assert ids.verify_answer(typed, stored)


def test_security_answers_keep_inner_words() -> None:
    stored = ids.hash_answer("New   York")
    assert ids.verify_answer("new york", stored)
    assert not ids.verify_answer("newyork", stored)
    assert not ids.verify_answer("   ", stored)


def test_token_hash_is_sha256_hex() -> None:
    token = ids.new_token()
    assert len(token) >= 40 and ids.new_token() != token
    assert re.fullmatch(r"[0-9a-f]{64}", ids.hash_token(token))
    assert ids.hash_token(token) == ids.hash_token(token)


@pytest.mark.parametrize(
    ("today", "cycle_day", "start", "next_start"),
    [
        (date(2024, 3, 15), 10, date(2024, 3, 10), date(2024, 4, 10)),
        (date(2024, 3, 5), 10, date(2024, 2, 10), date(2024, 3, 10)),
        (date(2024, 1, 3), 28, date(2023, 12, 28), date(2024, 1, 28)),
        (date(2024, 12, 1), 1, date(2024, 12, 1), date(2025, 1, 1)),
    ],
)
def test_billing_cycle(today: date, cycle_day: int, start: date, next_start: date) -> None:
    assert cycle_start(today, cycle_day) == start
    assert next_cycle_start(today, cycle_day) == next_start


def test_billing_cycle_day_range() -> None:
    assert add_months(date(2024, 1, 28), 13) == date(2025, 2, 28)
    with pytest.raises(ValueError):
        cycle_start(date(2024, 1, 31), 31)
