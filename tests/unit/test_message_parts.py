"""Where a message's small talk ends and where its requests split (quickconnect/nlp)."""

from __future__ import annotations

import pytest

from quickconnect.nlp.message_parts import clauses, without_small_talk


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        (
            "hey my internet's been dead since yesterday what's going on",
            "my internet's been dead since yesterday what's going on",
        ),
        ("Good morning! My phone fell in the sink", "My phone fell in the sink"),
        ("ok how long will it take", "how long will it take"),
        ("hi there, thanks, can you cancel my add-on please", "can you cancel my add-on"),
        ("my bill is wrong, thanks", "my bill is wrong"),
    ],
)
def test_small_talk_around_a_request_is_removed(text: str, rest: str) -> None:
    assert without_small_talk(text) == rest


@pytest.mark.parametrize(
    "text", ["hi there", "thanks so much, bye", "good evening team", "hello, how are you?"]
)
def test_only_small_talk_leaves_nothing(text: str) -> None:
    assert without_small_talk(text) is None


def test_a_message_without_small_talk_is_not_rewritten() -> None:
    assert without_small_talk("my internet is down") is None


def test_a_two_word_request_is_a_clause_of_its_own() -> None:
    # "cancel StreamMax" is a whole request; whether a later clause is a second task is the
    # classifier's call (a clause with the same intent is not queued)
    assert [p.text for p in clauses("cancel StreamMax and tell me why my bill is so high")] == [
        "cancel StreamMax",
        "tell me why my bill is so high",
    ]


def test_two_requests_split_at_and_or_a_sentence_end() -> None:
    text = "cancel the music add-on and tell me why my bill is so high"
    parts = clauses(text)
    assert [p.text for p in parts] == ["cancel the music add-on", "tell me why my bill is so high"]
    assert [text[p.start : p.end] for p in parts] == [p.text for p in parts]
    assert [p.text for p in clauses("Reset my password. Also I want the sports pack")] == [
        "Reset my password",
        "Also I want the sports pack",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "I was charged for a music thing i never signed up for, cancel it",
        "cancel it",
    ],
)
def test_one_request_stays_one_clause(text: str) -> None:
    assert [p.text for p in clauses(text)] == [text]
