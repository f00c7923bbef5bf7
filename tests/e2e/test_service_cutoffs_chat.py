"""Service cut-offs guide end to end: chat over REST, then the account database is checked.

Accounts used here are changed by no other test: Dana Okafor (QC-100004, non-payment, card
on file), Jonas Berg (QC-100010, non-payment, no payment method) and Grace Kim (QC-100007,
outage in her area).
"""

from __future__ import annotations

from tests.e2e.conftest import Chat, query

SERVICE = """
    SELECT s.status, s.cutoff_reason FROM service_status s
    JOIN customers c ON c.id = s.customer_id WHERE c.account_number = :account
"""
PAYMENTS = """
    SELECT p.amount FROM payments p JOIN customers c ON c.id = p.customer_id
    WHERE c.account_number = :account AND p.reference LIKE 'PAY-%'
"""
CONSENTS = """
    SELECT count(*) FROM consent_records r JOIN customers c ON c.id = r.customer_id
    WHERE c.account_number = :account AND r.change_kind = :kind
"""
OUTBOX = """
    SELECT o.channel, o.subject FROM notifications_outbox o
    JOIN customers c ON c.id = o.customer_id WHERE c.account_number = :account
"""


def test_non_payment_found_paid_with_card_on_file_and_restored_once(chat: Chat) -> None:
    chat.text("why has my service been cut off?")
    reply = chat.verify("QC-100004", "Lagos")
    assert "I understand how frustrating this can be" in reply
    assert "$126.40" in reply and "Mastercard ending 5454" in reply
    assert "payment plan" in reply and "Shall I go ahead?" in reply
    assert "card number" not in reply.lower()
    assert query(chat.stack, SERVICE, account="QC-100004") == [("suspended", "non_payment")]

    done = chat.text("yes please")
    assert "Payment done: $126.40" in done and "your service is back on" in done
    assert query(chat.stack, SERVICE, account="QC-100004") == [("active", "none")]
    assert [float(a) for (a,) in query(chat.stack, PAYMENTS, account="QC-100004")] == [126.40]
    assert query(chat.stack, CONSENTS, account="QC-100004", kind="cutoff_payment") == [(1,)]
    follow_ups = query(chat.stack, OUTBOX, account="QC-100004")
    assert ("email", "Is your QuickConnect service working again?") in follow_ups

    again = chat.text("yes")  # nothing is taken twice
    assert "Payment done" not in again
    assert len(query(chat.stack, PAYMENTS, account="QC-100004")) == 1


def test_payment_plan_without_a_payment_method_sends_a_link_and_waits(chat: Chat) -> None:
    chat.text("can I pay what I owe in installments?")
    options = chat.verify("QC-100010", "Bergen")
    assert "$90.00" in options and "2 installments: $45.00 on" in options
    assert "How many monthly installments" in options
    quote = chat.text("2 installments")
    assert "secure payment link for the first installment of $45.00" in quote
    assert "Shall I go ahead?" in quote
    done = chat.text("yes")
    assert "Your payment plan is set up" in done
    plan = query(
        chat.stack,
        """SELECT pp.total, count(i.id), sum(i.amount) FROM payment_plans pp
           JOIN payment_plan_installments i ON i.payment_plan_id = pp.id
           JOIN customers c ON c.id = pp.customer_id
           WHERE c.account_number = 'QC-100010' GROUP BY pp.total""",
    )
    assert [(float(t), n, float(s)) for t, n, s in plan] == [(90.0, 2, 90.0)]
    # No payment method: nothing is taken, the service waits for the first installment.
    assert query(chat.stack, PAYMENTS, account="QC-100010") == []
    assert query(chat.stack, SERVICE, account="QC-100010") == [("suspended", "non_payment")]


def test_outage_gets_a_ticket_with_an_eta_a_follow_up_and_a_status(chat: Chat) -> None:
    chat.text("no signal since this morning")
    reply = chat.verify("QC-100007", "Kimchi")
    assert "Riverside" in reply and "technical support ticket TK-" in reply
    assert "by text to •••-•••-0007" in reply
    tickets = query(
        chat.stack,
        """SELECT t.ticket_number FROM tickets t JOIN customers c ON c.id = t.customer_id
           WHERE c.account_number = 'QC-100007' AND t.estimated_resolution_at IS NOT NULL""",
    )
    assert len(tickets) == 1
    number = tickets[0][0]
    assert number in reply
    assert any(number in subject for _, subject in query(chat.stack, OUTBOX, account="QC-100007"))

    status = chat.text(f"any update on ticket {number}?")
    assert f"Ticket {number}" in status and "Estimated fix" in status
