"""The reply guard's checks (quickconnect/reply_guard.py): what is a defect, what is English.

Both servers and the test clients use these functions, so a false positive would break a
good reply in production and a false negative would let "plan None" through to a customer.
"""

from __future__ import annotations

import pytest

from quickconnect import reply_guard
from quickconnect.reply_guard import APOLOGY, clean, clean_message, find_defects, message_defects

DEFECTIVE = [
    "I can't find an active device protection plan None on your account.",
    "None",
    "Your plan number is None.",
    "Your balance is $nan.",
    "Your balance is $-inf.",
    "The amount is NaN",
    "Your email is null",
    "Contact: NULL, phone +1 555",
    "Hello {first_name}, welcome back",
    "Your account {account_number} is verified.",
    "Your plan: {}",
    "Total {0:.2f}",
    "Your bill is {amount",
    "Result: [object Object]",
    "Plan <quickconnect.services.device_protection.PlanView object at 0x7f3a2b1c9d10>",
    "<function describe_claim at 0x10ab3c4d0>",
    "That costs Decimal('12.00') a month.",
    "Decided on datetime.date(2026, 12, 1).",
    "Your devices: ['Pixel 8', 'iPad Air']",
    "Value: undefined.",
    "Your plan (None) is active.",
]

ENGLISH = [
    "None of our protection plans fits that device.",
    "None at all, nothing on your account was changed.",
    "Nonetheless, I've opened a case for you.",
    "You can annul the request within 14 days.",
    "Thanks, Nan! Your plan is Everyday 20GB.",
    "I'd love a banana-coloured phone too.",
    "No charge: the fee is $0.00, and nothing is null and void.",
    "Your Pixel 8 is protected by DP-300101 (Protect Plus, $12.00/month).",
    'Type "agent" to talk to a person, or "stop" to leave this.',
    "Plans cover phones, tablets, smartwatches and laptops up to $2,500.00.",
    "The claim CL-500101 is under review; decision by 5 December 2026.",
    "Email a***@example.com and phone ***0001 are on file.",
    "I've emailed a summary to a***@example.com. [Yes please]",
    "Canon, annotation, nanny, Nanette, non-null? no: nonnull, nullify, nanosecond.",
    "An undefined period is not something we offer for payment plans.",
    "",
]


@pytest.mark.parametrize("text", DEFECTIVE)
def test_internal_values_are_defects(text: str) -> None:
    assert find_defects(text), text


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_not_a_defect(text: str) -> None:
    assert find_defects(text) == []


def test_the_defect_says_what_and_where() -> None:
    [defect] = find_defects("I can't find an active device protection plan None on your account.")
    assert defect == "Python None: 'None'"
    # A placeholder is one defect, not a placeholder plus two stray braces.
    assert find_defects("Hi {name}") == ["unfilled {placeholder}: '{name}'"]


def test_none_is_no_text_and_a_non_text_is_a_defect() -> None:
    assert find_defects(None) == []
    assert find_defects(42) == ["not a text: int"]


def test_clean_removes_the_broken_part_and_tidies_the_sentence() -> None:
    assert (
        clean("I can't find an active device protection plan None on your account.")
        == "I can't find an active device protection plan on your account."
    )
    assert clean("Your plan (None) is active today.") == "Your plan is active today."
    assert clean("Hello {first_name}, welcome back to QuickConnect.") == (
        "Hello, welcome back to QuickConnect."
    )
    assert clean("Fine text stays as it is.") == "Fine text stays as it is."


@pytest.mark.parametrize(
    "text",
    ["None", "{greeting}", "None None None is your plan", "Plan: {a} {b} {c} and more words"],
)
def test_clean_gives_up_when_little_is_left(text: str) -> None:
    assert clean(text) is None


def test_a_message_is_checked_with_its_button_titles() -> None:
    message = {
        "text": "Which device?",
        "buttons": [{"title": "Pixel 8", "payload": "Pixel 8"}, {"title": "None", "payload": ""}],
    }
    assert message_defects(message) == ["buttons title Python None: 'None'"]
    safe = clean_message(message)
    assert safe["text"] == "Which device?"
    assert safe["buttons"] == [{"title": "Pixel 8", "payload": "Pixel 8"}]
    assert message["buttons"][1]["title"] == "None"  # the original is not changed


def test_a_message_beyond_repair_becomes_the_apology_without_choices() -> None:
    safe = clean_message({"text": "{question}", "buttons": [{"title": "Yes", "payload": "y"}]})
    assert safe == {"text": APOLOGY, "buttons": []}
    assert find_defects(APOLOGY) == []


def test_mode_is_strict_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(reply_guard.ENV_VAR, raising=False)
    assert reply_guard.mode() == "production"
    monkeypatch.setenv(reply_guard.ENV_VAR, " Strict ")
    assert reply_guard.mode() == "strict"
    monkeypatch.setenv(reply_guard.ENV_VAR, "off")
    assert reply_guard.mode() == "production"


def test_the_tally_counts_every_reply_and_keeps_the_defects() -> None:
    tally = reply_guard.Tally()
    assert tally.check({"text": "Hello"}) == []
    assert tally.check({"text": "plan None"}, where="conv 1") == ["Python None: 'None'"]
    assert tally.checked == 2
    assert tally.defects == ["conv 1: Python None: 'None'"]
    assert tally.summary() == "reply guard: 2 replies checked, 1 defects"
