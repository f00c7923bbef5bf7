"""Short follow-ups answered from the bot's previous replies (quickconnect/services/follow_ups)."""

from __future__ import annotations

from quickconnect.services.follow_ups import answer_follow_up, offer_text

OUTAGE = [
    "Thanks, Grace, that matches our records.",
    "I understand how frustrating this can be, Grace, and I'm sorry. There's an outage in your "
    "area (Riverside): Fibre cut affecting mobile data and home broadband in Riverside; "
    "engineers are on site.\nI've opened technical support ticket TK-022537 for you. The "
    "estimated fix is by 07:26 UTC on 4 Dec 2026. I'll check in with you by text around 08:26 "
    "UTC on 4 Dec 2026 to make sure it's resolved.",
]


def test_how_long_repeats_the_estimate() -> None:
    reply = answer_follow_up("ok how long will it take", OUTAGE)
    assert reply.startswith("As I said:")
    assert "The estimated fix is by 07:26 UTC on 4 Dec 2026." in reply
    assert "Thanks, Grace" not in reply


def test_why_repeats_the_reason() -> None:
    reply = answer_follow_up("why?", OUTAGE)
    assert "outage in your area" in reply


def test_the_other_one_asks_which_instead_of_guessing() -> None:
    assert "Which one do you mean?" in answer_follow_up("and the other one?", OUTAGE)


def test_no_answer_in_the_replies_asks_for_more_and_never_says_goodbye() -> None:
    reply = answer_follow_up("how much is that", OUTAGE)
    assert "Could you ask in a few more words?" in reply
    assert "goodbye" not in reply.lower() and "have a good day" not in reply.lower()
    assert answer_follow_up("why?", []).startswith("What would you like to know?")


def test_the_offer_names_the_task() -> None:
    assert offer_text("check_current_plan") == (
        "You also asked me to look at your current plan and what you pay. Shall I do that now?"
    )
