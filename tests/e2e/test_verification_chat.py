"""Identity verification through the REST channel of the real servers."""

from __future__ import annotations

import re
import uuid

from tests.e2e.conftest import Chat

CASE_NUMBER = re.compile(r"\bCS-\d{6}\b")


def test_verify_with_email_then_see_current_plan(chat: Chat) -> None:
    asked = chat.text("which plan am I on?")
    assert "account number" in asked.lower()
    factor = chat.text("my account is qc100001")
    assert "first pet" in factor  # the security question of QC-100001
    answer = chat.text("alice.martin@example.com")
    assert "Thanks, Alice" in answer
    assert "Everyday 20GB" in answer
    assert "$45.00" in answer


def test_last_bill_typed_loosely_and_phone_number_identify(chat: Chat) -> None:
    chat.text("what plan am i on")
    chat.text("555-010-0001")
    answer = chat.text("$84.2")
    assert "Everyday 20GB" in answer


def test_wrong_factor_then_right_security_answer(chat: Chat) -> None:
    chat.text("what's my current plan?")
    chat.text("QC-100002")
    wrong = chat.text("not-my-email@example.com")
    assert "doesn't match" in wrong
    assert "2 attempts left" in wrong
    right = chat.text("porto")
    assert "Thanks, Bruno" in right


def test_three_failures_end_verification_with_a_case_number(chat: Chat) -> None:
    chat.text("which plan am I on?")
    chat.text("QC-100001")
    chat.text("wrong@example.com")
    chat.text("$1.23")
    final = chat.text("Rex")
    assert CASE_NUMBER.search(final), final
    # Even the right answer is refused in this conversation now.
    again = chat.text("which plan am I on?")
    assert "Everyday 20GB" not in again
    assert CASE_NUMBER.search(again), again


def test_verified_customer_cannot_act_on_another_account(chat: Chat) -> None:
    chat.text("which plan am I on?")
    chat.text("QC-100001")
    chat.text("alice.martin@example.com")
    other = chat.text("what plan is QC-100008 on?")
    assert "verified for account QC-100001" in other
    assert "Unlimited Plus" not in other  # QC-100008's plan is never shown


def test_new_conversation_starts_unverified(chat: Chat) -> None:
    chat.text("which plan am I on?")
    chat.text("QC-100001")
    chat.text("alice.martin@example.com")
    other = Chat(chat.stack, f"test-{uuid.uuid4().hex[:12]}")
    reply = other.text("which plan am I on?")
    assert "account number" in reply.lower()
    assert "Everyday 20GB" not in reply


def test_stop_abandons_verification(chat: Chat) -> None:
    chat.text("which plan am I on?")
    stopped = chat.text("stop")
    assert "stopped" in stopped.lower()
    help_text = chat.text("hello")
    assert "account number" not in help_text.lower()


def test_faq_during_verification_then_form_resumes(chat: Chat) -> None:
    chat.text("which plan am I on?")
    reply = chat.text("is there a fee for changing my plan?")
    assert "charge a fee" in reply.lower()
    assert "account number" in reply.lower()  # the form asks again
    chat.text("QC-100001")
    assert "Everyday 20GB" in chat.text("alice.martin@example.com")


def test_request_human_opens_a_case(chat: Chat) -> None:
    reply = chat.text("I want to talk to a real person")
    assert CASE_NUMBER.search(reply), reply


def test_repeated_misunderstanding_offers_a_person(chat: Chat) -> None:
    chat.say("hello")
    replies = [chat.say(text) for text in ("blorp zzkx", "what's the weather like in paris")]
    offered = [m for turn in replies for m in turn if m.get("buttons")]
    assert offered, replies
    assert any(b["payload"] == "/affirm" for b in offered[-1]["buttons"])
    assert "CS-" in chat.text("yes please")


def test_switching_to_a_task_during_verification_resumes_it(chat: Chat) -> None:
    chat.text("hi, my account number is QC-100001")
    switched = chat.text("actually, which plan am I on?")
    assert "as soon as you're verified" in switched
    assert "Everyday 20GB" in chat.text("Biscuit")


def test_a_yes_with_nothing_to_confirm_is_answered_once_and_changes_nothing(chat: Chat) -> None:
    replies = chat.say("yes")
    assert len(replies) == 1 and "not sure what that refers to" in replies[0]["text"]
    assert "account number" in chat.text("which plan am I on?").lower()
