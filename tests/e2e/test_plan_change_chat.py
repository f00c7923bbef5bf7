"""Plan change guide end to end: chat over REST, then the account database is checked.

Each test uses its own demo customer, so the tests do not depend on each other's changes.
"""

from __future__ import annotations

from tests.e2e.conftest import Chat, query

ACTIVE_PLAN = """
    SELECT p.name FROM account_plans ap
    JOIN service_plans p ON p.id = ap.plan_id
    JOIN customers c ON c.id = ap.customer_id
    WHERE c.account_number = :account AND ap.status = :status
"""
CONSENTS = """
    SELECT count(*) FROM consent_records r JOIN customers c ON c.id = r.customer_id
    WHERE c.account_number = :account AND r.change_kind = 'plan_change'
"""
EMAILS = """
    SELECT subject FROM notifications_outbox o JOIN customers c ON c.id = o.customer_id
    WHERE c.account_number = :account AND o.channel = 'email'
"""


def test_change_now_applies_once_with_consent_and_summary_email(chat: Chat) -> None:
    chat.text("I want to switch to Unlimited Plus")
    quote = chat.verify("QC-100005", "Pamuk")
    assert "account QC-100005, Elif Yilmaz" in quote  # the guide's "identify customer details"
    assert "Everyday 20GB" in quote  # the current plan and usage are shown first
    assert "Unlimited Plus ($70.00/month)" in quote
    assert "no change fee" in quote
    assert "prorated" in quote
    assert "Shall I go ahead?" in quote
    # Nothing has changed before the yes.
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100005", status="active") == [
        ("Everyday 20GB",)
    ]

    done = chat.text("yes please")
    assert "Done: your plan is now Unlimited Plus" in done
    assert "No interruption" in done
    assert "emailed a summary to e***@example.com" in done
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100005", status="active") == [
        ("Unlimited Plus",)
    ]
    assert query(chat.stack, CONSENTS, account="QC-100005") == [(1,)]
    assert any("Unlimited Plus" in s for (s,) in query(chat.stack, EMAILS, account="QC-100005"))

    # A repeated yes does not apply anything a second time.
    again = chat.text("yes")
    assert "Done" not in again
    assert query(chat.stack, CONSENTS, account="QC-100005") == [(1,)]
    assert len(query(chat.stack, ACTIVE_PLAN, account="QC-100005", status="ended")) == 1

    # Going back to the previous plan, still offered: a change back at today's price.
    back = chat.text("please switch me back to my previous plan")
    assert "You were on Everyday 20GB before" in back
    assert "Shall I go ahead?" in back
    assert "Everyday 20GB" in chat.text("yes")
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100005", status="active") == [
        ("Everyday 20GB",)
    ]
    assert query(chat.stack, CONSENTS, account="QC-100005") == [(2,)]


def test_change_from_next_month_is_scheduled_not_applied(chat: Chat) -> None:
    chat.text("move me to the family plan from next month")
    quote = chat.verify("QC-100006", "Beirut")
    assert "Family Share" in quote and "Shall I go ahead?" in quote
    booked = chat.text("yes")
    assert "Booked: your plan changes to Family Share on 01 " in booked
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100006", status="active") == [("Basic 5GB",)]
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100006", status="scheduled") == [
        ("Family Share",)
    ]


def test_needs_then_recommendation_then_declined_quote_changes_nothing(chat: Chat) -> None:
    chat.text("can I change my plan?")
    asked = chat.verify("QC-100003", "Mochi")
    assert "Unlimited Plus" in asked  # current plan
    assert "What matters most" in asked
    options = chat.text("something cheaper")
    assert "Basic 5GB" in options and "Which plan would you like?" in options
    quote = chat.text("Basic 5GB")
    assert "prorated credit" in quote or "prorated charge" in quote
    declined = chat.text("no")
    assert "haven't changed anything" in declined
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100003", status="active") == [
        ("Unlimited Plus",)
    ]
    status = query(
        chat.stack,
        "SELECT status FROM pending_changes WHERE conversation_id = :c",
        c=chat.sender,
    )
    assert status == [("cancelled",)]


def test_revert_to_a_plan_no_longer_offered_is_explained(chat: Chat) -> None:
    chat.text("put me back on my old plan")
    reply = chat.verify("QC-100009", "Tico")
    assert "Starter 2GB is no longer offered" in reply
    assert query(chat.stack, ACTIVE_PLAN, account="QC-100009", status="active") == [
        ("Everyday 20GB",)
    ]


def test_plan_options_without_verification_list_the_catalog(chat: Chat) -> None:
    reply = chat.text("what plans do you offer?")
    for name in ("Basic 5GB", "Everyday 20GB", "Unlimited Plus", "Family Share"):
        assert name in reply
    assert "Starter 2GB" not in reply  # legacy plans are not sold
