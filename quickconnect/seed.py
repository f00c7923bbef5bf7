"""Catalog and demo data: `python -m quickconnect.seed` migrates, seeds and lists the demos.

Idempotent: catalog rows are keyed on their codes and kept equal to quickconnect/catalog.py;
demo rows are keyed on natural keys (account number, plan/claim numbers, labels...), and
dated history (bills, usage, plan history) is only created for a customer who has none, so
running the seed again creates nothing and changes nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quickconnect import catalog
from quickconnect.billing_cycle import add_months, cycle_start
from quickconnect.config import load_settings
from quickconnect.db import models as m
from quickconnect.db.migrate import upgrade
from quickconnect.db.session import make_engine, unit_of_work
from quickconnect.identifiers import hash_answer, hash_secret

PET_QUESTION = "What was the name of your first pet?"
CITY_QUESTION = "In what city were you born?"
BILL_DUE_DAYS = 10  # a bill is due this many days after its period ends

DEMO_AGENT_USERNAME = "agent.demo"
DEMO_AGENT_DISPLAY_NAME = "Sam (Support)"
DEMO_AGENT_PASSWORD = "demo-agent-pass"  # demo only; the database keeps an Argon2id hash
# The support lead: the agent console plus the insights pages (role 'lead').
DEMO_LEAD_USERNAME = "lead.demo"
DEMO_LEAD_DISPLAY_NAME = "Robin (Support lead)"
DEMO_LEAD_PASSWORD = "demo-lead-pass"  # demo only


@dataclass(frozen=True)
class DemoBill:
    cycles_ago: int  # 1 = the period that ended most recently
    amount: str
    status: str = "paid"


@dataclass(frozen=True)
class DemoCustomer:
    """One demo account and the scenario it exists to show."""

    account_number: str
    first_name: str
    last_name: str
    phone: str
    address: str
    area: str
    plan_code: str
    question: str
    answer: str
    bills: tuple[DemoBill, ...]
    scenario: str
    payment_method: tuple[str, str] | None  # (kind, label)
    cycle_offset_days: int = 12  # how long ago the current billing period started
    preferred_contact: str = "email"
    usage: tuple[str, int, str] = ("6.40", 210, "142.5")  # data GB, minutes, avg Mbps
    login_lock: tuple[str, int, str] | None = None  # (reason, failed attempts, note)
    previous_plan_code: str | None = None  # plan changed 10 days ago, from this one
    extras: tuple[str, ...] = field(default_factory=tuple)  # names of extra seed steps

    @property
    def email(self) -> str:
        return f"{self.first_name.lower()}.{self.last_name.lower()}@example.com"

    @property
    def last_bill(self) -> Decimal:
        return Decimal(min(self.bills, key=lambda bill: bill.cycles_ago).amount)


def _paid(*amounts: str) -> tuple[DemoBill, ...]:
    """Paid bills, most recent first."""
    return tuple(DemoBill(index + 1, amount) for index, amount in enumerate(amounts))


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer(
        "QC-100001", "Alice", "Martin", "+15550100001", "12 Market Street, Springfield",
        "Downtown", "EVERY20", PET_QUESTION, "Biscuit", _paid("84.20", "81.45", "84.20"),
        "good standing; Pixel 8 in Protect Plus DP-300101, claims CL-500101 (open), "
        "CL-500102 (approved)",
        ("card", "Visa ending 4242"),
        usage=("12.80", 340, "138.2"),
        extras=("alice_device_protection",),
    ),
    DemoCustomer(
        "QC-100002", "Bruno", "Silva", "+15550100002", "48 Harbour Road, Springfield",
        "Harbourside", "EVERY20", CITY_QUESTION, "Porto", _paid("45.00", "45.00", "45.00"),
        "login locked after 5 failed logins (can be unlocked once verified)",
        ("card", "Visa ending 1881"),
        preferred_contact="sms",
        login_lock=("failed_logins", 5, "Locked automatically after 5 failed sign-in attempts."),
    ),
    DemoCustomer(
        "QC-100003", "Chen", "Wei", "+15550100003", "7 Orchard Lane, Springfield",
        "Northside", "UNLPLUS", PET_QUESTION, "Mochi", _paid("70.00", "70.00", "70.00"),
        "login locked: security hold (suspicious sign-in), must be escalated",
        ("card", "Mastercard ending 3010"),
        usage=("41.30", 95, "268.0"),
        login_lock=(
            "security_hold", 0,
            "Security hold: suspicious sign-in from a new country. Needs the security team.",
        ),
    ),
    DemoCustomer(
        "QC-100004", "Dana", "Okafor", "+15550100004", "230 Mill Street, Springfield",
        "Eastgate", "EVERY20", CITY_QUESTION, "Lagos",
        (
            DemoBill(1, "63.20", "overdue"),
            DemoBill(2, "63.20", "overdue"),
            DemoBill(3, "63.20", "paid"),
        ),
        "suspended for non-payment: two overdue bills, 126.40 in total",
        ("card", "Mastercard ending 5454"),
        cycle_offset_days=20,
    ),
    DemoCustomer(
        "QC-100005", "Elif", "Yilmaz", "+15550100005", "5 Canal Walk, Springfield",
        "Southbank", "EVERY20", PET_QUESTION, "Pamuk", _paid("45.00", "45.00", "45.00"),
        "suspended for a terms violation (hotspot resold, AUP 4.2)",
        ("card", "Visa ending 7007"),
        usage=("19.90", 60, "121.7"),
    ),
    DemoCustomer(
        "QC-100006", "Farid", "Haddad", "+15550100006", "91 Station Road, Springfield",
        "Westfield", "BASIC5", CITY_QUESTION, "Beirut", _paid("25.00", "25.00", "25.00"),
        "requested disconnection, pending: final bill and router return",
        ("bank", "Bank account ending 6011"),
        usage=("1.20", 45, "48.9"),
    ),
    DemoCustomer(
        "QC-100007", "Grace", "Kim", "+15550100007", "16 Willow Crescent, Springfield",
        "Riverside", "UNLPLUS", PET_QUESTION, "Kimchi", _paid("70.00", "70.00", "70.00"),
        "no service: fibre cut in Riverside (active alert, fix in ~6 hours)",
        ("card", "Visa ending 2323"),
        preferred_contact="sms",
        usage=("22.10", 130, "35.4"),
        extras=("riverside_outage",),
    ),
    DemoCustomer(
        "QC-100008", "Hiro", "Tanaka", "+15550100008", "3 Temple Court, Springfield",
        "Downtown", "UNLPLUS", CITY_QUESTION, "Osaka", _paid("112.97", "112.97", "105.98"),
        "Unlimited Plus with StreamMax Premium 4K, World Calling 100, Cloud Vault 100 GB",
        ("card", "Amex ending 0005"),
        usage=("58.60", 420, "281.3"),
        extras=("hiro_addons",),
    ),
    DemoCustomer(
        "QC-100009", "Ines", "Duarte", "+15550100009", "77 Beacon Hill, Springfield",
        "Northside", "EVERY20", PET_QUESTION, "Tico", _paid("45.00", "15.00", "15.00"),
        "changed plan this cycle: Starter 2GB (legacy) -> Everyday 20GB, 10 days ago; "
        "Galaxy S23 and iPad Air on file, no device protection yet",
        ("card", "Visa ending 9090"),
        cycle_offset_days=20,
        usage=("4.70", 150, "133.0"),
        previous_plan_code="START2",
        extras=("ines_devices",),
    ),
    DemoCustomer(
        "QC-100010", "Jonas", "Berg", "+15550100010", "19 Fjord Street, Springfield",
        "Eastgate", "UNLPLUS", CITY_QUESTION, "Bergen", (DemoBill(1, "90.00", "overdue"),),
        "suspended for non-payment (90.00 overdue), no payment method on file",
        None,
        cycle_offset_days=25,
    ),
)  # fmt: skip


# --- helpers ---------------------------------------------------------------------------------


def _one(session: Session, entity: type[Any], /, **criteria: Any) -> Any:
    return session.execute(select(entity).filter_by(**criteria)).scalar_one_or_none()


def _has_rows(session: Session, entity: type[Any], /, **criteria: Any) -> bool:
    query = select(entity).filter_by(**criteria).limit(1)
    return session.execute(query).first() is not None


def _sync(session: Session, entity: type[Any], key: dict[str, Any], values: dict[str, Any]) -> Any:
    """Insert the row with natural key `key`, or update it so it equals `values`."""
    row = _one(session, entity, **key)
    if row is None:
        row = entity(**key, **values)
        session.add(row)
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    session.flush()
    return row


def _ensure(session: Session, entity: type[Any], key: dict[str, Any], /, **values: Any) -> Any:
    """Insert the row with natural key `key` unless it exists; never update demo rows."""
    row = _one(session, entity, **key)
    if row is None:
        row = entity(**key, **values)
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class _Clock:
    """'Now' for one seed run; demo dates are relative to it."""

    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()

    def days_ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def at_start(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=self.now.tzinfo)


# --- catalog ---------------------------------------------------------------------------------


def seed_catalog(session: Session) -> None:
    """Plans, add-ons and protection tiers exactly as in quickconnect/catalog.py."""
    for plan in catalog.PLANS:
        _sync(
            session,
            m.ServicePlan,
            {"code": plan.code},
            {
                "name": plan.name,
                "monthly_price": plan.monthly_price,
                "data_gb": plan.data_gb,
                "minutes": plan.minutes,
                "speed_mbps": plan.speed_mbps,
                "lines": plan.lines,
                "features": list(plan.features),
                "offered": plan.offered,
            },
        )
    for addon in catalog.ADDONS:
        service = _sync(
            session,
            m.AddonService,
            {"code": addon.code},
            {
                "name": addon.name,
                "category": addon.category,
                "description": addon.description,
                "activation_hours": addon.activation_hours,
                "modification_fee": addon.modification_fee,
                "cancellation_fee": addon.cancellation_fee,
                "terms": addon.terms,
            },
        )
        for tier in addon.tiers:
            _sync(
                session,
                m.AddonTier,
                {"code": tier.code},
                {"addon_id": service.id, "name": tier.name, "monthly_price": tier.monthly_price},
            )
    for tier in catalog.PROTECTION_TIERS:
        _sync(
            session,
            m.ProtectionTier,
            {"code": tier.code},
            {
                "name": tier.name,
                "monthly_price": tier.monthly_price,
                "deductible": tier.deductible,
                "covers": list(tier.covers),
                "device_types": list(tier.device_types),
                "max_device_value": tier.max_device_value,
            },
        )


# --- demo customers ----------------------------------------------------------------------------


def _service_situation(account_number: str, clock: _Clock) -> dict[str, Any]:
    """Cut-off state a demo account starts in (applied only when its row is created)."""
    situations: dict[str, dict[str, Any]] = {
        "QC-100004": {
            "status": "suspended",
            "cutoff_reason": "non_payment",
            "since": clock.days_ago(3),
            "note": "Suspended after two bills went unpaid past their due dates.",
        },
        "QC-100005": {
            "status": "suspended",
            "cutoff_reason": "terms_violation",
            "violated_term": "Acceptable Use Policy section 4.2: reselling or sharing the "
            "connection commercially (hotspot used to resell service)",
            "remediation_steps": "Stop reselling or commercially sharing the connection and "
            "remove the paid hotspot access, then confirm in this chat that you accept the "
            "Acceptable Use Policy. After a review, service is restored within 24 hours.",
            "since": clock.days_ago(2),
            "note": "Hotspot traffic from dozens of devices matched a paid resale pattern.",
        },
        "QC-100006": {
            "status": "pending_disconnection",
            "cutoff_reason": "requested_disconnection",
            "since": clock.days_ago(4),
            "disconnection_date": clock.today + timedelta(days=5),
            "final_bill_amount": Decimal("18.50"),
            "equipment_return": "Return the QuickConnect router within 14 days using the "
            "prepaid label",
            "note": "Customer moving abroad; asked for disconnection by phone.",
        },
        "QC-100007": {
            "status": "outage",
            "cutoff_reason": "technical_issue",
            "since": clock.days_ago(2 / 24),
            "note": "Affected by the Riverside fibre cut (see service alerts).",
        },
        "QC-100010": {
            "status": "suspended",
            "cutoff_reason": "non_payment",
            "since": clock.days_ago(8),
            "note": "Suspended for an overdue bill; no payment method on file.",
        },
    }
    return situations.get(account_number, {"status": "active", "since": clock.days_ago(800)})


def _seed_customer(
    session: Session,
    demo: DemoCustomer,
    clock: _Clock,
    *,
    situation_of: str | None = None,
    answer_hash: str | None = None,
) -> m.Customer:
    cycle_day = min((clock.today - timedelta(days=demo.cycle_offset_days)).day, 28)
    customer = _ensure(
        session,
        m.Customer,
        {"account_number": demo.account_number},
        first_name=demo.first_name,
        last_name=demo.last_name,
        address=demo.address,
        area=demo.area,
        email=demo.email,
        phone=demo.phone,
        preferred_contact=demo.preferred_contact,
        billing_cycle_day=cycle_day,
        created_at=clock.days_ago(900),
    )
    if demo.payment_method is not None:
        kind, label = demo.payment_method
        _ensure(
            session,
            m.PaymentMethod,
            {"customer_id": customer.id, "label": label},
            kind=kind,
            is_default=True,
            created_at=clock.days_ago(800),
        )
    lock: dict[str, Any] = {"locked": False, "lock_reason": "none", "failed_attempts": 0}
    if demo.login_lock is not None:
        reason, attempts, note = demo.login_lock
        lock = {
            "locked": True,
            "lock_reason": reason,
            "failed_attempts": attempts,
            "locked_at": clock.days_ago(0.05),
            "note": note,
        }
    _ensure(session, m.LoginState, {"customer_id": customer.id}, **lock)
    _ensure(
        session,
        m.SecurityQuestion,
        {"customer_id": customer.id, "question": demo.question},
        answer_hash=answer_hash or hash_answer(demo.answer),
    )
    _ensure(
        session,
        m.ServiceStatus,
        {"customer_id": customer.id},
        **_service_situation(situation_of or demo.account_number, clock),
    )
    period_start = cycle_start(clock.today, customer.billing_cycle_day)
    if not _has_rows(session, m.AccountPlan, customer_id=customer.id):
        _seed_plan_history(session, customer, demo, period_start, clock)
    if not _has_rows(session, m.Bill, customer_id=customer.id):
        _seed_bills(session, customer, demo, period_start, clock)
    if not _has_rows(session, m.UsageRecord, customer_id=customer.id):
        data_gb, minutes, speed = demo.usage
        session.add(
            m.UsageRecord(
                customer_id=customer.id,
                period_start=period_start,
                data_used_gb=Decimal(data_gb),
                minutes_used=minutes,
                avg_speed_mbps=Decimal(speed),
            )
        )
    session.flush()
    return customer


def _seed_plan_history(
    session: Session, customer: m.Customer, demo: DemoCustomer, period_start: date, clock: _Clock
) -> None:
    """The active plan; with `previous_plan_code`, an ended plan and a prorated switch."""
    plan = _one(session, m.ServicePlan, code=demo.plan_code)
    if demo.previous_plan_code is None:
        session.add(
            m.AccountPlan(
                customer_id=customer.id,
                plan_id=plan.id,
                status="active",
                started_at=clock.days_ago(400),
            )
        )
        return
    previous = _one(session, m.ServicePlan, code=demo.previous_plan_code)
    changed_at = clock.days_ago(10)
    period_end = add_months(period_start, 1)
    share = Decimal((period_end - changed_at.date()).days) / (period_end - period_start).days
    session.add_all(
        [
            m.AccountPlan(
                customer_id=customer.id,
                plan_id=previous.id,
                status="ended",
                started_at=clock.days_ago(500),
                ended_at=changed_at,
            ),
            m.AccountPlan(
                customer_id=customer.id,
                plan_id=plan.id,
                status="active",
                started_at=changed_at,
                prorated_amount=((plan.monthly_price - previous.monthly_price) * share).quantize(
                    Decimal("0.01")
                ),
            ),
        ]
    )


def _seed_bills(
    session: Session, customer: m.Customer, demo: DemoCustomer, period_start: date, clock: _Clock
) -> None:
    for bill in demo.bills:
        start = add_months(period_start, -bill.cycles_ago)
        end = add_months(start, 1) - timedelta(days=1)
        amount = Decimal(bill.amount)
        due = end + timedelta(days=BILL_DUE_DAYS)
        row = m.Bill(
            customer_id=customer.id,
            period_start=start,
            period_end=end,
            amount=amount,
            due_date=due,
            status=bill.status,
            paid_amount=amount if bill.status == "paid" else Decimal("0.00"),
            created_at=clock.at_start(end + timedelta(days=1)),
        )
        session.add(row)
        session.flush()
        if bill.status == "paid":
            session.add(
                m.Payment(
                    customer_id=customer.id,
                    bill_id=row.id,
                    amount=amount,
                    method=demo.payment_method[1] if demo.payment_method else "Cash at store",
                    paid_at=clock.at_start(min(due - timedelta(days=3), clock.today)),
                    reference=f"SEED-{demo.account_number}-{bill.cycles_ago}",
                )
            )


def _alice_device_protection(session: Session, customer: m.Customer, clock: _Clock) -> None:
    device = _ensure(
        session,
        m.Device,
        {"serial_number": "GP8-QC100001-01"},
        customer_id=customer.id,
        device_type="phone",
        make="Google",
        model="Pixel 8",
        imei="356938035643809",
        purchase_date=clock.today - timedelta(days=260),
        value=Decimal("699.00"),
    )
    tier = _one(session, m.ProtectionTier, code="PROTECT_PLUS")
    card = _one(session, m.PaymentMethod, customer_id=customer.id, label="Visa ending 4242")
    # A second saved card, so the protection plan's payment method can be switched in chat.
    _ensure(
        session,
        m.PaymentMethod,
        {"customer_id": customer.id, "label": "Mastercard ending 8812"},
        kind="card",
        is_default=False,
        created_at=clock.days_ago(300),
    )
    plan = _ensure(
        session,
        m.ProtectionPlan,
        {"plan_number": "DP-300101"},
        customer_id=customer.id,
        tier_id=tier.id,
        status="active",
        enrolled_at=clock.days_ago(243),
        payment_method_id=card.id,
    )
    _ensure(
        session,
        m.ProtectionPlanDevice,
        {"plan_id": plan.id, "device_id": device.id},
        added_at=plan.enrolled_at,
    )
    _ensure(
        session,
        m.Claim,
        {"claim_number": "CL-500101"},
        protection_plan_id=plan.id,
        device_id=device.id,
        incident_type="accidental_damage",
        incident_date=clock.today - timedelta(days=3),
        description="Phone slipped off a table; the screen is cracked and touch stopped working.",
        pre_existing=False,
        status="under_review",
        estimated_decision_date=clock.today + timedelta(days=4),
        created_at=clock.days_ago(2),
    )
    _ensure(
        session,
        m.Claim,
        {"claim_number": "CL-500102"},
        protection_plan_id=plan.id,
        device_id=device.id,
        incident_type="mechanical_failure",
        incident_date=clock.today - timedelta(days=120),
        description="Battery swelled and the back cover lifted.",
        pre_existing=False,
        status="approved",
        resolution="replacement",
        resolution_note="Replacement Pixel 8 shipped; the faulty phone was returned with the "
        "prepaid label.",
        estimated_decision_date=clock.today - timedelta(days=112),
        decided_at=clock.days_ago(113),
        created_at=clock.days_ago(119),
    )


def _ines_devices(session: Session, customer: m.Customer, clock: _Clock) -> None:
    """Two devices on file and no protection plan: the device protection enrolment demo."""
    for serial, device_type, make, model, imei, days, value in (
        ("SGS23-QC100009-01", "phone", "Samsung", "Galaxy S23", "352099001761481", 90, "799.00"),
        ("IPAD-QC100009-02", "tablet", "Apple", "iPad Air", None, 400, "599.00"),
    ):
        _ensure(
            session,
            m.Device,
            {"serial_number": serial},
            customer_id=customer.id,
            device_type=device_type,
            make=make,
            model=model,
            imei=imei,
            purchase_date=clock.today - timedelta(days=days),
            value=Decimal(value),
        )


def _hiro_addons(session: Session, customer: m.Customer, clock: _Clock) -> None:
    for addon_code, tier_code, days in (
        ("STREAM", "STREAM_PREM", 200),
        ("INTL", "INTL_100", 150),
        ("CLOUD", "CLOUD_100", 90),
    ):
        addon = _one(session, m.AddonService, code=addon_code)
        tier = _one(session, m.AddonTier, code=tier_code)
        if _has_rows(session, m.Subscription, customer_id=customer.id, addon_id=addon.id):
            continue
        session.add(
            m.Subscription(
                customer_id=customer.id,
                addon_id=addon.id,
                tier_id=tier.id,
                status="active",
                monthly_price=tier.monthly_price,
                created_at=clock.days_ago(days),
                activates_at=clock.days_ago(days) + timedelta(hours=addon.activation_hours),
                activated_at=clock.days_ago(days) + timedelta(hours=1),
            )
        )


def _riverside_outage(session: Session, customer: m.Customer, clock: _Clock) -> None:
    _ensure(
        session,
        m.ServiceAlert,
        {
            "area": "Riverside",
            "description": "Fibre cut affecting mobile data and home broadband in Riverside; "
            "engineers are on site.",
        },
        started_at=clock.days_ago(2 / 24),
        estimated_resolution_at=clock.now + timedelta(hours=6),
        active=True,
    )
    _ensure(
        session,
        m.ServiceAlert,
        {"area": "Harbourside", "description": "Planned maintenance on the Harbourside mast."},
        started_at=clock.days_ago(30),
        estimated_resolution_at=clock.days_ago(29.8),
        active=False,
        resolved_at=clock.days_ago(29.8),
    )


_EXTRAS: dict[str, Callable[[Session, m.Customer, _Clock], None]] = {
    "alice_device_protection": _alice_device_protection,
    "ines_devices": _ines_devices,
    "hiro_addons": _hiro_addons,
    "riverside_outage": _riverside_outage,
}


def _seed_agent(session: Session) -> None:
    for username, name, password, role in (
        (DEMO_AGENT_USERNAME, DEMO_AGENT_DISPLAY_NAME, DEMO_AGENT_PASSWORD, "agent"),
        (DEMO_LEAD_USERNAME, DEMO_LEAD_DISPLAY_NAME, DEMO_LEAD_PASSWORD, "lead"),
    ):
        if _one(session, m.Agent, username=username) is None:
            session.add(
                m.Agent(
                    username=username,
                    display_name=name,
                    password_hash=hash_secret(password),
                    is_online=False,
                    role=role,
                )
            )


def seed(session: Session, *, now: datetime | None = None) -> None:
    """Load the catalog and the demo accounts; safe to run any number of times."""
    clock = _Clock(now or m.utcnow())
    seed_catalog(session)
    for demo in DEMO_CUSTOMERS:
        customer = _seed_customer(session, demo, clock)
        for extra in demo.extras:
            _EXTRAS[extra](session, customer, clock)
    _seed_agent(session)
    session.flush()


def seed_copies(
    session: Session, template: str, count: int, *, first: int, now: datetime | None = None
) -> list[str]:
    """`count` copies of the demo account `template`, numbered QC-<first>, QC-<first + 1>, ...

    For load tests (qa/capacity.py): every simulated customer gets an account of its own in
    the same situation (plan, bills, payment method, cut-off, security answer), so thousands
    of conversations can each change something without meeting. A copy has its own name,
    email and phone. One answer hash serves every copy of a template: hashing each would
    cost an Argon2 run per account (minutes for thousands), and copies are never real.
    """
    demo = next((d for d in DEMO_CUSTOMERS if d.account_number == template), None)
    if demo is None:
        raise ValueError(f"no demo account {template}")
    if not (first >= 100000 and first + count <= 1000000):
        raise ValueError("copies are numbered QC-100000 to QC-999999")
    clock = _Clock(now or m.utcnow())
    answer_hash = hash_answer(demo.answer)
    numbers = []
    for n in range(first, first + count):
        copy = replace(
            demo,
            account_number=f"QC-{n:06d}",
            last_name=f"{demo.last_name}{n}",
            phone=f"+1556{n:07d}",
            extras=(),
            login_lock=None,
        )
        _seed_customer(session, copy, clock, situation_of=template, answer_hash=answer_hash)
        numbers.append(copy.account_number)
    session.flush()
    return numbers


def table_counts(session: Session) -> dict[str, int]:
    """Rows per table; the idempotence check compares two of these."""
    return {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in m.Base.metadata.sorted_tables
    }


def demo_table() -> str:
    """The demo accounts as a text table (answers included: these are demo accounts)."""
    header = ("account", "name", "email", "phone", "last bill", "security answer", "scenario")
    rows = [
        (
            demo.account_number,
            f"{demo.first_name} {demo.last_name}",
            demo.email,
            demo.phone,
            f"{demo.last_bill:.2f}",
            f"{'pet' if demo.question == PET_QUESTION else 'city'}: {demo.answer}",
            demo.scenario,
        )
        for demo in DEMO_CUSTOMERS
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Migrate and seed the QuickConnect database.")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from settings)")
    args = parser.parse_args(argv)
    url = args.url or load_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            seed(session)
    finally:
        engine.dispose()
    print(demo_table())
    print(
        f"\nDemo agent: {DEMO_AGENT_USERNAME} / {DEMO_AGENT_PASSWORD}. "
        "Verify with the email, the last bill amount or the security answer."
    )


if __name__ == "__main__":
    main()
