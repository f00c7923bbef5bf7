"""Service cut-offs: reasons, payments, restoration, payment plans, reinstatement,
disconnection, tickets, follow-ups and case status, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quickconnect import jobs
from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work
from quickconnect.services import changes
from quickconnect.services import service_cutoffs as sc
from quickconnect.services.service_cutoffs import (
    CaseNotFound,
    DisconnectionAlreadyRequested,
    InvalidDisconnectionDate,
    InvalidPaymentAmount,
    NothingOverdue,
    NotSuspendedForTerms,
    PaymentPlanExists,
    PaymentQuoteStale,
)

ALICE = "QC-100001"  # good standing, Downtown
DANA = "QC-100004"  # suspended for non-payment: 2 x 63.20 overdue, Mastercard ending 5454
ELIF = "QC-100005"  # suspended for a terms violation (AUP 4.2)
FARID = "QC-100006"  # disconnection requested, pending
GRACE = "QC-100007"  # outage in Riverside (active alert), prefers SMS
JONAS = "QC-100010"  # suspended for non-payment: 90.00 overdue, no payment method


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _status(session: Session, customer_id: int) -> m.ServiceStatus:
    session.expire_all()
    return session.get(m.ServiceStatus, customer_id)


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _outbox(session: Session, customer_id: int) -> list[m.NotificationOutbox]:
    query = (
        select(m.NotificationOutbox)
        .where(m.NotificationOutbox.customer_id == customer_id)
        .order_by(m.NotificationOutbox.due_at, m.NotificationOutbox.id)
    )
    return list(session.execute(query).scalars())


def _confirm(session: Session, conversation_id: str, change_id: str) -> changes.ChangeOutcome:
    with session.begin_nested():  # as action_confirm_change does: a refusal keeps nothing
        return changes.confirm_change(
            session, conversation_id=conversation_id, change_id=change_id, consent_text="yes"
        )


# --- identify the reason -------------------------------------------------------------------------


def test_each_demo_account_gives_its_reason_from_the_account_alone(session: Session) -> None:
    dana = sc.diagnose(session, _customer(session, DANA).id)
    assert (dana.reason, dana.service_status) == ("non_payment", "suspended")
    assert dana.overdue_total == Decimal("126.40")
    assert [b.outstanding for b in dana.overdue_bills] == [Decimal("63.20"), Decimal("63.20")]
    assert dana.payment_method_label == "Mastercard ending 5454"

    jonas = sc.diagnose(session, _customer(session, JONAS).id)
    assert (jonas.reason, jonas.overdue_total, jonas.payment_method_id) == (
        "non_payment",
        Decimal("90.00"),
        None,
    )

    elif_ = sc.diagnose(session, _customer(session, ELIF).id)
    assert elif_.reason == "terms_violation"
    assert elif_.violated_term.startswith("Acceptable Use Policy section 4.2")
    assert "remove the paid hotspot access" in elif_.remediation_steps

    farid = sc.diagnose(session, _customer(session, FARID).id)
    assert (farid.reason, farid.service_status) == (
        "requested_disconnection",
        "pending_disconnection",
    )
    assert farid.final_bill_amount == Decimal("18.50")
    assert farid.disconnection_date > date.today()
    assert "router" in farid.equipment_return

    grace = sc.diagnose(session, _customer(session, GRACE).id)
    assert grace.reason == "technical_issue"
    assert grace.alert is not None and grace.alert.area == "Riverside"
    assert grace.alert.estimated_resolution_at > m.utcnow()

    alice = sc.diagnose(session, _customer(session, ALICE).id)
    assert (alice.reason, alice.service_status, alice.overdue_total) == (
        "none",
        "active",
        Decimal("0.00"),
    )


def test_an_area_alert_is_a_technical_issue_even_before_the_status_shows_it(
    session: Session,
) -> None:
    alice = _customer(session, ALICE)
    alice.area = "Riverside"
    session.flush()
    assert sc.diagnose(session, alice.id).reason == "technical_issue"


def test_report_picks_the_solution_per_reason_and_logs_it(
    session: Session, conversation_id: str
) -> None:
    ids = {acct: _customer(session, acct).id for acct in (DANA, JONAS, ELIF, FARID, GRACE)}

    def report(account: str) -> sc.CutoffReport:
        return sc.handle_cutoff_report(
            session, conversation_id=f"{conversation_id}-{account}", customer_id=ids[account]
        )

    dana = report(DANA)
    assert dana.payment and dana.payment.kind == sc.PAYMENT_KIND and dana.awaiting_consent
    assert dana.payment.summary == (
        "Pay $126.40 now with your Mastercard ending 5454, clearing your overdue balance of "
        "$126.40; your service is restored as soon as the payment goes through."
    )
    jonas = report(JONAS)
    assert jonas.payment and jonas.payment.kind == sc.PAYMENT_LINK_KIND
    assert "secure payment link for $90.00" in jonas.payment.summary
    assert "j***@example.com" in jonas.payment.summary
    elif_ = report(ELIF)
    assert elif_.reinstatement is not None and elif_.awaiting_consent
    farid = report(FARID)
    assert not farid.awaiting_consent and farid.ticket is None
    grace = report(GRACE)
    assert grace.ticket is not None and grace.ticket.is_new and not grace.awaiting_consent

    logged = session.execute(
        select(m.InteractionLog.customer_id, m.InteractionLog.summary).where(
            m.InteractionLog.kind == sc.LOG_KIND
        )
    ).all()
    assert {customer_id for customer_id, _ in logged} == set(ids.values())
    assert any("Reason found: non_payment" in summary for _, summary in logged)


# --- non-payment: a payment restores exactly once, a partial one does not ---------------------


def test_full_payment_restores_service_exactly_once(session: Session, conversation_id: str) -> None:
    dana = _customer(session, DANA)
    proposal = sc.propose_payment(session, conversation_id=conversation_id, customer_id=dana.id)
    assert (proposal.amount, proposal.restores_service) == (Decimal("126.40"), True)
    assert _status(session, dana.id).status == "suspended"  # nothing before the yes

    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    assert outcome.status == "applied"
    assert outcome.result["restored"] is True
    assert outcome.result["remaining_overdue"] == "0.00"
    status = _status(session, dana.id)
    assert (status.status, status.cutoff_reason) == ("active", "none")
    payment = session.execute(
        select(m.Payment).where(m.Payment.reference == outcome.result["reference"])
    ).scalar_one()
    assert (payment.amount, payment.method) == (Decimal("126.40"), "Mastercard ending 5454")
    assert payment.reference.startswith("PAY-")
    bills = session.execute(select(m.Bill).where(m.Bill.customer_id == dana.id)).scalars().all()
    assert {b.status for b in bills} == {"paid"}
    assert sc.overdue_balance(session, dana.id) == Decimal("0.00")

    # The same yes again, another offer, or money arriving later: nothing twice.
    again = _confirm(session, conversation_id, proposal.change.change_id)
    assert again.status == "already_applied"
    with pytest.raises(NothingOverdue):
        sc.propose_payment(session, conversation_id=conversation_id, customer_id=dana.id)
    with pytest.raises(InvalidPaymentAmount):
        sc.record_payment(session, dana.id, Decimal("10.00"), "Mastercard ending 5454")
    assert _count(session, m.Payment, customer_id=dana.id, method="Mastercard ending 5454") == 2
    assert _count(session, m.InteractionLog, customer_id=dana.id, kind="service_restored") == 1
    assert _count(session, m.ConsentRecord, customer_id=dana.id, change_kind=sc.PAYMENT_KIND) == 1

    # Receipt now, and a follow-up a day later to check the service works.
    messages = _outbox(session, dana.id)
    assert [o.subject for o in messages if o.subject.startswith("Payment received")] == [
        "Payment received: $126.40"
    ]
    follow_ups = [o for o in messages if o.subject == "Is your QuickConnect service working again?"]
    assert len(follow_ups) == 1
    assert follow_ups[0].due_at > m.utcnow() + timedelta(hours=23)


def test_partial_payment_does_not_restore_then_the_rest_does(
    session: Session, conversation_id: str
) -> None:
    dana = _customer(session, DANA)
    partial = sc.propose_payment(
        session, conversation_id=conversation_id, customer_id=dana.id, amount=Decimal("50")
    )
    assert not partial.restores_service
    assert "leaving $76.40 overdue" in partial.summary
    assert "stays suspended" in partial.summary
    outcome = _confirm(session, conversation_id, partial.change.change_id)
    assert (outcome.result["restored"], outcome.result["remaining_overdue"]) == (False, "76.40")
    assert _status(session, dana.id).status == "suspended"
    oldest, newest = (
        session.execute(
            select(m.Bill)
            .where(m.Bill.customer_id == dana.id, m.Bill.status != "paid")
            .order_by(m.Bill.due_date)
        )
        .scalars()
        .all()
    )
    assert (oldest.paid_amount, newest.paid_amount) == (Decimal("50.00"), Decimal("0.00"))
    assert _count(session, m.InteractionLog, customer_id=dana.id, kind="service_restored") == 0

    rest = sc.propose_payment(session, conversation_id=conversation_id, customer_id=dana.id)
    assert rest.amount == Decimal("76.40") and rest.restores_service
    assert _confirm(session, conversation_id, rest.change.change_id).result["restored"] is True
    assert _status(session, dana.id).status == "active"
    assert _count(session, m.InteractionLog, customer_id=dana.id, kind="service_restored") == 1


def test_amounts_outside_the_balance_are_refused(session: Session, conversation_id: str) -> None:
    dana = _customer(session, DANA)
    for amount in ("0", "-5", "126.41"):
        with pytest.raises(InvalidPaymentAmount):
            sc.propose_payment(
                session,
                conversation_id=conversation_id,
                customer_id=dana.id,
                amount=Decimal(amount),
            )
    alice = _customer(session, ALICE)
    with pytest.raises(NothingOverdue):
        sc.propose_payment(session, conversation_id=conversation_id, customer_id=alice.id)


def test_two_accepted_offers_take_the_money_once(session: Session, conversation_id: str) -> None:
    dana = _customer(session, DANA)
    first = sc.propose_payment(session, conversation_id=f"{conversation_id}-a", customer_id=dana.id)
    second = sc.propose_payment(
        session, conversation_id=f"{conversation_id}-b", customer_id=dana.id
    )
    assert _confirm(session, f"{conversation_id}-a", first.change.change_id).status == "applied"
    with pytest.raises(PaymentQuoteStale, match="already been paid"):
        _confirm(session, f"{conversation_id}-b", second.change.change_id)
    assert _count(session, m.ConsentRecord, customer_id=dana.id, change_kind=sc.PAYMENT_KIND) == 1
    paid = session.execute(
        select(func.sum(m.Payment.amount)).where(
            m.Payment.customer_id == dana.id, m.Payment.reference.like("PAY-%")
        )
    ).scalar_one()
    assert Decimal(str(paid)) == Decimal("126.40")


def test_a_newer_offer_supersedes_the_earlier_one(session: Session, conversation_id: str) -> None:
    dana = _customer(session, DANA)
    payment = sc.propose_payment(session, conversation_id=conversation_id, customer_id=dana.id)
    sc.propose_payment_plan(
        session, conversation_id=conversation_id, customer_id=dana.id, installments=3
    )
    assert _confirm(session, conversation_id, payment.change.change_id).status == "cancelled"
    assert _status(session, dana.id).status == "suspended"


def test_no_payment_method_sends_a_secure_link_and_the_page_payment_restores(
    session: Session, conversation_id: str
) -> None:
    jonas = _customer(session, JONAS)
    proposal = sc.propose_payment(session, conversation_id=conversation_id, customer_id=jonas.id)
    assert proposal.kind == sc.PAYMENT_LINK_KIND and proposal.method_label is None
    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    assert outcome.status == "applied"
    link_mail = [o for o in _outbox(session, jonas.id) if "payment link for $90.00" in o.subject]
    assert len(link_mail) == 1
    assert link_mail[0].channel == "email" and link_mail[0].to_address == "jonas.berg@example.com"
    assert sc.PAYMENT_LINK_BASE in link_mail[0].body
    reminder = [
        o for o in _outbox(session, jonas.id) if o.subject == "Your QuickConnect payment link"
    ]
    assert len(reminder) == 1 and reminder[0].due_at > m.utcnow() + timedelta(hours=23)
    assert _count(session, m.Payment, customer_id=jonas.id) == 0  # a link is not a payment
    assert _status(session, jonas.id).status == "suspended"

    # The secure payment page reports the payment: service back on, once.
    receipt = sc.record_payment(session, jonas.id, Decimal("90.00"), "Card via payment link")
    assert receipt.restored and receipt.remaining_overdue == Decimal("0.00")
    assert _status(session, jonas.id).status == "active"


# --- payment plans -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "count"),
    [("126.40", 3), ("90.00", 4), ("100.00", 3), ("0.05", 4), ("63.21", 2), ("999.99", 4)],
)
def test_installments_add_up_to_the_balance_to_the_cent(total: str, count: int) -> None:
    schedule = sc.split_installments(Decimal(total), count, date(2026, 1, 31))
    assert len(schedule) == count
    assert sum(i.amount for i in schedule) == Decimal(total)
    amounts = [i.amount for i in schedule]
    assert max(amounts) - min(amounts) <= Decimal("0.01")
    assert all(i.amount == i.amount.quantize(Decimal("0.01")) for i in schedule)


def test_installment_dates_are_monthly_and_stay_in_short_months() -> None:
    schedule = sc.split_installments(Decimal("126.40"), 3, date(2026, 1, 31))
    assert [i.due_date for i in schedule] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert [i.amount for i in schedule] == [Decimal("42.13"), Decimal("42.13"), Decimal("42.14")]


def test_payment_plan_with_a_card_takes_the_first_installment_and_restores(
    session: Session, conversation_id: str
) -> None:
    dana = _customer(session, DANA)
    overdue, options = sc.payment_plan_options(session, dana.id)
    assert overdue == Decimal("126.40") and [o.count for o in options] == [2, 3, 4]
    assert all(sum(i.amount for i in o.installments) == overdue for o in options)

    proposal = sc.propose_payment_plan(
        session, conversation_id=conversation_id, customer_id=dana.id, installments=3
    )
    assert "$42.13 on" in proposal.summary and "$42.14 on" in proposal.summary
    assert "taken now with your Mastercard ending 5454" in proposal.summary
    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    assert outcome.status == "applied" and outcome.result["restored"] is True

    plan = session.execute(
        select(m.PaymentPlan).where(m.PaymentPlan.customer_id == dana.id)
    ).scalar_one()
    assert (plan.total, plan.status) == (Decimal("126.40"), "active")
    installments = plan.installments
    assert sum(i.amount for i in installments) == plan.total
    assert [i.paid_at is not None for i in installments] == [True, False, False]
    status = _status(session, dana.id)
    assert (status.status, status.cutoff_reason) == ("active", "none")
    assert sc.overdue_balance(session, dana.id) == Decimal("84.27")  # the plan covers it
    reminders = [o for o in _outbox(session, dana.id) if o.subject.startswith("Payment plan:")]
    assert [o.due_at.date() for o in reminders] == [
        i.due_date - timedelta(days=3) for i in installments[1:]
    ]
    with pytest.raises(PaymentPlanExists):
        sc.payment_plan_options(session, dana.id)

    # Later installments are marked as they are paid; the last one completes the plan,
    # and none of them restores the service a second time.
    sc.record_payment(session, dana.id, Decimal("42.13"), "Mastercard ending 5454")
    receipt = sc.record_payment(session, dana.id, Decimal("42.14"), "Mastercard ending 5454")
    assert receipt.restored is False and receipt.remaining_overdue == Decimal("0.00")
    session.refresh(plan)
    assert plan.status == "completed"
    assert _count(session, m.InteractionLog, customer_id=dana.id, kind="service_restored") == 1


def test_payment_plan_without_a_method_restores_when_the_first_installment_is_paid(
    session: Session, conversation_id: str
) -> None:
    jonas = _customer(session, JONAS)
    proposal = sc.propose_payment_plan(
        session, conversation_id=conversation_id, customer_id=jonas.id, installments=2
    )
    assert "secure payment link for the first installment of $45.00" in proposal.summary
    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    assert outcome.result["restored"] is False and outcome.result["link_sent"] is True
    assert _status(session, jonas.id).status == "suspended"
    plan_mail = [o for o in _outbox(session, jonas.id) if o.subject.startswith("Your payment plan")]
    assert len(plan_mail) == 1 and sc.PAYMENT_LINK_BASE in plan_mail[0].body

    partial = sc.record_payment(session, jonas.id, Decimal("20.00"), "Card via payment link")
    assert not partial.restored  # less than the first installment
    receipt = sc.record_payment(session, jonas.id, Decimal("25.00"), "Card via payment link")
    assert receipt.restored and receipt.plan_installments_paid == 1
    assert _status(session, jonas.id).status == "active"


# --- terms violation ---------------------------------------------------------------------------


def test_reinstatement_goes_to_a_person_with_a_case_number(
    session: Session, conversation_id: str
) -> None:
    elif_ = _customer(session, ELIF)
    proposal = sc.propose_reinstatement(
        session, conversation_id=conversation_id, customer_id=elif_.id
    )
    assert proposal.violated_term.startswith("Acceptable Use Policy section 4.2")
    assert "accept the Acceptable Use Policy" in proposal.summary
    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    case = session.execute(
        select(m.Case).where(m.Case.case_number == outcome.result["case_number"])
    ).scalar_one()
    assert (case.customer_id, case.reason, case.status) == (elif_.id, "guide_escalation", "open")
    assert "Reinstatement review" in case.summary
    consent = session.execute(
        select(m.ConsentRecord).where(m.ConsentRecord.change_kind == sc.REINSTATEMENT_KIND)
    ).scalar_one()
    assert consent.customer_id == elif_.id
    assert _status(session, elif_.id).status == "suspended"  # a person decides
    follow_up = [o for o in _outbox(session, elif_.id) if case.case_number in o.subject]
    assert any(o.due_at > m.utcnow() + timedelta(hours=23) for o in follow_up)

    dana = _customer(session, DANA)
    with pytest.raises(NotSuspendedForTerms):
        sc.propose_reinstatement(session, conversation_id=conversation_id, customer_id=dana.id)


# --- requested disconnection -------------------------------------------------------------------


def test_a_requested_disconnection_is_confirmed_not_requested_again(
    session: Session, conversation_id: str
) -> None:
    farid = _customer(session, FARID)
    with pytest.raises(DisconnectionAlreadyRequested):
        sc.propose_disconnection(session, conversation_id=conversation_id, customer_id=farid.id)


def test_new_disconnection_with_final_bill_and_equipment_return(
    session: Session, conversation_id: str
) -> None:
    alice = _customer(session, ALICE)
    alice.billing_cycle_day = 1
    session.flush()
    today = date(2026, 11, 24)
    # Everyday 20GB $45.00; 1-30 Nov cycle; disconnect on 10 Dec: all of Nov + 10/31 of Dec.
    estimate = sc.final_bill_estimate(session, alice.id, date(2026, 12, 10), today=today)
    assert estimate == (Decimal("45.00") + Decimal("45.00") * 10 / 31).quantize(Decimal("0.01"))

    proposal = sc.propose_disconnection(
        session, conversation_id=conversation_id, customer_id=alice.id, today=today
    )
    assert proposal.disconnection_date == date(2026, 11, 30)  # default: end of the cycle
    assert proposal.final_bill_amount == Decimal("45.00")
    assert "Return any QuickConnect equipment" in proposal.summary
    for bad in (date(2026, 11, 23), today + timedelta(days=91)):
        with pytest.raises(InvalidDisconnectionDate):
            sc.propose_disconnection(
                session,
                conversation_id=conversation_id,
                customer_id=alice.id,
                disconnection_date=bad,
                today=today,
            )

    proposal = sc.propose_disconnection(
        session,
        conversation_id=conversation_id,
        customer_id=alice.id,
        disconnection_date=date.today() + timedelta(days=7),
    )
    outcome = _confirm(session, conversation_id, proposal.change.change_id)
    assert outcome.status == "applied"
    status = _status(session, alice.id)
    assert (status.status, status.cutoff_reason) == (
        "pending_disconnection",
        "requested_disconnection",
    )
    assert status.disconnection_date == date.today() + timedelta(days=7)
    assert status.final_bill_amount == proposal.final_bill_amount
    on_the_day = [o for o in _outbox(session, alice.id) if "disconnection today" in o.subject]
    assert len(on_the_day) == 1 and on_the_day[0].due_at.date() == status.disconnection_date
    diagnosis = sc.diagnose(session, alice.id)
    assert diagnosis.reason == "requested_disconnection"


# --- technical issues: tickets ----------------------------------------------------------------


def test_outage_ticket_with_the_alerts_eta_and_one_follow_up(
    session: Session, conversation_id: str
) -> None:
    grace = _customer(session, GRACE)
    alert_eta = sc.diagnose(session, grace.id).alert.estimated_resolution_at
    opened = sc.open_outage_ticket(session, conversation_id=conversation_id, customer_id=grace.id)
    assert opened.is_new and opened.ticket.ticket_number.startswith("TK-")
    assert opened.ticket.estimated_resolution_at == alert_eta
    assert "Riverside" in opened.ticket.summary
    assert opened.follow_up is not None and opened.follow_up.channel == "sms"
    assert opened.follow_up.masked_contact == "•••-•••-0007"
    messages = [o for o in _outbox(session, grace.id) if opened.ticket.ticket_number in o.subject]
    assert len(messages) == 1
    assert (messages[0].channel, messages[0].to_address) == ("sms", "+15550100007")
    assert messages[0].due_at == alert_eta + sc.FOLLOW_UP_AFTER_FIX

    again = sc.open_outage_ticket(session, conversation_id=conversation_id, customer_id=grace.id)
    assert not again.is_new and again.ticket.ticket_number == opened.ticket.ticket_number
    assert _count(session, m.Ticket, customer_id=grace.id) == 1
    assert len([o for o in _outbox(session, grace.id) if "ticket" in o.subject]) == 1


def test_no_known_reason_opens_a_line_check_ticket(session: Session, conversation_id: str) -> None:
    alice = _customer(session, ALICE)
    before = m.utcnow()
    opened = sc.open_outage_ticket(session, conversation_id=conversation_id, customer_id=alice.id)
    eta = opened.ticket.estimated_resolution_at
    assert before + timedelta(hours=23, minutes=59) <= eta <= m.utcnow() + timedelta(hours=24)
    assert "line check" in opened.ticket.summary


# --- case status ---------------------------------------------------------------------------------


def test_case_status_by_number_and_open_ones_only_for_the_customer(
    session: Session, conversation_id: str
) -> None:
    grace = _customer(session, GRACE)
    elif_ = _customer(session, ELIF)
    ticket = sc.open_outage_ticket(session, conversation_id=conversation_id, customer_id=grace.id)
    number = ticket.ticket.ticket_number

    answer = sc.check_case_status(
        session, conversation_id=conversation_id, customer_id=grace.id, number=number.lower()
    )
    assert [(i.kind, i.number, i.status) for i in answer.items] == [("ticket", number, "open")]
    assert answer.items[0].estimated_resolution_at == ticket.ticket.estimated_resolution_at

    with pytest.raises(CaseNotFound, match=f"couldn't find {number} on your account"):
        sc.check_case_status(
            session, conversation_id=conversation_id, customer_id=elif_.id, number=number
        )
    with pytest.raises(CaseNotFound):
        sc.check_case_status(
            session, conversation_id=conversation_id, customer_id=grace.id, number="CS-000000"
        )

    proposal = sc.propose_reinstatement(
        session, conversation_id=conversation_id, customer_id=elif_.id
    )
    case_number = _confirm(session, conversation_id, proposal.change.change_id).result[
        "case_number"
    ]
    mine = sc.check_case_status(session, conversation_id=conversation_id, customer_id=elif_.id)
    assert [(i.kind, i.number, i.about) for i in mine.items] == [
        ("case", case_number, "a review by our support team")
    ]
    by_number = sc.check_case_status(
        session,
        conversation_id=conversation_id,
        customer_id=elif_.id,
        number=case_number.replace("-", " "),
    )
    assert by_number.items[0].number == case_number
    assert (
        sc.check_case_status(
            session, conversation_id=conversation_id, customer_id=_customer(session, ALICE).id
        ).items
        == ()
    )
    logged = _count(session, m.InteractionLog, conversation_id=conversation_id, kind="case_status")
    assert logged == 4


def test_format_time_says_utc() -> None:
    from datetime import UTC

    assert sc.format_time(datetime(2026, 11, 24, 8, 5, tzinfo=UTC)) == "08:05 UTC on 24 Nov 2026"


# --- carrying out a booked disconnection (the disconnect-due job) ------------------------------


def _book_disconnection(
    session: Session, conversation_id: str, account: str, day: date
) -> m.Customer:
    customer = _customer(session, account)
    proposal = sc.propose_disconnection(
        session,
        conversation_id=conversation_id,
        customer_id=customer.id,
        disconnection_date=day,
        today=m.utcnow().date(),
    )
    assert _confirm(session, conversation_id, proposal.change.change_id).status == "applied"
    return customer


def _disconnected_logs(session: Session, customer_id: int) -> int:
    return _count(
        session,
        m.InteractionLog,
        customer_id=customer_id,
        kind="request_disconnection",
        outcome="disconnected",
    )


def _disconnected_messages(session: Session, customer_id: int) -> list[m.NotificationOutbox]:
    return [o for o in _outbox(session, customer_id) if "has been disconnected" in o.subject]


def test_a_due_disconnection_is_carried_out_once(session: Session, conversation_id: str) -> None:
    day = m.utcnow().date() + timedelta(days=3)  # before Farid's booked date (today + 5)
    alice = _book_disconnection(session, conversation_id, ALICE, day)
    booked = _status(session, alice.id)
    final_bill, equipment = booked.final_bill_amount, booked.equipment_return

    assert sc.apply_due_disconnections(session, today=day) == [sc.DisconnectionApplied(ALICE, day)]
    status = _status(session, alice.id)
    assert (status.status, status.cutoff_reason) == ("disconnected", "requested_disconnection")
    assert status.disconnection_date == day
    assert _disconnected_logs(session, alice.id) == 1
    messages = _disconnected_messages(session, alice.id)
    assert len(messages) == 1
    assert (messages[0].channel, messages[0].to_address) == ("email", alice.email)
    assert sc.usd(final_bill) in messages[0].body and equipment in messages[0].body
    assert sc.diagnose(session, alice.id).service_status == "disconnected"

    outbox_before = len(_outbox(session, alice.id))
    assert sc.apply_due_disconnections(session, today=day) == []  # idempotent
    assert _disconnected_logs(session, alice.id) == 1
    assert len(_outbox(session, alice.id)) == outbox_before
    assert _status(session, alice.id).status == "disconnected"
    farid = _customer(session, FARID)
    assert _status(session, farid.id).status == "pending_disconnection"  # not due yet


def test_a_future_disconnection_is_not_carried_out_early(
    session: Session, conversation_id: str
) -> None:
    today = m.utcnow().date()
    alice = _book_disconnection(session, conversation_id, ALICE, today + timedelta(days=10))
    farid = _customer(session, FARID)
    farid_day = _status(session, farid.id).disconnection_date

    assert sc.apply_due_disconnections(session, today=farid_day - timedelta(days=1)) == []
    assert sc.apply_due_disconnections(session, today=farid_day) == [
        sc.DisconnectionApplied(FARID, farid_day)
    ]
    status = _status(session, alice.id)
    assert (status.status, status.cutoff_reason) == (
        "pending_disconnection",
        "requested_disconnection",
    )
    assert _disconnected_logs(session, alice.id) == 0
    assert _disconnected_messages(session, alice.id) == []
    # Farid booked by phone; his message goes to his preferred contact.
    channel, address, _ = sc._contact(farid)
    messages = _disconnected_messages(session, farid.id)
    assert [(o.channel, o.to_address) for o in messages] == [(channel, address)]
    assert "router" in messages[0].body and "$18.50" in messages[0].body


def test_accounts_not_pending_disconnection_are_untouched(session: Session) -> None:
    accounts = (ALICE, DANA, ELIF, GRACE)
    before = {
        acct: (
            (s := _status(session, _customer(session, acct).id)).status,
            s.cutoff_reason,
            s.since,
        )
        for acct in accounts
    }
    far = m.utcnow().date() + timedelta(days=sc.MAX_DISCONNECTION_DAYS_AHEAD + 1)
    applied = sc.apply_due_disconnections(session, today=far)
    assert [a.account_number for a in applied] == [FARID]  # the only booked one
    for acct in accounts:
        customer = _customer(session, acct)
        status = _status(session, customer.id)
        assert (status.status, status.cutoff_reason, status.since) == before[acct]
        assert _disconnected_logs(session, customer.id) == 0
        assert _disconnected_messages(session, customer.id) == []


def test_jobs_cli_disconnect_due(
    connection: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    with unit_of_work(connection) as session:
        farid_id = _customer(session, FARID).id
        day = _status(session, farid_id).disconnection_date.isoformat()

    assert jobs.main(["disconnect-due", "--today", day], bind=connection) == 0
    assert jobs.main(["disconnect-due", "--today", day], bind=connection) == 0
    assert jobs.main(["run-due", "--today", day], bind=connection) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"disconnect-due ({day}): disconnected 1 account(s): {FARID}",
        f"disconnect-due ({day}): no disconnections due",
    ]
    assert out[-1] == f"disconnect-due ({day}): no disconnections due"  # run-due runs it last
    with unit_of_work(connection) as session:
        assert _status(session, farid_id).status == "disconnected"
        assert _disconnected_logs(session, farid_id) == 1
        assert len(_disconnected_messages(session, farid_id)) == 1
