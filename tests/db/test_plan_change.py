"""Changing plans: options, quotes with proration, consent, now or later, reverting."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from quickconnect import jobs
from quickconnect.db import models as m
from quickconnect.db.session import unit_of_work
from quickconnect.services import changes, plan_change
from quickconnect.services.plan_change import (
    InvalidEffectiveDate,
    PlanChangeQuoteStale,
    PlanNotOffered,
    SameAsCurrentPlan,
    UnknownPlan,
)
from quickconnect.services.plans import current_plan

ALICE = "QC-100001"  # Everyday 20GB, $45.00
HIRO = "QC-100008"  # Unlimited Plus, $70.00
INES = "QC-100009"  # Everyday 20GB since 10 days, before that Starter 2GB (legacy)


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _alice_on_cycle_day(session: Session, day: int) -> int:
    """Alice with a fixed billing cycle day, so quotes can be worked out by hand."""
    alice = _customer(session, ALICE)
    alice.billing_cycle_day = day
    session.flush()
    return int(alice.id)


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _history(session: Session, customer_id: int) -> list[tuple[str, str, Decimal | None]]:
    rows = session.execute(
        select(m.ServicePlan.code, m.AccountPlan.status, m.AccountPlan.prorated_amount)
        .join(m.ServicePlan, m.ServicePlan.id == m.AccountPlan.plan_id)
        .where(m.AccountPlan.customer_id == customer_id)
        .order_by(m.AccountPlan.id)
    ).all()
    return [(code, status, amount) for code, status, amount in rows]


def _expected_proration(difference: str, day: date, cycle_day: int) -> Decimal:
    """Worked out independently of the service: difference * days left / days in the cycle."""
    start = date(day.year, day.month, cycle_day)
    if day.day < cycle_day:
        start = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, cycle_day)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, cycle_day)
    share = Decimal((end - day).days) / Decimal((end - start).days)
    return (Decimal(difference) * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _propose(
    connection: Connection,
    conversation_id: str,
    account_number: str,
    plan_code: str,
    effective_date: date | None = None,
) -> tuple[plan_change.PlanChangeQuote, changes.ProposedChange]:
    with unit_of_work(connection) as session:
        return plan_change.propose_plan_change(
            session,
            conversation_id=conversation_id,
            customer_id=_customer(session, account_number).id,
            new_plan_code=plan_code,
            effective_date=effective_date,
        )


def _confirm(
    connection: Connection, conversation_id: str, proposed: changes.ProposedChange
) -> changes.ChangeOutcome:
    with unit_of_work(connection) as session:
        return changes.confirm_change(
            session,
            conversation_id=conversation_id,
            change_id=proposed.change_id,
            consent_text=f"yes - {proposed.summary}",
        )


# --- quotes and proration ---------------------------------------------------------------------


def test_quote_in_the_middle_of_a_cycle_gives_the_consent_text(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 1)  # cycle 1-30 Nov 2026: 30 days
    quote = plan_change.quote_plan_change(
        session, customer_id, "UNLPLUS", effective_date=date(2026, 11, 22), today=date(2026, 11, 22)
    )
    # 22..30 Nov = 9 days left; (70 - 45) * 9 / 30 = 7.50
    assert (quote.cycle_start, quote.cycle_end, quote.cycle_days, quote.remaining_days) == (
        date(2026, 11, 1), date(2026, 11, 30), 30, 9,
    )  # fmt: skip
    assert quote.prorated_amount == Decimal("7.50")
    assert quote.change_fee == Decimal("0.00")
    assert quote.next_bill_date == date(2026, 12, 1)
    assert quote.immediate and quote.effective_date == date(2026, 11, 22)
    assert (quote.current_plan_name, quote.current_price, quote.new_plan_name, quote.new_price) == (
        "Everyday 20GB", Decimal("45.00"), "Unlimited Plus", Decimal("70.00"),
    )  # fmt: skip
    assert quote.summary == (
        "Change from Everyday 20GB ($45.00/month) to Unlimited Plus ($70.00/month) effective "
        "22 Nov 2026; prorated charge of $7.50 for the 9 days left in this billing cycle; "
        "no change fee."
    )


def test_quote_on_the_first_day_of_a_cycle_is_the_full_difference(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 1)
    quote = plan_change.quote_plan_change(session, customer_id, "UNLPLUS", today=date(2026, 11, 1))
    assert quote.effective_date == date(2026, 11, 1)  # today by default
    assert (quote.remaining_days, quote.cycle_days) == (30, 30)
    assert quote.prorated_amount == Decimal("25.00")  # 25 * 30 / 30
    assert "prorated charge of $25.00 for the full 30 days of this billing cycle" in quote.summary


def test_quote_on_the_last_day_of_a_cycle(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 1)
    quote = plan_change.quote_plan_change(session, customer_id, "UNLPLUS", today=date(2026, 11, 30))
    assert (quote.remaining_days, quote.cycle_days) == (1, 30)
    assert quote.prorated_amount == Decimal("0.83")  # 25 * 1 / 30 = 0.8333...
    assert quote.next_bill_date == date(2026, 12, 1)
    assert "prorated charge of $0.83 for the last day of this billing cycle" in quote.summary


def test_downgrade_is_a_credit_and_there_is_never_a_fee(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 1)
    quote = plan_change.quote_plan_change(session, customer_id, "BASIC5", today=date(2026, 11, 22))
    assert quote.prorated_amount == Decimal("-6.00")  # (25 - 45) * 9 / 30
    assert quote.change_fee == Decimal("0.00")
    assert "prorated credit of $6.00 for the 9 days left in this billing cycle" in quote.summary
    assert quote.summary.endswith("; no change fee.")


def test_future_date_in_a_later_cycle_prorates_that_cycle(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 10)
    quote = plan_change.quote_plan_change(
        session, customer_id, "BASIC5", effective_date=date(2027, 2, 20), today=date(2027, 1, 25)
    )
    # cycle 10 Feb - 9 Mar 2027 = 28 days; 20 Feb..9 Mar = 18 days; -20 * 18 / 28 = -12.857...
    assert (quote.cycle_start, quote.cycle_end, quote.cycle_days) == (
        date(2027, 2, 10), date(2027, 3, 9), 28,
    )  # fmt: skip
    assert quote.remaining_days == 18
    assert quote.prorated_amount == Decimal("-12.86")
    assert quote.next_bill_date == date(2027, 3, 10)
    assert not quote.immediate
    assert "effective 20 Feb 2027" in quote.summary
    assert quote.summary.endswith(
        "prorated credit of $12.86 for the 18 days from 20 Feb 2027 to the end of the billing "
        "cycle on 9 Mar 2027; no change fee."
    )


def test_future_date_on_the_first_day_of_a_cycle(session: Session) -> None:
    customer_id = _alice_on_cycle_day(session, 1)
    quote = plan_change.quote_plan_change(
        session, customer_id, "FAMILY4", effective_date=date(2026, 12, 1), today=date(2026, 11, 22)
    )
    # "from next month": the whole December cycle at the new price, (110 - 45) * 31 / 31
    assert (quote.remaining_days, quote.cycle_days) == (31, 31)
    assert quote.prorated_amount == Decimal("65.00")
    assert quote.next_bill_date == date(2027, 1, 1)
    assert (
        "prorated charge of $65.00 for the full billing cycle from 1 Dec 2026 to 31 Dec 2026"
        in (quote.summary)
    )


def test_money_is_rounded_half_up() -> None:
    assert plan_change._cents(Decimal("0.125")) == Decimal("0.13")
    assert plan_change._cents(Decimal("-0.125")) == Decimal("-0.13")
    assert plan_change._cents(Decimal("7.4999")) == Decimal("7.50")


def test_quote_errors(session: Session) -> None:
    alice_id = _alice_on_cycle_day(session, 1)
    today = date(2026, 11, 22)
    with pytest.raises(UnknownPlan, match="no plan called 'GOLD99'"):
        plan_change.quote_plan_change(session, alice_id, "GOLD99", today=today)
    with pytest.raises(PlanNotOffered, match="Starter 2GB is no longer offered"):
        plan_change.quote_plan_change(session, alice_id, "START2", today=today)
    with pytest.raises(SameAsCurrentPlan, match="already on Everyday 20GB"):
        plan_change.quote_plan_change(session, alice_id, "EVERY20", today=today)
    with pytest.raises(InvalidEffectiveDate, match="past"):
        plan_change.quote_plan_change(
            session, alice_id, "UNLPLUS", effective_date=date(2026, 11, 21), today=today
        )
    with pytest.raises(InvalidEffectiveDate, match="90 days ahead"):
        plan_change.quote_plan_change(
            session, alice_id, "UNLPLUS", effective_date=today + timedelta(days=91), today=today
        )
    furthest = plan_change.quote_plan_change(
        session, alice_id, "UNLPLUS", effective_date=today + timedelta(days=90), today=today
    )
    assert furthest.effective_date == date(2027, 2, 20)
    assert issubclass(UnknownPlan, ValueError)  # one family of errors the chat can show


# --- applying through propose / confirm ---------------------------------------------------------


def test_confirmed_upgrade_applies_once_with_consent_log_and_email(
    connection: Connection, conversation_id: str
) -> None:
    quote, proposed = _propose(connection, conversation_id, ALICE, "UNLPLUS")
    assert proposed.summary == quote.summary and proposed.amount == quote.prorated_amount
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        today = m.utcnow().date()
        expected = _expected_proration("25.00", today, alice.billing_cycle_day)
        assert quote.prorated_amount == expected > 0
        assert _history(session, alice.id) == [("EVERY20", "active", None)]

    outcome = _confirm(connection, conversation_id, proposed)
    assert outcome.status == "applied" and outcome.result is not None
    result = outcome.result
    assert result["status"] == "active" and result["plan_code"] == "UNLPLUS"
    assert result["plan_name"] == "Unlimited Plus"
    assert result["effective_date"] == today.isoformat()
    assert Decimal(result["prorated_amount"]) == expected
    assert result["change_fee"] == "0.00"
    assert result["next_bill_date"] == quote.next_bill_date.isoformat()
    assert result["interruption"] == "No interruption: the new allowances apply immediately."

    again = _confirm(connection, conversation_id, proposed)
    assert again == changes.ChangeOutcome("already_applied", result)

    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert _history(session, alice.id) == [
            ("EVERY20", "ended", None),
            ("UNLPLUS", "active", expected),
        ]
        assert current_plan(session, alice.id).plan_code == "UNLPLUS"
        consent = session.execute(
            select(m.ConsentRecord).where(m.ConsentRecord.conversation_id == conversation_id)
        ).scalar_one()
        assert consent.change_kind == "plan_change" and quote.summary in consent.consent_text
        log = session.execute(
            select(m.InteractionLog).where(m.InteractionLog.conversation_id == conversation_id)
        ).scalar_one()
        assert (log.kind, log.outcome) == ("plan_change", "applied")
        assert "Changed plan from Everyday 20GB to Unlimited Plus" in log.summary
        emails = (
            session.execute(
                select(m.NotificationOutbox).where(m.NotificationOutbox.customer_id == alice.id)
            )
            .scalars()
            .all()
        )
        assert len(emails) == 1
        email = emails[0]
        assert (email.channel, email.to_address, email.status) == (
            "email", "alice.martin@example.com", "queued",
        )  # fmt: skip
        assert "Unlimited Plus: $70.00/month, unlimited data" in email.body
        assert f"Next billing cycle: {plan_change.format_date(quote.next_bill_date)}" in email.body
        assert f"prorated charge of ${expected}" in email.body
        assert "Change fee: none." in email.body


def test_two_changes_in_one_cycle_each_prorate_from_the_plan_then_active(
    connection: Connection,
) -> None:
    conversation_id = "test-two-changes"
    _, up = _propose(connection, conversation_id, ALICE, "UNLPLUS")
    assert _confirm(connection, conversation_id, up).status == "applied"
    down_quote, down = _propose(connection, conversation_id, ALICE, "BASIC5")
    assert down_quote.current_plan_name == "Unlimited Plus"
    assert _confirm(connection, conversation_id, down).status == "applied"

    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        today = m.utcnow().date()
        first = _expected_proration("25.00", today, alice.billing_cycle_day)  # 45 -> 70
        second = _expected_proration("-45.00", today, alice.billing_cycle_day)  # 70 -> 25
        assert up.amount == first and down.amount == second < 0
        assert _history(session, alice.id) == [
            ("EVERY20", "ended", None),
            ("UNLPLUS", "ended", first),
            ("BASIC5", "active", second),
        ]
        assert current_plan(session, alice.id).plan_code == "BASIC5"
        assert _count(session, m.ConsentRecord, conversation_id=conversation_id) == 2
        assert _count(session, m.InteractionLog, conversation_id=conversation_id) == 2
        assert _count(session, m.NotificationOutbox, customer_id=alice.id) == 2


def test_future_change_stays_scheduled_until_the_job_switches_it_once(
    connection: Connection, conversation_id: str
) -> None:
    today = m.utcnow().date()
    day = today + timedelta(days=10)
    quote, proposed = _propose(connection, conversation_id, ALICE, "UNLPLUS", effective_date=day)
    assert not quote.immediate
    outcome = _confirm(connection, conversation_id, proposed)
    assert outcome.result is not None and outcome.result["status"] == "scheduled"
    assert outcome.result["effective_date"] == day.isoformat()
    assert outcome.result["interruption"].startswith(
        f"Nothing changes until {plan_change.format_date(day)}: you keep Everyday 20GB"
    )

    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        view = current_plan(session, alice.id)
        assert view.plan_code == "EVERY20"
        assert view.scheduled_plan_name == "Unlimited Plus"
        assert view.scheduled_for is not None and view.scheduled_for.date() == day
        assert _history(session, alice.id) == [
            ("EVERY20", "active", None),
            ("UNLPLUS", "scheduled", quote.prorated_amount),
        ]
        email = session.execute(
            select(m.NotificationOutbox).where(m.NotificationOutbox.customer_id == alice.id)
        ).scalar_one()
        assert "is booked for" in email.body

        assert plan_change.apply_due_plan_changes(session, today=day - timedelta(days=1)) == []
        assert plan_change.apply_due_plan_changes(session, today=day) == [ALICE]
        assert plan_change.apply_due_plan_changes(session, today=day) == []
        assert plan_change.apply_due_plan_changes(session, today=day + timedelta(days=5)) == []

        assert current_plan(session, alice.id, today=day).plan_code == "UNLPLUS"
        assert _history(session, alice.id) == [
            ("EVERY20", "ended", None),
            ("UNLPLUS", "active", quote.prorated_amount),
        ]
        logs = session.execute(
            select(m.InteractionLog.summary).where(
                m.InteractionLog.customer_id == alice.id, m.InteractionLog.kind == "plan_change"
            )
        ).scalars()
        assert sum("took effect" in summary for summary in logs) == 1
        emails = session.execute(
            select(m.NotificationOutbox.subject).where(m.NotificationOutbox.customer_id == alice.id)
        ).scalars()
        assert sorted(emails) == [
            f"Your QuickConnect plan change on {plan_change.format_date(day)}",
            "Your QuickConnect plan is now Unlimited Plus",
        ]


def test_jobs_cli_applies_due_changes(
    connection: Connection, conversation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    day = m.utcnow().date() + timedelta(days=3)
    _, proposed = _propose(connection, conversation_id, ALICE, "BASIC5", effective_date=day)
    assert _confirm(connection, conversation_id, proposed).status == "applied"

    assert jobs.main(["apply-due", "--today", day.isoformat()], bind=connection) == 0
    assert jobs.main(["apply-due", "--today", day.isoformat()], bind=connection) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"apply-due ({day.isoformat()}): switched 1 plan(s): {ALICE}",
        f"apply-due ({day.isoformat()}): no plan changes due",
    ]
    with unit_of_work(connection) as session:
        assert current_plan(session, _customer(session, ALICE).id, today=day).plan_code == "BASIC5"


def test_a_new_booking_replaces_the_old_and_an_immediate_change_cancels_it(
    connection: Connection, conversation_id: str
) -> None:
    today = m.utcnow().date()
    _, first = _propose(connection, conversation_id, ALICE, "UNLPLUS", today + timedelta(days=10))
    assert _confirm(connection, conversation_id, first).status == "applied"
    quote, second = _propose(
        connection, conversation_id, ALICE, "FAMILY4", today + timedelta(days=20)
    )
    assert quote.replaces_scheduled_plan_name == "Unlimited Plus"
    assert "this replaces your scheduled change to Unlimited Plus" in quote.summary
    assert _confirm(connection, conversation_id, second).status == "applied"
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert _count(session, m.AccountPlan, customer_id=alice.id, status="scheduled") == 1
        assert current_plan(session, alice.id).scheduled_plan_name == "Family Share"

    _, now = _propose(connection, conversation_id, ALICE, "BASIC5")
    assert _confirm(connection, conversation_id, now).status == "applied"
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        view = current_plan(session, alice.id)
        assert (view.plan_code, view.scheduled_plan_name) == ("BASIC5", None)
        assert plan_change.apply_due_plan_changes(session, today + timedelta(days=30)) == []
        revert = plan_change.previous_plan(session, alice.id)  # bookings are not history
        assert revert.previous_plan_code == "EVERY20" and revert.available


def test_a_stale_quote_is_not_applied(connection: Connection, conversation_id: str) -> None:
    _, stale = _propose(connection, conversation_id, ALICE, "UNLPLUS")
    _, other = _propose(connection, "test-other-conversation", ALICE, "BASIC5")
    assert _confirm(connection, "test-other-conversation", other).status == "applied"

    with pytest.raises(PlanChangeQuoteStale, match="not the one quoted"):
        _confirm(connection, conversation_id, stale)
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert current_plan(session, alice.id).plan_code == "BASIC5"
        assert _count(session, m.ConsentRecord, conversation_id=conversation_id) == 0
        assert session.get(m.PendingChange, stale.change_id).status == "proposed"


def test_a_change_the_account_does_not_show_is_rolled_back(
    connection: Connection, conversation_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guide's "verify that the new plan details are updated correctly": if reading the
    account back does not show the new plan, nothing of the change may stay."""
    _, proposed = _propose(connection, conversation_id, ALICE, "UNLPLUS")
    real_current_plan = plan_change.current_plan

    def still_the_old_plan(session: Session, customer_id: int, **kwargs: Any) -> Any:
        view = real_current_plan(session, customer_id, **kwargs)
        return dataclasses.replace(view, plan_code="EVERY20")

    monkeypatch.setattr(plan_change, "current_plan", still_the_old_plan)
    with pytest.raises(plan_change.PlanChangeNotVisible):
        _confirm(connection, conversation_id, proposed)
    monkeypatch.undo()
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert _history(session, alice.id) == [("EVERY20", "active", None)]
        assert _count(session, m.ConsentRecord, conversation_id=conversation_id) == 0
        assert _count(session, m.NotificationOutbox, customer_id=alice.id) == 0
        assert session.get(m.PendingChange, proposed.change_id).status == "proposed"


# --- reverting ----------------------------------------------------------------------------------


def test_revert_to_a_legacy_plan_is_not_available(session: Session) -> None:
    ines = _customer(session, INES)
    revert = plan_change.previous_plan(session, ines.id)
    assert not revert.available and revert.quote is None
    assert (revert.previous_plan_code, revert.previous_plan_name) == ("START2", "Starter 2GB")
    assert revert.previous_plan_ended_at is not None
    assert revert.explanation == (
        "Starter 2GB is no longer offered, so we can't switch you back to it; the closest "
        "current plan is Basic 5GB ($25.00/month)."
    )
    # Everyday 20GB is already hers; Unlimited Plus ($70) is nowhere near a $15 plan
    assert [option.code for option in revert.alternatives] == ["BASIC5"]
    assert revert.alternatives[0].price_difference == Decimal("-20.00")


def test_revert_to_an_offered_plan_is_a_change_at_current_prices(
    connection: Connection, conversation_id: str
) -> None:
    _, up = _propose(connection, conversation_id, ALICE, "UNLPLUS")
    assert _confirm(connection, conversation_id, up).status == "applied"
    with unit_of_work(connection) as session:
        everyday = session.execute(
            select(m.ServicePlan).where(m.ServicePlan.code == "EVERY20")
        ).scalar_one()
        everyday.monthly_price = Decimal("47.00")  # the price went up since she left it
        alice = _customer(session, ALICE)
        revert = plan_change.previous_plan(session, alice.id)
        assert revert.available and revert.previous_plan_name == "Everyday 20GB"
        assert revert.alternatives == ()
        assert revert.quote is not None
        assert (revert.quote.current_price, revert.quote.new_price) == (
            Decimal("70.00"), Decimal("47.00"),
        )  # fmt: skip
        expected = _expected_proration("-23.00", m.utcnow().date(), alice.billing_cycle_day)
        assert revert.quote.prorated_amount == expected
        assert "at today's price of $47.00/month" in revert.explanation

    back_quote, back = _propose(connection, conversation_id, ALICE, revert.quote.new_plan_code)
    assert back_quote.summary == revert.quote.summary
    assert _confirm(connection, conversation_id, back).status == "applied"
    with unit_of_work(connection) as session:
        alice = _customer(session, ALICE)
        assert current_plan(session, alice.id).plan_code == "EVERY20"
        assert plan_change.previous_plan(session, alice.id).previous_plan_code == "UNLPLUS"


def test_no_previous_plan(session: Session) -> None:
    revert = plan_change.previous_plan(session, _customer(session, HIRO).id)
    assert not revert.available
    assert revert.previous_plan_code is None and revert.quote is None
    assert "no earlier plan to go back to" in revert.explanation


# --- discussing options -------------------------------------------------------------------------


def test_recommendations_for_each_need(session: Session) -> None:
    alice = _customer(session, ALICE).id

    def codes(need: str | None, customer_id: int = alice) -> list[str]:
        return [option.code for option in plan_change.recommend_plans(session, customer_id, need)]

    assert codes(None) == ["BASIC5", "UNLPLUS", "FAMILY4"]  # offered, not current, by price
    assert codes("more_data") == ["UNLPLUS", "FAMILY4"]
    assert codes("faster") == ["UNLPLUS"]
    assert codes("cheaper") == ["BASIC5"]
    assert codes("family_lines") == ["FAMILY4"]

    hiro = _customer(session, HIRO).id
    assert codes("cheaper", hiro) == ["BASIC5", "EVERY20"]  # cheapest first
    assert codes("more_data", hiro) == []  # nothing beats unlimited
    ines = _customer(session, INES).id
    assert "START2" not in codes(None, ines)

    unlimited = plan_change.recommend_plans(session, alice, "faster")[0]
    assert unlimited.comparison == (
        "+$25.00/month, unlimited data instead of 20 GB, 300 Mbps instead of 150"
    )
    assert (unlimited.name, unlimited.monthly_price, unlimited.price_difference) == (
        "Unlimited Plus", Decimal("70.00"), Decimal("25.00"),
    )  # fmt: skip
    assert (unlimited.data_gb, unlimited.minutes, unlimited.speed_mbps, unlimited.lines) == (
        None, None, 300, 1,
    )  # fmt: skip
    assert "5G priority" in unlimited.features
    basic = plan_change.recommend_plans(session, alice, "cheaper")[0]
    assert basic.price_difference == Decimal("-20.00")
    assert basic.comparison == (
        "-$20.00/month, 5 GB data instead of 20 GB, 500 minutes instead of unlimited, "
        "50 Mbps instead of 150"
    )
    family = plan_change.recommend_plans(session, alice, "family_lines")[0]
    assert (
        family.comparison
        == "+$65.00/month, 80 GB shared data instead of 20 GB, 4 lines instead of 1"
    )
    with pytest.raises(ValueError, match="unknown need"):
        plan_change.recommend_plans(session, alice, "free_phone")


@pytest.mark.parametrize(
    ("text", "need"),
    [
        ("more data", "more_data"),
        ("more data mostly", "more_data"),
        ("I keep running out of gigs", "more_data"),
        ("faster internet", "faster"),
        ("I need faster speeds", "faster"),
        ("my connection is so slow", "faster"),
        ("something cheaper", "cheaper"),
        ("save money", "cheaper"),
        ("cheaper please", "cheaper"),
        ("my bill is too expensive", "cheaper"),
        ("family", "family_lines"),
        ("add lines for my kids", "family_lines"),
        ("I need lines for my family", "family_lines"),
        ("a plan for me and my wife", "family_lines"),
        ("family_lines", "family_lines"),
        ("price is what matters", "cheaper"),
        ("speed over price", "faster"),  # price-only words are the weakest cue
        ("more data for my kids", "family_lines"),
        ("hello", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_need(text: str | None, need: str | None) -> None:
    assert plan_change.parse_need(text) == need


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the unlimited one", "UNLPLUS"),
        ("Unlimited Plus", "UNLPLUS"),
        ("unlimited+", "UNLPLUS"),
        ("UNLPLUS", "UNLPLUS"),
        ("family plan", "FAMILY4"),
        ("the Family Share plan", "FAMILY4"),
        ("everyday 20gb", "EVERY20"),
        ("Everyday20GB", "EVERY20"),
        ("basic", "BASIC5"),
        ("i'd like the family share thing", "FAMILY4"),
        ("Starter 2GB", "START2"),
        ("something cheaper", None),
        ("Protect Plus", None),  # a device protection tier, not a mobile plan
        ("basic protection", None),
        ("", None),
    ],
)
def test_find_plan(session: Session, text: str, code: str | None) -> None:
    found = plan_change.find_plan(session, text)
    assert (found.code if found else None) == code


def test_find_plan_reports_legacy_plans(session: Session) -> None:
    starter = plan_change.find_plan(session, "the starter plan")
    assert starter == plan_change.PlanRef("START2", "Starter 2GB", Decimal("15.00"), False)
