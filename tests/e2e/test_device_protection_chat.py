"""Device protection guide end to end: chat over REST, then the account database is checked.

Each test uses its own demo customer (or its own kind of row), so the tests do not depend on
each other's changes. The dialogue paths are covered by tests/stories/test_device_protection.yml.
"""

from __future__ import annotations

import re

from tests.e2e.conftest import Chat, query

PLANS = """
    SELECT pp.plan_number, t.name, pm.label, d.model FROM protection_plans pp
    JOIN protection_tiers t ON t.id = pp.tier_id
    JOIN customers c ON c.id = pp.customer_id
    LEFT JOIN payment_methods pm ON pm.id = pp.payment_method_id
    JOIN protection_plan_devices ppd ON ppd.plan_id = pp.id
    JOIN devices d ON d.id = ppd.device_id
    WHERE c.account_number = :account AND pp.status = 'active'
    ORDER BY pp.plan_number
"""
CONSENTS = """
    SELECT count(*) FROM consent_records r JOIN customers c ON c.id = r.customer_id
    WHERE c.account_number = :account AND r.change_kind = :kind
"""
EMAILS = """
    SELECT subject FROM notifications_outbox o JOIN customers c ON c.id = o.customer_id
    WHERE c.account_number = :account AND o.channel = 'email'
"""


def test_enrol_a_device_on_file_once_after_a_yes(chat: Chat) -> None:
    chat.text("I'd like to enrol my phone in device protection")
    tiers = chat.verify("QC-100009", "Tico")
    assert "Protect Plus: $12.00/month per device, $49.00 deductible per claim" in tiers
    summary = chat.text("Protect Plus")
    assert "Enrol your Samsung Galaxy S23 in Protect Plus: $12.00/month" in summary
    assert "Visa ending 9090" in summary and "i***@example.com" in summary
    assert "Shall I go ahead?" in summary
    assert query(chat.stack, PLANS, account="QC-100009") == []  # nothing before the yes

    done = chat.text("yes")
    number = re.search(r"plan number is (DP-\d{6})", done)
    assert number, done
    assert "website" in done and "app" in done
    assert query(chat.stack, PLANS, account="QC-100009") == [
        (number.group(1), "Protect Plus", "Visa ending 9090", "Galaxy S23")
    ]
    kind = "device_protection_enrol"
    assert query(chat.stack, CONSENTS, account="QC-100009", kind=kind) == [(1,)]
    assert any(number.group(1) in s for (s,) in query(chat.stack, EMAILS, account="QC-100009"))
    chat.text("yes")  # a repeated yes applies nothing
    assert len(query(chat.stack, PLANS, account="QC-100009")) == 1


def test_claim_for_a_stolen_phone_then_its_status(chat: Chat) -> None:
    chat.text("my phone was stolen")
    asked = chat.verify("QC-100001", "Biscuit")
    assert "plan number" in asked
    assert "Which device" in chat.text("DP-300101")
    assert "When did it happen?" in chat.text("the pixel")
    assert "describe what happened" in chat.text("yesterday")
    check = chat.text("I left it on the train seat and when I came back it was gone")
    assert "a***@example.com" in check and "Are these still current?" in check
    filed = chat.text("yes")
    number = re.search(r"claim (CL-\d{6})", filed)
    assert number, filed
    assert "review" in filed and "decision by" in filed
    rows = query(
        chat.stack,
        "SELECT incident_type, status, pre_existing, estimated_decision_date IS NOT NULL "
        "FROM claims WHERE claim_number = :n",
        n=number.group(1),
    )
    assert rows == [("theft", "submitted", False, True)]
    assert any(number.group(1) in s for (s,) in query(chat.stack, EMAILS, account="QC-100001"))

    status = chat.text("what's the status of claim CL-500102?")
    assert "was approved: the resolution is a replacement device" in status


def test_switch_the_plan_payment_method_after_an_unknown_plan_number(chat: Chat) -> None:
    chat.text("I want to manage my device protection plan")
    chat.verify("QC-100001", "alice.martin@example.com")
    unknown = chat.text("DP-999999")
    assert "can't find an active device protection plan DP-999999" in unknown
    assert "DP-300101" in unknown
    chat.text("DP-300101")
    proposal = chat.text("update the payment method")
    assert "to Mastercard ending 8812 instead of Visa ending 4242" in proposal
    assert "Done" in chat.text("yes")
    assert query(chat.stack, PLANS, account="QC-100001")[0][2] == "Mastercard ending 8812"
    kind = "device_protection_payment"
    assert query(chat.stack, CONSENTS, account="QC-100001", kind=kind) == [(1,)]
