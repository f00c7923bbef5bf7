"""ORM models for everything the five guides touch.

Portable on SQLite and PostgreSQL: enums are strings guarded by CHECK constraints, money is
Numeric(10, 2), JSON uses `sqlalchemy.JSON`, and every timestamp is a timezone-aware UTC
datetime (SQLite cannot store the zone, so `UTCDateTime` restores it on the way out).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base: Any = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> datetime:
    """Current time as an aware UTC datetime (the only kind the models store)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def Money() -> Numeric:  # noqa: N802 - reads like a type in column definitions
    """Currency amount with cents."""
    return Numeric(10, 2)


def one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> CheckConstraint:
    """CHECK constraint that keeps a string enum column to its allowed values."""
    allowed = ", ".join(f"'{value}'" for value in values)
    condition = f"{column} IN ({allowed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=f"{column}_allowed")


def customer_fk(nullable: bool = False, **kwargs: Any) -> Column:
    """The customer a row belongs to; rows go when the customer goes."""
    return Column(
        Integer,
        ForeignKey("customers.id", ondelete="CASCADE"),
        nullable=nullable,
        index=True,
        **kwargs,
    )


def created_at_column() -> Column:
    """Row creation time, set by the application in UTC."""
    return Column(UTCDateTime(), nullable=False, default=utcnow)


CONTACT_CHANNELS = ("email", "sms")
LOCK_REASONS = ("none", "failed_logins", "security_hold")
ACCOUNT_PLAN_STATUSES = ("active", "scheduled", "ended")
SUBSCRIPTION_STATUSES = ("pending_activation", "active", "cancelled")
PROTECTION_PLAN_STATUSES = ("active", "cancelled")
INCIDENT_TYPES = ("accidental_damage", "theft", "mechanical_failure", "other")
CLAIM_STATUSES = ("submitted", "under_review", "approved", "denied", "closed")
CLAIM_RESOLUTIONS = ("repair", "replacement", "reimbursement")
BILL_STATUSES = ("paid", "unpaid", "overdue")
PAYMENT_PLAN_STATUSES = ("active", "completed", "cancelled")
SERVICE_STATUSES = ("active", "suspended", "pending_disconnection", "disconnected", "outage")
CUTOFF_REASONS = (
    "none",
    "non_payment",
    "terms_violation",
    "requested_disconnection",
    "technical_issue",
)
TICKET_STATUSES = ("open", "in_progress", "resolved")
CASE_STATUSES = ("open", "assigned", "resolved")
# What a console account may open: 'agent' the queue, cases and lockouts; 'lead' also the
# insights pages (overview, funnels, conversation review, NLU inbox, exports).
AGENT_ROLES = ("agent", "lead")
# Where a case's chat is: not a live chat ('none': follow-up by email/SMS), waiting for an
# agent ('queued'), with an agent ('agent'), or back with the bot ('bot').
CASE_CHAT_STATES = ("none", "queued", "agent", "bot")
CASE_RESOLUTIONS = ("resolved", "handed_back")
CASE_REASONS = (
    "customer_request",
    "verification_failed",
    "repeated_misunderstanding",
    "guide_escalation",
    "system_error",
)
OUTBOX_STATUSES = ("queued", "sent", "failed")
CHANGE_STATUSES = ("proposed", "applied", "cancelled")


# --- customers and account recovery -------------------------------------------------------


class Customer(Base):
    """An account holder; `account_number` (QC-######) is what customers quote."""

    __tablename__ = "customers"
    __table_args__ = (
        one_of("preferred_contact", CONTACT_CHANNELS),
        CheckConstraint("billing_cycle_day BETWEEN 1 AND 28", name="billing_cycle_day_range"),
    )

    id = Column(Integer, primary_key=True)
    account_number = Column(String(9), nullable=False, unique=True)
    first_name = Column(String(80), nullable=False)
    last_name = Column(String(80), nullable=False)
    address = Column(String(255), nullable=False)
    area = Column(String(80), nullable=True, index=True)  # region matched to service alerts
    email = Column(String(255), nullable=False, index=True)
    phone = Column(String(20), nullable=False, unique=True)  # E.164, e.g. +15550100001
    preferred_contact = Column(String(10), nullable=False, default="email")
    billing_cycle_day = Column(Integer, nullable=False, default=1)
    created_at = created_at_column()

    login_state = relationship("LoginState", uselist=False, back_populates="customer")
    service_status = relationship("ServiceStatus", uselist=False, back_populates="customer")


class PaymentMethod(Base):
    """A saved way to pay, only ever described by its label; never card numbers."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        one_of("kind", ("card", "bank")),
        UniqueConstraint("customer_id", "label", name="uq_payment_methods_customer_label"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    kind = Column(String(10), nullable=False)
    label = Column(String(80), nullable=False)  # e.g. 'Visa ending 4242'
    is_default = Column(Boolean, nullable=False, default=False)
    created_at = created_at_column()


class LoginState(Base):
    """Whether online login is locked and why; the unlock flow branches on `lock_reason`."""

    __tablename__ = "login_state"
    __table_args__ = (one_of("lock_reason", LOCK_REASONS),)

    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    locked = Column(Boolean, nullable=False, default=False)
    lock_reason = Column(String(20), nullable=False, default="none")
    failed_attempts = Column(Integer, nullable=False, default=0)
    locked_at = Column(UTCDateTime(), nullable=True)
    note = Column(Text, nullable=True)
    # The online password, set through the reset page (Argon2id hash; None: never set here).
    password_hash = Column(String(255), nullable=True)
    password_changed_at = Column(UTCDateTime(), nullable=True)

    customer = relationship("Customer", back_populates="login_state")


class SecurityQuestion(Base):
    """A security question with its answer stored only as a salted hash."""

    __tablename__ = "security_questions"
    __table_args__ = (
        UniqueConstraint("customer_id", "question", name="uq_security_questions_customer_question"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    question = Column(String(255), nullable=False)
    answer_hash = Column(String(255), nullable=False)
    created_at = created_at_column()


class PasswordResetToken(Base):
    """A reset link sent by email or SMS; only the token's SHA-256 is kept."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (one_of("channel", CONTACT_CHANNELS),)

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    token_hash = Column(String(64), nullable=False, unique=True)
    channel = Column(String(10), nullable=False)
    conversation_id = Column(String(128), nullable=True)
    expires_at = Column(UTCDateTime(), nullable=False)
    used_at = Column(UTCDateTime(), nullable=True)
    created_at = created_at_column()


# --- plans, usage and billing cycle -------------------------------------------------------


class ServicePlan(Base):
    """A mobile plan from the catalog; `offered` is false for legacy plans."""

    __tablename__ = "service_plans"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(80), nullable=False, unique=True)
    monthly_price = Column(Money(), nullable=False)
    data_gb = Column(Integer, nullable=True)  # None = unlimited
    minutes = Column(Integer, nullable=True)  # None = unlimited
    speed_mbps = Column(Integer, nullable=False)
    lines = Column(Integer, nullable=False, default=1)
    features = Column(JSON, nullable=False, default=list)
    offered = Column(Boolean, nullable=False, default=True)


class AccountPlan(Base):
    """One row per plan a customer had, has, or will have (scheduled changes)."""

    __tablename__ = "account_plans"
    __table_args__ = (
        one_of("status", ACCOUNT_PLAN_STATUSES),
        Index(
            "uq_account_plans_one_active",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    plan_id = Column(Integer, ForeignKey("service_plans.id"), nullable=False, index=True)
    status = Column(String(10), nullable=False)
    started_at = Column(UTCDateTime(), nullable=True)  # None while only scheduled
    ended_at = Column(UTCDateTime(), nullable=True)
    scheduled_for = Column(UTCDateTime(), nullable=True)
    prorated_amount = Column(Money(), nullable=True)
    created_at = created_at_column()

    plan = relationship("ServicePlan")


class UsageRecord(Base):
    """Usage for one billing period, shown when confirming the current plan."""

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("customer_id", "period_start", name="uq_usage_records_customer_period"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    period_start = Column(Date, nullable=False)
    data_used_gb = Column(Numeric(10, 2), nullable=False, default=0)
    minutes_used = Column(Integer, nullable=False, default=0)
    avg_speed_mbps = Column(Numeric(10, 2), nullable=True)


# --- add-on services ------------------------------------------------------------------------


class AddonService(Base):
    """An additional service (streaming, calling...) with its fees and terms."""

    __tablename__ = "addon_services"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(80), nullable=False, unique=True)
    category = Column(String(40), nullable=False)
    description = Column(Text, nullable=False)
    activation_hours = Column(Integer, nullable=False)
    modification_fee = Column(Money(), nullable=False)
    cancellation_fee = Column(Money(), nullable=False)
    terms = Column(Text, nullable=False)

    tiers = relationship("AddonTier", back_populates="addon", order_by="AddonTier.id")


class AddonTier(Base):
    """A priced level of an add-on (e.g. StreamMax Premium 4K)."""

    __tablename__ = "addon_tiers"
    __table_args__ = (UniqueConstraint("addon_id", "name", name="uq_addon_tiers_addon_name"),)

    id = Column(Integer, primary_key=True)
    addon_id = Column(
        Integer, ForeignKey("addon_services.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(80), nullable=False)
    monthly_price = Column(Money(), nullable=False)

    addon = relationship("AddonService", back_populates="tiers")


class Subscription(Base):
    """A customer's add-on; pending until activation (within the add-on's activation_hours)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        one_of("status", SUBSCRIPTION_STATUSES),
        # No duplicate live subscription to the same service (migration 0004).
        Index(
            "uq_subscriptions_one_live",
            "customer_id",
            "addon_id",
            unique=True,
            sqlite_where=text("status IN ('pending_activation', 'active')"),
            postgresql_where=text("status IN ('pending_activation', 'active')"),
        ),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    addon_id = Column(Integer, ForeignKey("addon_services.id"), nullable=False, index=True)
    tier_id = Column(Integer, ForeignKey("addon_tiers.id"), nullable=False, index=True)
    status = Column(String(20), nullable=False)
    monthly_price = Column(Money(), nullable=False)  # price agreed at subscription time
    created_at = created_at_column()
    activates_at = Column(UTCDateTime(), nullable=True)
    activated_at = Column(UTCDateTime(), nullable=True)
    cancelled_at = Column(UTCDateTime(), nullable=True)
    fee_charged = Column(Money(), nullable=True)  # modification/cancellation fee applied
    refund_amount = Column(Money(), nullable=True)

    addon = relationship("AddonService")
    tier = relationship("AddonTier")


# --- devices and device protection --------------------------------------------------------


class Device(Base):
    """A customer device that can be enrolled in device protection."""

    __tablename__ = "devices"

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    device_type = Column(String(20), nullable=False)
    make = Column(String(80), nullable=False)
    model = Column(String(80), nullable=False)
    serial_number = Column(String(64), nullable=True, unique=True)
    imei = Column(String(20), nullable=True, unique=True)
    purchase_date = Column(Date, nullable=True)
    value = Column(Money(), nullable=False)
    created_at = created_at_column()


class ProtectionTier(Base):
    """A device protection level from the catalog (price, deductible, what it covers)."""

    __tablename__ = "protection_tiers"

    id = Column(Integer, primary_key=True)
    code = Column(String(20), nullable=False, unique=True)
    name = Column(String(80), nullable=False, unique=True)
    monthly_price = Column(Money(), nullable=False)
    deductible = Column(Money(), nullable=False)
    covers = Column(JSON, nullable=False, default=list)  # incident types
    device_types = Column(JSON, nullable=False, default=list)
    max_device_value = Column(Money(), nullable=False)


class ProtectionPlan(Base):
    """An enrolment (DP-######) covering one or more devices."""

    __tablename__ = "protection_plans"
    __table_args__ = (one_of("status", PROTECTION_PLAN_STATUSES),)

    id = Column(Integer, primary_key=True)
    plan_number = Column(String(9), nullable=False, unique=True)
    customer_id = customer_fk()
    tier_id = Column(Integer, ForeignKey("protection_tiers.id"), nullable=False, index=True)
    status = Column(String(10), nullable=False, default="active")
    enrolled_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    cancelled_at = Column(UTCDateTime(), nullable=True)
    payment_method_id = Column(
        Integer, ForeignKey("payment_methods.id", ondelete="SET NULL"), nullable=True
    )

    tier = relationship("ProtectionTier")
    devices = relationship("Device", secondary="protection_plan_devices", order_by="Device.id")


class ProtectionPlanDevice(Base):
    """Which devices a protection plan covers."""

    __tablename__ = "protection_plan_devices"

    plan_id = Column(
        Integer, ForeignKey("protection_plans.id", ondelete="CASCADE"), primary_key=True
    )
    device_id = Column(Integer, ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    added_at = Column(UTCDateTime(), nullable=False, default=utcnow)


class Claim(Base):
    """A device protection claim (CL-######) from report to resolution."""

    __tablename__ = "claims"
    __table_args__ = (
        one_of("incident_type", INCIDENT_TYPES),
        one_of("status", CLAIM_STATUSES),
        one_of("resolution", CLAIM_RESOLUTIONS, nullable=True),
    )

    id = Column(Integer, primary_key=True)
    claim_number = Column(String(9), nullable=False, unique=True)
    protection_plan_id = Column(
        Integer, ForeignKey("protection_plans.id"), nullable=False, index=True
    )
    device_id = Column(Integer, ForeignKey("devices.id"), nullable=False, index=True)
    incident_type = Column(String(20), nullable=False)
    incident_date = Column(Date, nullable=False)
    description = Column(Text, nullable=False)
    pre_existing = Column(Boolean, nullable=False, default=False)
    status = Column(String(15), nullable=False, default="submitted")
    resolution = Column(String(15), nullable=True)
    resolution_note = Column(Text, nullable=True)
    estimated_decision_date = Column(Date, nullable=True)
    decided_at = Column(UTCDateTime(), nullable=True)
    created_at = created_at_column()


# --- bills, payments, payment plans -------------------------------------------------------


class Bill(Base):
    """A monthly bill; the most recent one's amount is a verification factor."""

    __tablename__ = "bills"
    __table_args__ = (
        one_of("status", BILL_STATUSES),
        UniqueConstraint("customer_id", "period_start", name="uq_bills_customer_period"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    period_start = Column(Date, nullable=False)
    period_end = Column(Date, nullable=False)
    amount = Column(Money(), nullable=False)
    due_date = Column(Date, nullable=False)
    status = Column(String(10), nullable=False, default="unpaid")
    paid_amount = Column(Money(), nullable=False, default=0)
    created_at = created_at_column()


class Payment(Base):
    """Money received; `method` is a label such as 'Visa ending 4242'."""

    __tablename__ = "payments"

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    bill_id = Column(Integer, ForeignKey("bills.id", ondelete="SET NULL"), nullable=True)
    amount = Column(Money(), nullable=False)
    method = Column(String(80), nullable=False)
    paid_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    reference = Column(String(40), nullable=False, unique=True)


class PaymentPlan(Base):
    """An arrangement to pay an overdue balance in installments."""

    __tablename__ = "payment_plans"
    __table_args__ = (one_of("status", PAYMENT_PLAN_STATUSES),)

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    total = Column(Money(), nullable=False)
    status = Column(String(10), nullable=False, default="active")
    created_at = created_at_column()

    installments = relationship(
        "PaymentPlanInstallment", order_by="PaymentPlanInstallment.due_date"
    )


class PaymentPlanInstallment(Base):
    """One scheduled payment of a payment plan."""

    __tablename__ = "payment_plan_installments"

    id = Column(Integer, primary_key=True)
    payment_plan_id = Column(
        Integer, ForeignKey("payment_plans.id", ondelete="CASCADE"), nullable=False, index=True
    )
    due_date = Column(Date, nullable=False)
    amount = Column(Money(), nullable=False)
    paid_at = Column(UTCDateTime(), nullable=True)


# --- service status, outages, tickets -------------------------------------------------------


class ServiceStatus(Base):
    """Why service is (or will be) cut off; the cut-off flow branches on `cutoff_reason`."""

    __tablename__ = "service_status"
    __table_args__ = (
        one_of("status", SERVICE_STATUSES),
        one_of("cutoff_reason", CUTOFF_REASONS),
    )

    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    status = Column(String(25), nullable=False, default="active")
    cutoff_reason = Column(String(25), nullable=False, default="none")
    violated_term = Column(Text, nullable=True)
    remediation_steps = Column(Text, nullable=True)
    since = Column(UTCDateTime(), nullable=False, default=utcnow)
    disconnection_date = Column(Date, nullable=True)
    final_bill_amount = Column(Money(), nullable=True)
    equipment_return = Column(Text, nullable=True)
    note = Column(Text, nullable=True)

    customer = relationship("Customer", back_populates="service_status")


class ServiceAlert(Base):
    """A known outage in an area, matched to customers by `Customer.area`."""

    __tablename__ = "service_alerts"

    id = Column(Integer, primary_key=True)
    area = Column(String(80), nullable=False, index=True)
    description = Column(Text, nullable=False)
    started_at = Column(UTCDateTime(), nullable=False)
    estimated_resolution_at = Column(UTCDateTime(), nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    resolved_at = Column(UTCDateTime(), nullable=True)


class Ticket(Base):
    """A technical support ticket (TK-######) with an estimated resolution time."""

    __tablename__ = "tickets"
    __table_args__ = (one_of("status", TICKET_STATUSES),)

    id = Column(Integer, primary_key=True)
    ticket_number = Column(String(9), nullable=False, unique=True)
    customer_id = customer_fk()
    conversation_id = Column(String(128), nullable=True, index=True)
    summary = Column(Text, nullable=False)
    status = Column(String(15), nullable=False, default="open")
    estimated_resolution_at = Column(UTCDateTime(), nullable=True)
    created_at = created_at_column()
    resolved_at = Column(UTCDateTime(), nullable=True)


# --- escalation ---------------------------------------------------------------------------


class Agent(Base):
    """A human support agent who can take over escalated chats (a lead also sees insights)."""

    __tablename__ = "agents"
    __table_args__ = (one_of("role", AGENT_ROLES),)

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    is_online = Column(Boolean, nullable=False, default=False)
    last_seen_at = Column(UTCDateTime(), nullable=True)
    created_at = created_at_column()
    role = Column(String(10), nullable=False, default="agent", server_default="agent")


class Case(Base):
    """An escalation case (CS-######); unverified visitors can have one too."""

    __tablename__ = "cases"
    __table_args__ = (
        one_of("status", CASE_STATUSES),
        one_of("reason", CASE_REASONS),
        one_of("follow_up_channel", CONTACT_CHANNELS, nullable=True),
        one_of("chat_state", CASE_CHAT_STATES),
        one_of("resolution", CASE_RESOLUTIONS, nullable=True),
        Index("ix_cases_conversation_status", "conversation_id", "status"),
        Index("ix_cases_chat_state", "chat_state"),
        Index("ix_cases_created_at", "created_at"),  # the lead's overview (0012)
        Index("ix_cases_resolved_at", "resolved_at"),
    )

    id = Column(Integer, primary_key=True)
    case_number = Column(String(9), nullable=False, unique=True)
    customer_id = customer_fk(nullable=True)
    conversation_id = Column(String(128), nullable=False)
    reason = Column(String(30), nullable=False)
    summary = Column(Text, nullable=False)
    status = Column(String(10), nullable=False, default="open")
    follow_up_channel = Column(String(10), nullable=True)
    # Where to follow up when nobody could join the chat: a visitor who is not verified gives
    # an email address or phone number in the chat (normalised; an agent reaches them there).
    follow_up_contact = Column(String(255), nullable=True)
    assigned_agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at = created_at_column()
    resolved_at = Column(UTCDateTime(), nullable=True)
    # Live chat with an agent (web chat channel); see quickconnect/services/agent_console.py.
    chat_state = Column(String(10), nullable=False, default="none", server_default="none")
    queued_at = Column(UTCDateTime(), nullable=True)
    assigned_at = Column(UTCDateTime(), nullable=True)
    resolution = Column(String(15), nullable=True)
    resolution_note = Column(Text, nullable=True)
    # verification_failed cases: the account someone tried to verify as. One open case per
    # account and reason is kept, so repeated guessing does not open case after case.
    account_tried_id = Column(
        Integer, ForeignKey("customers.id", ondelete="SET NULL"), nullable=True, index=True
    )


class CaseNote(Base):
    """An agent's internal note on a case; never shown to the customer."""

    __tablename__ = "case_notes"

    id = Column(Integer, primary_key=True)
    case_id = Column(
        Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True
    )
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    body = Column(Text, nullable=False)
    created_at = created_at_column()


class AgentSession(Base):
    """A signed-in agent console; the cookie holds the token, the database its SHA-256."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    agent_id = Column(
        Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = created_at_column()
    expires_at = Column(UTCDateTime(), nullable=False)
    revoked_at = Column(UTCDateTime(), nullable=True)


class AgentLoginAttempt(Base):
    """Every agent sign-in attempt; recent failures per username or address rate-limit logins."""

    __tablename__ = "agent_login_attempts"
    __table_args__ = (
        Index("ix_agent_login_attempts_username_created", "username", "created_at"),
        Index("ix_agent_login_attempts_address_created", "remote_addr", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False)
    remote_addr = Column(String(64), nullable=False)
    success = Column(Boolean, nullable=False)
    created_at = created_at_column()


# --- records every flow writes --------------------------------------------------------------


class NotificationOutbox(Base):
    """Emails and SMS waiting to be sent; the outbox dispatcher (`quickconnect.outbox`)
    claims each due row for a while (`claimed_until`), sends it, then marks it sent, or
    retries it later with backoff and ends it `failed` after too many tries."""

    __tablename__ = "notifications_outbox"
    __table_args__ = (
        one_of("channel", CONTACT_CHANNELS),
        one_of("status", OUTBOX_STATUSES),
        Index("ix_notifications_outbox_status_due", "status", "due_at"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk(nullable=True)
    channel = Column(String(10), nullable=False)
    to_address = Column(String(255), nullable=False)
    subject = Column(String(255), nullable=False)
    body = Column(Text, nullable=False)
    status = Column(String(10), nullable=False, default="queued")
    due_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    created_at = created_at_column()
    sent_at = Column(UTCDateTime(), nullable=True)
    attempts = Column(Integer, nullable=False, default=0, server_default="0")
    last_error = Column(Text, nullable=True)
    claimed_by = Column(String(64), nullable=True)  # the dispatcher sending it now
    claimed_until = Column(UTCDateTime(), nullable=True)  # others may take it after this


class ConsentRecord(Base):
    """Exactly what the customer agreed to, and when."""

    __tablename__ = "consent_records"

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    conversation_id = Column(String(128), nullable=False, index=True)
    pending_change_id = Column(
        String(36), ForeignKey("pending_changes.id", ondelete="SET NULL"), nullable=True
    )
    change_kind = Column(String(60), nullable=False)
    consent_text = Column(Text, nullable=False)
    agreed_at = Column(UTCDateTime(), nullable=False, default=utcnow)


class InteractionLog(Base):
    """The account notes the guides ask for: what happened and how it ended."""

    __tablename__ = "interaction_log"

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk(nullable=True)
    conversation_id = Column(String(128), nullable=True, index=True)
    kind = Column(String(60), nullable=False)
    summary = Column(Text, nullable=False)
    outcome = Column(String(60), nullable=False)
    created_at = created_at_column()


# --- identity verification --------------------------------------------------------------------


class VerificationAttempt(Base):
    """Every identify/verify attempt; failures drive the limits per conversation, account and
    client (`quickconnect.services.identity`)."""

    __tablename__ = "verification_attempts"
    __table_args__ = (
        one_of("stage", ("identify", "verify")),
        Index("ix_verification_attempts_conversation_success", "conversation_id", "success"),
        Index("ix_verification_attempts_customer_created", "customer_id", "created_at"),
        Index("ix_verification_attempts_client_created", "client_key", "created_at"),
        Index("ix_verification_attempts_created_at", "created_at", "stage", "success"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    customer_id = customer_fk(nullable=True)
    stage = Column(String(10), nullable=False)
    identifier_tried = Column(String(255), nullable=False)
    factor = Column(String(20), nullable=True)  # which factor matched on success
    success = Column(Boolean, nullable=False)
    # Who sent it, as the channel saw it ("ip:203.0.113.7"); None when the channel did not say.
    client_key = Column(String(80), nullable=True)
    created_at = created_at_column()


class VerificationLockout(Base):
    """Chat verification of one account refused for a while after repeated failures.

    Opened by the failure that reaches the limit (across all conversations and channels);
    ends at `locked_until`, or earlier when an agent clears it in the console.
    """

    __tablename__ = "verification_lockouts"
    __table_args__ = (
        Index("ix_verification_lockouts_customer_until", "customer_id", "locked_until"),
        Index("ix_verification_lockouts_locked_at", "locked_at"),  # the lead's overview
    )

    id = Column(Integer, primary_key=True)
    customer_id = customer_fk()
    locked_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    locked_until = Column(UTCDateTime(), nullable=False)
    failures = Column(Integer, nullable=False)  # failed attempts that triggered it
    notification_id = Column(
        Integer, ForeignKey("notifications_outbox.id", ondelete="SET NULL"), nullable=True
    )
    cleared_at = Column(UTCDateTime(), nullable=True)
    cleared_by_agent_id = Column(
        Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True
    )
    clear_note = Column(Text, nullable=True)


class VerificationSession(Base):
    """Proof that one conversation verified one account; only the token's SHA-256 is kept."""

    __tablename__ = "verification_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    customer_id = customer_fk()
    verified_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime(), nullable=False)
    revoked_at = Column(UTCDateTime(), nullable=True)
    # Set for verifications over a channel whose conversation id the client chooses (REST):
    # the verification then holds only for messages from this client address.
    client_key = Column(String(80), nullable=True)


# --- account changes --------------------------------------------------------------------------


def _new_uuid() -> str:
    return str(uuid.uuid4())


class PendingChange(Base):
    """A change proposed to the customer, applied once after an explicit yes."""

    __tablename__ = "pending_changes"
    __table_args__ = (
        one_of("status", CHANGE_STATUSES),
        Index("ix_pending_changes_applied_at", "applied_at"),  # the lead's overview
    )

    id = Column(String(36), primary_key=True, default=_new_uuid)
    conversation_id = Column(String(128), nullable=False, index=True)
    customer_id = customer_fk()
    kind = Column(String(60), nullable=False)
    params = Column(JSON, nullable=False, default=dict)
    summary = Column(Text, nullable=False)
    amount = Column(Money(), nullable=True)
    status = Column(String(10), nullable=False, default="proposed")
    result = Column(JSON, nullable=True)
    created_at = created_at_column()
    applied_at = Column(UTCDateTime(), nullable=True)
    cancelled_at = Column(UTCDateTime(), nullable=True)


# --- insights for the support lead (quickconnect/insights) ----------------------------------


class InsightConversation(Base):
    """One conversation of the tracker store, summarised for the lead's overview and review.

    Rebuilt by `quickconnect.insights.indexer.refresh` from the tracker's events (and this
    database's cases and changes) whenever the conversation has new events, so the overview
    is a few indexed aggregates instead of a scan of every event (issue #31).
    """

    __tablename__ = "insight_conversations"
    __table_args__ = (
        # covering the overview's aggregates (SQLite: 10x faster at 100k, docs/benchmark.md)
        Index(
            "ix_insight_conversations_period",
            "started_at",
            "handed_off",
            "outcome",
            "fallbacks",
            "verified",
            "handoff_reason",
        ),
    )

    conversation_id = Column(String(255), primary_key=True)
    started_at = Column(UTCDateTime(), nullable=False)
    last_event_at = Column(UTCDateTime(), nullable=False)
    channel = Column(String(40), nullable=True)
    user_messages = Column(Integer, nullable=False, default=0)
    fallbacks = Column(Integer, nullable=False, default=0)  # turns the bot did not understand
    low_confidence = Column(Integer, nullable=False, default=0)
    min_confidence = Column(Numeric(4, 3), nullable=True)
    verified = Column(Boolean, nullable=False, default=False)
    verification_failed = Column(Boolean, nullable=False, default=False)
    handed_off = Column(Boolean, nullable=False, default=False)  # a case was opened
    case_number = Column(String(9), nullable=True)
    handoff_reason = Column(String(30), nullable=True)
    # handed_off (a case), completed (a change applied, no case) or contained (neither)
    outcome = Column(String(12), nullable=False)
    flows = Column(String(200), nullable=False, default="")  # started flows, comma-separated
    last_intent = Column(String(80), nullable=True)
    indexed_at = Column(UTCDateTime(), nullable=False, default=utcnow)


class InsightFlow(Base):
    """How far one conversation got in one guide flow (quickconnect/insights/flows.py)."""

    __tablename__ = "insight_flows"
    __table_args__ = (
        UniqueConstraint("conversation_id", "flow", name="uq_insight_flows_conversation_flow"),
        Index("ix_insight_flows_flow_started", "flow", "started_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    flow = Column(String(30), nullable=False)
    started_at = Column(UTCDateTime(), nullable=False)
    step = Column(Integer, nullable=False)  # furthest of STEPS reached, 0 = started


class InsightCursor(Base):
    """The last tracker event id the indexer has read (one row per tracker store)."""

    __tablename__ = "insight_cursor"

    name = Column(String(40), primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    updated_at = Column(UTCDateTime(), nullable=False, default=utcnow)


class ConversationTag(Base):
    """A lead's tag on a reviewed conversation ("billing confusion", "good example")."""

    __tablename__ = "conversation_tags"
    __table_args__ = (
        UniqueConstraint("conversation_id", "tag", name="uq_conversation_tags_conversation_tag"),
        Index("ix_conversation_tags_tag", "tag"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    tag = Column(String(40), nullable=False)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    created_at = created_at_column()


class ExportLog(Base):
    """Every export from the lead pages or the inbox command: who, what, which filters, rows."""

    __tablename__ = "export_log"

    id = Column(Integer, primary_key=True)
    agent_id = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    actor = Column(String(80), nullable=False)  # the username, or "cli:<user>" for the command
    what = Column(String(40), nullable=False)
    filters = Column(JSON, nullable=False, default=dict)
    rows = Column(Integer, nullable=False)
    created_at = created_at_column()


INBOX_REASONS = ("fallback", "low_confidence", "misunderstood")
INBOX_STATUSES = ("new", "accepted", "dismissed", "held_out")


class NluInboxItem(Base):
    """A customer message the bot may have misread, for the lead to label (the NLU inbox).

    Collected by the insights indexer (fell back, or intent confidence below
    QC_INBOX_CONFIDENCE) or marked "bot misunderstood" by an agent. An accepted label exports
    as a training example (`python -m qa.inbox export`); `held_out` means the line is in a
    test or evaluation set, so it is never exported.
    """

    __tablename__ = "nlu_inbox"
    __table_args__ = (
        one_of("reason", INBOX_REASONS),
        one_of("status", INBOX_STATUSES),
        UniqueConstraint("conversation_id", "event_id", name="uq_nlu_inbox_conversation_event"),
        Index("ix_nlu_inbox_status_created", "status", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)
    event_id = Column(Integer, nullable=False)  # the tracker store's row id of the message
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(80), nullable=True)
    confidence = Column(Numeric(4, 3), nullable=True)
    reason = Column(String(20), nullable=False)
    message_at = Column(UTCDateTime(), nullable=False)
    status = Column(String(10), nullable=False, default="new")
    label_intent = Column(String(80), nullable=True)
    labelled_by = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    labelled_at = Column(UTCDateTime(), nullable=True)
    marked_by = Column(Integer, ForeignKey("agents.id", ondelete="SET NULL"), nullable=True)
    exported_at = Column(UTCDateTime(), nullable=True)
    created_at = created_at_column()
