"""Subscriptions guide end to end: chat over REST, then the account database is checked.

Each test uses its own demo customer, so the tests do not depend on each other's changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quickconnect import jobs
from quickconnect.db.session import make_engine
from tests.e2e.conftest import Chat, query

SUBSCRIPTIONS = """
    SELECT a.name, t.name, s.status, s.refund_amount, s.fee_charged
    FROM subscriptions s
    JOIN addon_services a ON a.id = s.addon_id
    JOIN addon_tiers t ON t.id = s.tier_id
    JOIN customers c ON c.id = s.customer_id
    WHERE c.account_number = :account AND a.code = :code
    ORDER BY s.id
"""
CONSENTS = """
    SELECT count(*) FROM consent_records r JOIN customers c ON c.id = r.customer_id
    WHERE c.account_number = :account AND r.change_kind = :kind
"""
OUTBOX = """
    SELECT o.subject FROM notifications_outbox o JOIN customers c ON c.id = o.customer_id
    WHERE c.account_number = :account ORDER BY o.id
"""


def test_cancel_refunds_once_then_an_upgrade_shows_the_fee(chat: Chat) -> None:
    chat.text("please cancel the netflix thing")
    quote = chat.verify("QC-100008", "Osaka")
    assert "Cancel StreamMax Premium 4K ($15.99/month)" in quote
    assert "no cancellation fee" in quote and "a refund of $" in quote
    assert "Shall I go ahead?" in quote
    # nothing changes before the yes
    assert [
        row[2] for row in query(chat.stack, SUBSCRIPTIONS, account="QC-100008", code="STREAM")
    ] == ["active"]

    done = chat.text("yes")
    assert "Done: your StreamMax is cancelled" in done
    assert "A credit of $" in done and "emailed a summary to h***@example.com" in done
    [(_, _, status, refund, _)] = query(
        chat.stack, SUBSCRIPTIONS, account="QC-100008", code="STREAM"
    )
    assert status == "cancelled" and refund > 0

    again = chat.text("yes")  # a repeated yes refunds nothing twice
    assert "Done" not in again
    assert query(chat.stack, CONSENTS, account="QC-100008", kind="subscription_cancel") == [(1,)]
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100008", code="STREAM")[0][3] == refund

    upgrade = chat.text("upgrade my Cloud Vault to 1 TB")
    assert "Change Cloud Vault from 100 GB ($2.99/month) to 1 TB ($9.99/month)" in upgrade
    assert "modification fee of $2.00" in upgrade
    assert "Done: your Cloud Vault is now 1 TB" in chat.text("yes please")
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100008", code="CLOUD") == [
        ("Cloud Vault", "1 TB", "active", None, 2)
    ]


def test_add_is_pending_until_the_job_activates_it_and_notifies(chat: Chat) -> None:
    chat.text("I'd like to add an extra service")
    asked = chat.verify("QC-100001", "Biscuit")
    assert "Which service would you like to add?" in asked and "World Calling" in asked
    tiers = chat.text("intl calls")
    assert "100 minutes" in tiers and "500 minutes" in tiers
    quote = chat.text("the 500 minutes one")
    assert "Add World Calling 500 minutes at $12.00/month" in quote
    assert "usually live within 2 hours" in quote and "Shall I go ahead?" in quote
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100001", code="INTL") == []

    done = chat.text("yes")
    assert "we'll send you a message as soon as it is" in done
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100001", code="INTL") == [
        ("World Calling", "500 minutes", "pending_activation", None, None)
    ]
    # Asking for it again while it is pending: no duplicate.
    assert "You already have World Calling (waiting for activation)" in chat.text(
        "add world calling"
    )
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100001", code="INTL")[0][2] == (
        "pending_activation"
    )
    assert len(query(chat.stack, SUBSCRIPTIONS, account="QC-100001", code="INTL")) == 1

    # The scheduled job makes it live later and queues the "it's live" message.
    engine = make_engine(chat.stack.settings.database_url)
    try:
        later = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        assert jobs.main(["activate-due", "--today", later], bind=engine) == 0
    finally:
        engine.dispose()
    assert query(chat.stack, SUBSCRIPTIONS, account="QC-100001", code="INTL")[0][2] == "active"
    subjects = [s for (s,) in query(chat.stack, OUTBOX, account="QC-100001")]
    assert "Your QuickConnect World Calling order" in subjects
    assert subjects[-1] == "Your World Calling is live"
