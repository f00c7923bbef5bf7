"""Add-on subscriptions: catalog, list, add (pending, activated later), modify, cancel.

Runs on SQLite and PostgreSQL. Money is worked out by hand in the tests, not by the service.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quickconnect import jobs
from quickconnect.db import models as m
from quickconnect.db.models import utcnow
from quickconnect.db.session import unit_of_work
from quickconnect.services import changes
from quickconnect.services import subscriptions as subs
from quickconnect.services.subscriptions import (
    AlreadySubscribed,
    NothingToModify,
    NotSubscribed,
    UnknownService,
    UnknownTier,
)

ALICE = "QC-100001"  # no add-ons
HIRO = "QC-100008"  # StreamMax Premium 4K (200 days), World Calling 100 (150), Cloud Vault 100 GB


def _customer(session: Session, account_number: str) -> m.Customer:
    query = select(m.Customer).where(m.Customer.account_number == account_number)
    return session.execute(query).scalar_one()


def _count(session: Session, model: type[Any], **criteria: Any) -> int:
    query = select(func.count()).select_from(model).filter_by(**criteria)
    return int(session.execute(query).scalar_one())


def _subs(session: Session, customer_id: int, code: str) -> list[m.Subscription]:
    return list(
        session.execute(
            select(m.Subscription)
            .join(m.AddonService, m.AddonService.id == m.Subscription.addon_id)
            .where(m.Subscription.customer_id == customer_id, m.AddonService.code == code)
            .order_by(m.Subscription.id)
        ).scalars()
    )


def _cid(connection: Connection, account: str) -> int:
    with unit_of_work(connection) as session:
        return int(_customer(session, account).id)


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


def _add(connection: Connection, conversation_id: str, account: str, service: str, tier: str):
    with unit_of_work(connection) as session:
        _, proposed = subs.propose_add(
            session,
            conversation_id=conversation_id,
            customer_id=_customer(session, account).id,
            service_code=service,
            tier_code=tier,
        )
    return proposed


# --- catalog and list -------------------------------------------------------------------------


def test_catalog_has_fees_terms_and_tiers(session: Session) -> None:
    catalog = {s.code: s for s in subs.service_catalog(session)}
    assert set(catalog) == {"STREAM", "INTL", "CLOUD", "SECURE", "DATABOOST", "SPORTS"}
    stream = catalog["STREAM"]
    assert [(t.name, t.monthly_price) for t in stream.tiers] == [
        ("Standard", Decimal("9.99")),
        ("Premium 4K", Decimal("15.99")),
    ]
    assert (stream.activation_hours, stream.cancellation_fee) == (24, Decimal("5.00"))
    assert stream.cancellation_fee_months == 3
    assert catalog["CLOUD"].modification_fee == Decimal("2.00")
    assert len(catalog["SECURE"].tiers) == 1


def test_overview_lists_current_and_available(session: Session) -> None:
    hiro = _customer(session, HIRO)
    view = subs.overview(session, hiro.id)
    assert [(s.service_name, s.tier_name, s.monthly_price, s.status) for s in view.current] == [
        ("StreamMax", "Premium 4K", Decimal("15.99"), "active"),
        ("World Calling", "100 minutes", Decimal("5.00"), "active"),
        ("Cloud Vault", "100 GB", Decimal("2.99"), "active"),
    ]
    assert [s.name for s in view.available] == ["SecureNet", "Data Boost", "TV Sports Pack"]
    alice = subs.overview(session, _customer(session, ALICE).id)
    assert alice.current == () and len(alice.available) == 6


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("the netflix thing", "STREAM"),
        ("netflix thing", "STREAM"),
        ("StreamMax", "STREAM"),
        ("my streammax subscription", "STREAM"),
        ("intl calls", "INTL"),
        ("International Minutes", "INTL"),
        ("the cloud thing", "CLOUD"),
        ("cloud vault please", "CLOUD"),
        ("the antivirus thing", "SECURE"),
        ("data add-on", "DATABOOST"),
        ("data add on", "DATABOOST"),
        ("the sports thing", "SPORTS"),
        ("cancel my tv sports pack please", "SPORTS"),
        ("I want to add StreamMax", "STREAM"),
        ("something else", None),
        ("", None),
        (None, None),
    ],
)
def test_find_service(text: str | None, code: str | None) -> None:
    assert subs.find_service(text) == code


@pytest.mark.parametrize(
    ("service", "text", "tier"),
    [
        ("STREAM", "premium 4k", "STREAM_PREM"),
        ("STREAM", "the 4K one please", "STREAM_PREM"),
        ("STREAM", "standard", "STREAM_STD"),
        ("INTL", "500 minutes", "INTL_500"),
        ("INTL", "the 100 one", "INTL_100"),
        ("CLOUD", "1TB", "CLOUD_1TB"),
        ("CLOUD", "100 gb", "CLOUD_100"),
        ("SPORTS", "sports plus", "SPORTS_PLUS"),
        ("SPORTS", "just sports", "SPORTS_STD"),
        ("DATABOOST", "15 GB", "BOOST_15"),
        ("STREAM", "whatever", None),
    ],
)
def test_find_tier(session: Session, service: str, text: str, tier: str | None) -> None:
    found = subs.find_tier(subs.get_service(session, service), text)
    assert (found.code if found else None) == tier


# --- adding -----------------------------------------------------------------------------------


def test_add_quote_shows_price_terms_and_activation(session: Session) -> None:
    alice = _customer(session, ALICE)
    alice.billing_cycle_day = 1
    session.flush()
    now = datetime(2026, 11, 22, 10, 0, tzinfo=subs.UTC)
    quote = subs.quote_add(session, alice.id, "SPORTS", "SPORTS_PLUS", now=now)
    assert quote.expected_activation == now + timedelta(hours=24)
    assert quote.next_bill_date == date(2026, 12, 1)
    assert quote.summary == (
        "Add TV Sports Pack Sports Plus at $19.99/month: Live sports channels on the "
        "QuickConnect TV app. It's usually live within 24 hours (expected by 23 Nov 2026, "
        "10:00 UTC) and we'll let you know as soon as it is. You pay from the day it goes live; "
        "your next bill, on 1 Dec 2026, includes the days from then. Terms: Monthly rolling; "
        "cancel any time. Fees: changing the tier later costs $3.00; no cancellation fee."
    )
    # a single-tier service needs no tier; a multi-tier one does
    assert subs.quote_add(session, alice.id, "SECURE").tier.code == "SECURE_STD"
    with pytest.raises(UnknownTier, match="Standard \\(\\$9.99/month\\), Premium 4K"):
        subs.quote_add(session, alice.id, "STREAM")
    with pytest.raises(UnknownService):
        subs.quote_add(session, alice.id, "GOLDFISH")


def test_add_is_pending_until_confirmed_then_created_once(
    connection: Connection, conversation_id: str
) -> None:
    alice_id = _cid(connection, ALICE)
    proposed = _add(connection, conversation_id, ALICE, "STREAM", "STREAM_STD")
    with unit_of_work(connection) as session:
        assert _subs(session, alice_id, "STREAM") == []  # nothing before the yes

    before = utcnow()
    outcome = _confirm(connection, conversation_id, proposed)
    assert outcome.status == "applied"
    assert outcome.result["status"] == "pending_activation"
    with unit_of_work(connection) as session:
        [sub] = _subs(session, alice_id, "STREAM")
        assert (sub.status, sub.monthly_price, sub.activated_at) == (
            "pending_activation",
            Decimal("9.99"),
            None,
        )
        assert before + timedelta(hours=24) <= sub.activates_at <= utcnow() + timedelta(hours=24)
        assert _count(
            session, m.ConsentRecord, customer_id=alice_id, change_kind="subscription_add"
        )
        assert _count(session, m.InteractionLog, customer_id=alice_id, kind="subscription_add") == 1
        outbox = session.execute(
            select(m.NotificationOutbox.subject).where(m.NotificationOutbox.customer_id == alice_id)
        ).all()
        assert [row[0] for row in outbox] == ["Your QuickConnect StreamMax order"]

    again = _confirm(connection, conversation_id, proposed)
    assert again.status == "already_applied"
    with unit_of_work(connection) as session:
        assert len(_subs(session, alice_id, "STREAM")) == 1
        assert _count(session, m.ConsentRecord, customer_id=alice_id) == 1


def test_no_duplicate_live_subscription_to_the_same_service(
    connection: Connection, conversation_id: str
) -> None:
    hiro_id = _cid(connection, HIRO)
    with unit_of_work(connection) as session, pytest.raises(AlreadySubscribed):
        subs.quote_add(session, hiro_id, "STREAM", "STREAM_STD")  # Hiro has it already

    # Two offers made before either is accepted: only the first yes creates a subscription.
    first = _add(connection, conversation_id, ALICE, "CLOUD", "CLOUD_100")
    second = _add(connection, conversation_id + "-b", ALICE, "CLOUD", "CLOUD_1TB")
    assert _confirm(connection, conversation_id, first).status == "applied"
    with pytest.raises(AlreadySubscribed):
        _confirm(connection, conversation_id + "-b", second)
    alice_id = _cid(connection, ALICE)
    with unit_of_work(connection) as session:
        assert [s.status for s in _subs(session, alice_id, "CLOUD")] == ["pending_activation"]
        assert _count(session, m.ConsentRecord, customer_id=alice_id) == 1


def test_the_database_refuses_a_second_live_row(connection: Connection) -> None:
    with unit_of_work(connection) as session:
        [stream] = _subs(session, _customer(session, HIRO).id, "STREAM")
        values = {c: getattr(stream, c) for c in ("customer_id", "addon_id", "tier_id")}
    with pytest.raises(IntegrityError), unit_of_work(connection) as session:
        session.add(m.Subscription(status="pending_activation", monthly_price=1, **values))
        session.flush()
    # a cancelled row does not count
    with unit_of_work(connection) as session:
        session.add(m.Subscription(status="cancelled", monthly_price=1, **values))
        session.flush()


def test_activation_job_makes_it_live_once_and_tells_the_customer(
    connection: Connection, conversation_id: str
) -> None:
    alice_id = _cid(connection, ALICE)
    _confirm(
        connection, conversation_id, _add(connection, conversation_id, ALICE, "INTL", "INTL_500")
    )
    with unit_of_work(connection) as session:
        [sub] = _subs(session, alice_id, "INTL")
        due = sub.activates_at  # World Calling: 2 hours
    with unit_of_work(connection) as session:
        assert subs.activate_due_subscriptions(session, now=due - timedelta(minutes=1)) == []
    with unit_of_work(connection) as session:
        assert subs.activate_due_subscriptions(session, now=due) == ["QC-100001 World Calling"]
    with unit_of_work(connection) as session:
        assert subs.activate_due_subscriptions(session, now=due + timedelta(days=1)) == []
        [sub] = _subs(session, alice_id, "INTL")
        assert sub.status == "active" and sub.activated_at is not None
        live = session.execute(
            select(m.NotificationOutbox.subject, m.NotificationOutbox.channel).where(
                m.NotificationOutbox.customer_id == alice_id,
                m.NotificationOutbox.subject == "Your World Calling is live",
            )
        ).all()
        assert live == [("Your World Calling is live", "email")]
        assert _count(session, m.InteractionLog, customer_id=alice_id, outcome="activated") == 1


def test_jobs_cli_activate_due_and_run_due(
    connection: Connection, conversation_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    alice_id = _cid(connection, ALICE)
    _confirm(
        connection,
        conversation_id,
        _add(connection, conversation_id, ALICE, "SECURE", "SECURE_STD"),
    )
    assert jobs.main(["activate-due"], bind=connection) == 0  # 24 hours to go: not yet
    assert "no subscriptions due" in capsys.readouterr().out
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    assert jobs.main(["run-due", "--today", tomorrow], bind=connection) == 0
    out = capsys.readouterr().out
    assert "apply-due" in out and "activated 1: QC-100001 SecureNet" in out
    assert f"disconnect-due ({tomorrow}): no disconnections due" in out  # run-due runs it too
    assert jobs.main(["run-due", "--today", tomorrow], bind=connection) == 0
    assert "no subscriptions due" in capsys.readouterr().out
    with unit_of_work(connection) as session:
        assert [s.status for s in _subs(session, alice_id, "SECURE")] == ["active"]


# --- modifying --------------------------------------------------------------------------------


def test_modify_quote_shows_bill_impact_and_fee(session: Session) -> None:
    hiro = _customer(session, HIRO)
    hiro.billing_cycle_day = 1
    session.flush()
    # 22..30 Nov: 9 of 30 days left. Cloud Vault 100 GB $2.99 -> 1 TB $9.99: 7.00 * 9/30 = 2.10
    quote = subs.quote_modify(session, hiro.id, "CLOUD", today=date(2026, 11, 22))
    assert quote.to_tier.code == "CLOUD_1TB"  # the other tier of a two-tier service
    assert (quote.remaining_days, quote.cycle_days) == (9, 30)
    assert quote.prorated_amount == Decimal("2.10")
    assert quote.modification_fee == Decimal("2.00")
    assert quote.bill_impact == Decimal("4.10")
    assert quote.summary == (
        "Change Cloud Vault from 100 GB ($2.99/month) to 1 TB ($9.99/month), effective today: "
        "your monthly price goes up by $7.00 to $9.99; your bill of 1 Dec 2026 includes a "
        "prorated charge of $2.10 for the 9 days left in this billing cycle and a one-time "
        "modification fee of $2.00 (total +$4.10)."
    )
    # StreamMax Premium 4K $15.99 -> Standard $9.99: -6.00 * 9/30 = -1.80, no fee
    down = subs.quote_modify(session, hiro.id, "STREAM", "STREAM_STD", today=date(2026, 11, 22))
    assert (down.prorated_amount, down.modification_fee) == (Decimal("-1.80"), Decimal("0.00"))
    assert "goes down by $6.00" in down.summary and "prorated credit of $1.80" in down.summary


def test_modify_refusals(session: Session) -> None:
    hiro = _customer(session, HIRO)
    with pytest.raises(NotSubscribed, match="don't have TV Sports Pack.*StreamMax, World"):
        subs.quote_modify(session, hiro.id, "SPORTS", "SPORTS_PLUS")
    with pytest.raises(NothingToModify, match="already Premium 4K"):
        subs.quote_modify(session, hiro.id, "STREAM", "STREAM_PREM")
    with pytest.raises(UnknownTier):
        subs.quote_modify(session, hiro.id, "STREAM", "CLOUD_1TB")


def test_confirmed_modification_changes_tier_price_and_fee_once(
    connection: Connection, conversation_id: str
) -> None:
    hiro_id = _cid(connection, HIRO)
    with unit_of_work(connection) as session:
        quote, proposed = subs.propose_modify(
            session, conversation_id=conversation_id, customer_id=hiro_id, service_code="CLOUD"
        )
    assert _confirm(connection, conversation_id, proposed).status == "applied"
    assert _confirm(connection, conversation_id, proposed).status == "already_applied"
    with unit_of_work(connection) as session:
        [cloud] = _subs(session, hiro_id, "CLOUD")
        tier = session.get(m.AddonTier, cloud.tier_id)
        assert (tier.code, cloud.monthly_price, cloud.fee_charged) == (
            "CLOUD_1TB",
            Decimal("9.99"),
            Decimal("2.00"),
        )
        assert _count(session, m.InteractionLog, customer_id=hiro_id, kind="subscription_modify")
    assert quote.bill_impact == quote.prorated_amount + Decimal("2.00")


def test_modifying_a_pending_subscription_has_no_fee(
    connection: Connection, conversation_id: str
) -> None:
    _confirm(
        connection, conversation_id, _add(connection, conversation_id, ALICE, "CLOUD", "CLOUD_100")
    )
    with unit_of_work(connection) as session:
        alice_id = _customer(session, ALICE).id
        quote = subs.quote_modify(session, alice_id, "CLOUD", "CLOUD_1TB")
        assert quote.pending and quote.bill_impact == Decimal("0.00")
        assert "isn't live yet, so there's no fee" in quote.summary


def test_single_tier_service_cannot_be_modified(
    connection: Connection, conversation_id: str
) -> None:
    _confirm(
        connection,
        conversation_id,
        _add(connection, conversation_id, ALICE, "SECURE", "SECURE_STD"),
    )
    with unit_of_work(connection) as session, pytest.raises(NothingToModify, match="one version"):
        subs.quote_modify(session, _customer(session, ALICE).id, "SECURE")


# --- cancelling -------------------------------------------------------------------------------


def test_cancel_quote_refunds_the_unused_prepaid_days(session: Session) -> None:
    hiro = _customer(session, HIRO)
    hiro.billing_cycle_day = 1
    session.flush()
    # StreamMax for 200 days: past the 3-month fee period. 9 of 30 days left: 15.99*9/30 = 4.797
    quote = subs.quote_cancel(session, hiro.id, "STREAM", today=date(2026, 11, 22))
    assert (quote.cancellation_fee, quote.refund, quote.usage_charge) == (
        Decimal("0.00"),
        Decimal("4.80"),
        Decimal("0.00"),
    )
    assert quote.net_adjustment == Decimal("-4.80")
    assert quote.summary == (
        "Cancel StreamMax Premium 4K ($15.99/month), effective today: no cancellation fee "
        "(you've had it more than 3 months); a refund of $4.80 for the 9 unused days of this "
        "billing cycle; a credit of $4.80 on your bill of 1 Dec 2026."
    )
    assert "stops today" in quote.what_next
    with pytest.raises(NotSubscribed):
        subs.quote_cancel(session, hiro.id, "SPORTS")


def test_cancelling_twice_does_not_refund_twice(
    connection: Connection, conversation_id: str
) -> None:
    hiro_id = _cid(connection, HIRO)
    proposals = []
    for conv in (conversation_id, conversation_id + "-b"):  # two chats, both shown the refund
        with unit_of_work(connection) as session:
            proposals.append(
                subs.propose_cancel(
                    session, conversation_id=conv, customer_id=hiro_id, service_code="INTL"
                )
            )
    (quote, first), (_, second) = proposals
    assert _confirm(connection, conversation_id, first).status == "applied"
    assert _confirm(connection, conversation_id, first).status == "already_applied"
    with pytest.raises(NotSubscribed, match="already cancelled"):
        _confirm(connection, conversation_id + "-b", second)
    with unit_of_work(connection) as session:
        [intl] = _subs(session, hiro_id, "INTL")
        assert intl.status == "cancelled" and intl.cancelled_at is not None
        assert intl.refund_amount == quote.refund > 0
        assert _count(session, m.ConsentRecord, customer_id=hiro_id) == 1
        assert _count(session, m.InteractionLog, customer_id=hiro_id, kind="subscription_cancel")
        cancelled_mails = session.execute(
            select(func.count()).where(
                m.NotificationOutbox.customer_id == hiro_id,
                m.NotificationOutbox.subject == "Your World Calling has been cancelled",
            )
        ).scalar_one()
        assert cancelled_mails == 1
        with pytest.raises(NotSubscribed):
            subs.quote_cancel(session, hiro_id, "INTL")
    # and it can be added again later: the old row is no longer live
    _confirm(
        connection, conversation_id, _add(connection, conversation_id, HIRO, "INTL", "INTL_100")
    )
    with unit_of_work(connection) as session:
        assert [s.status for s in _subs(session, hiro_id, "INTL")] == [
            "cancelled",
            "pending_activation",
        ]


def test_early_cancellation_fee_within_the_minimum_period(
    connection: Connection, conversation_id: str
) -> None:
    alice_id = _cid(connection, ALICE)
    _confirm(
        connection,
        conversation_id,
        _add(connection, conversation_id, ALICE, "STREAM", "STREAM_STD"),
    )
    with unit_of_work(connection) as session:
        subs.activate_due_subscriptions(session, now=utcnow() + timedelta(days=2))
        quote = subs.quote_cancel(session, alice_id, "STREAM")
    # live since today: within 3 months, so the $5.00 fee; no prepaid days to refund yet
    assert quote.cancellation_fee == Decimal("5.00")
    assert quote.refund == Decimal("0.00")
    assert "a $5.00 cancellation fee applies (within the first 3 months)" in quote.summary


def test_cancelling_before_activation_costs_nothing(
    connection: Connection, conversation_id: str
) -> None:
    alice_id = _cid(connection, ALICE)
    _confirm(
        connection,
        conversation_id,
        _add(connection, conversation_id, ALICE, "STREAM", "STREAM_PREM"),
    )
    with unit_of_work(connection) as session:
        quote, proposed = subs.propose_cancel(
            session, conversation_id=conversation_id, customer_id=alice_id, service_code="STREAM"
        )
    assert quote.pending and quote.net_adjustment == Decimal("0.00")
    assert "won't be activated" in quote.what_next
    assert _confirm(connection, conversation_id, proposed).status == "applied"
    with unit_of_work(connection) as session:
        [stream] = _subs(session, alice_id, "STREAM")
        assert (stream.status, stream.refund_amount, stream.fee_charged) == (
            "cancelled",
            Decimal("0.00"),
            None,
        )
        # the activation job never turns a cancelled order on
        assert subs.activate_due_subscriptions(session, now=utcnow() + timedelta(days=3)) == []


# --- reading a request from the chat ------------------------------------------------------------


def test_check_request_resolves_loose_wording_and_explains_refusals(session: Session) -> None:
    hiro = _customer(session, HIRO).id
    add = subs.check_request(session, hiro, "add", "the sports thing", "add the sports thing plus")
    assert (add.service.code, add.tier.code, add.problem) == ("SPORTS", "SPORTS_PLUS", None)
    # "sports pack" names the service, not the tier "Sports": the tier is still to be chosen
    undecided = subs.check_request(session, hiro, "add", "sports pack", "add the sports pack")
    assert (undecided.service.code, undecided.tier) == ("SPORTS", None)
    assert subs.check_request(session, hiro, "add", "netflix").problem.startswith(
        "You already have StreamMax"
    )
    modify = subs.check_request(session, hiro, "modify", "intl calls", "more minutes on intl calls")
    assert modify.tier.code == "INTL_500"  # the other tier of a two-tier service
    missing = subs.check_request(session, hiro, "cancel", "tv sports", "cancel tv sports")
    assert missing.service is None
    assert missing.problem == (
        "You don't have TV Sports Pack on your account. Your add-ons are: StreamMax, "
        "World Calling, Cloud Vault."
    )
    unknown = subs.check_request(session, hiro, "cancel", "gym membership")
    assert unknown.problem == 'I couldn\'t find an add-on service called "gym membership".'
    assert [t.code for t in subs.tier_choices(session, hiro, "modify", "STREAM")] == ["STREAM_STD"]
    assert len(subs.tier_choices(session, hiro, "add", "STREAM")) == 2
