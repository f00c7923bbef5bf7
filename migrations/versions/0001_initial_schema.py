"""Initial schema: every table the five guides need (see quickconnect/db/models.py).

Revision ID: 0001
Revises:
Create Date: 2026-11-22 14:22:35.789530
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "addon_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("activation_hours", sa.Integer(), nullable=False),
        sa.Column("modification_fee", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("cancellation_fee", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addon_services")),
        sa.UniqueConstraint("code", name=op.f("uq_addon_services_code")),
        sa.UniqueConstraint("name", name=op.f("uq_addon_services_name")),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("username", name=op.f("uq_agents_username")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_number", sa.String(length=9), nullable=False),
        sa.Column("first_name", sa.String(length=80), nullable=False),
        sa.Column("last_name", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("area", sa.String(length=80), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("preferred_contact", sa.String(length=10), nullable=False),
        sa.Column("billing_cycle_day", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "preferred_contact IN ('email', 'sms')",
            name=op.f("ck_customers_preferred_contact_allowed"),
        ),
        sa.CheckConstraint(
            "billing_cycle_day BETWEEN 1 AND 28", name=op.f("ck_customers_billing_cycle_day_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("account_number", name=op.f("uq_customers_account_number")),
        sa.UniqueConstraint("phone", name=op.f("uq_customers_phone")),
    )
    op.create_index(op.f("ix_customers_area"), "customers", ["area"], unique=False)
    op.create_index(op.f("ix_customers_email"), "customers", ["email"], unique=False)

    op.create_table(
        "protection_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("monthly_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("deductible", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("covers", sa.JSON(), nullable=False),
        sa.Column("device_types", sa.JSON(), nullable=False),
        sa.Column("max_device_value", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_tiers")),
        sa.UniqueConstraint("code", name=op.f("uq_protection_tiers_code")),
        sa.UniqueConstraint("name", name=op.f("uq_protection_tiers_name")),
    )
    op.create_table(
        "service_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("estimated_resolution_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_alerts")),
    )
    op.create_index(op.f("ix_service_alerts_area"), "service_alerts", ["area"], unique=False)

    op.create_table(
        "service_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("monthly_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("data_gb", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("speed_mbps", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("offered", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_service_plans_code")),
        sa.UniqueConstraint("name", name=op.f("uq_service_plans_name")),
    )
    op.create_table(
        "account_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prorated_amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'scheduled', 'ended')",
            name=op.f("ck_account_plans_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_account_plans_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["service_plans.id"], name=op.f("fk_account_plans_plan_id_service_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_plans")),
    )
    op.create_index(
        op.f("ix_account_plans_customer_id"), "account_plans", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_account_plans_plan_id"), "account_plans", ["plan_id"], unique=False)
    op.create_index(
        "uq_account_plans_one_active",
        "account_plans",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )

    op.create_table(
        "addon_tiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("addon_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("monthly_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["addon_id"],
            ["addon_services.id"],
            name=op.f("fk_addon_tiers_addon_id_addon_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addon_tiers")),
        sa.UniqueConstraint("addon_id", "name", name="uq_addon_tiers_addon_name"),
        sa.UniqueConstraint("code", name=op.f("uq_addon_tiers_code")),
    )
    op.create_index(op.f("ix_addon_tiers_addon_id"), "addon_tiers", ["addon_id"], unique=False)

    op.create_table(
        "bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("paid_amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('paid', 'unpaid', 'overdue')", name=op.f("ck_bills_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_bills_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint("customer_id", "period_start", name="uq_bills_customer_period"),
    )
    op.create_index(op.f("ix_bills_customer_id"), "bills", ["customer_id"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=9), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("follow_up_channel", sa.String(length=10), nullable=True),
        sa.Column("assigned_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "follow_up_channel IS NULL OR follow_up_channel IN ('email', 'sms')",
            name=op.f("ck_cases_follow_up_channel_allowed"),
        ),
        sa.CheckConstraint(
            "reason IN ('customer_request', 'verification_failed', 'repeated_misunderstanding', "
            "'guide_escalation', 'system_error')",
            name=op.f("ck_cases_reason_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'resolved')", name=op.f("ck_cases_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_agent_id"],
            ["agents.id"],
            name=op.f("fk_cases_assigned_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_cases_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("case_number", name=op.f("uq_cases_case_number")),
    )
    op.create_index(
        "ix_cases_conversation_status", "cases", ["conversation_id", "status"], unique=False
    )
    op.create_index(op.f("ix_cases_customer_id"), "cases", ["customer_id"], unique=False)

    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("device_type", sa.String(length=20), nullable=False),
        sa.Column("make", sa.String(length=80), nullable=False),
        sa.Column("model", sa.String(length=80), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=True),
        sa.Column("imei", sa.String(length=20), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("value", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_devices_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("imei", name=op.f("uq_devices_imei")),
        sa.UniqueConstraint("serial_number", name=op.f("uq_devices_serial_number")),
    )
    op.create_index(op.f("ix_devices_customer_id"), "devices", ["customer_id"], unique=False)

    op.create_table(
        "interaction_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_interaction_log_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_log")),
    )
    op.create_index(
        op.f("ix_interaction_log_conversation_id"),
        "interaction_log",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_interaction_log_customer_id"), "interaction_log", ["customer_id"], unique=False
    )

    op.create_table(
        "login_state",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("lock_reason", sa.String(length=20), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "lock_reason IN ('none', 'failed_logins', 'security_hold')",
            name=op.f("ck_login_state_lock_reason_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_login_state_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_login_state")),
    )
    op.create_table(
        "notifications_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("to_address", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('email', 'sms')", name=op.f("ck_notifications_outbox_channel_allowed")
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed')",
            name=op.f("ck_notifications_outbox_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_notifications_outbox_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications_outbox")),
    )
    op.create_index(
        op.f("ix_notifications_outbox_customer_id"),
        "notifications_outbox",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_notifications_outbox_status_due",
        "notifications_outbox",
        ["status", "due_at"],
        unique=False,
    )

    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'sms')", name=op.f("ck_password_reset_tokens_channel_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_password_reset_tokens_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_password_reset_tokens_customer_id"),
        "password_reset_tokens",
        ["customer_id"],
        unique=False,
    )

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('card', 'bank')", name=op.f("ck_payment_methods_kind_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_methods_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
        sa.UniqueConstraint("customer_id", "label", name="uq_payment_methods_customer_label"),
    )
    op.create_index(
        op.f("ix_payment_methods_customer_id"), "payment_methods", ["customer_id"], unique=False
    )

    op.create_table(
        "payment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'cancelled')",
            name=op.f("ck_payment_plans_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payment_plans_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plans")),
    )
    op.create_index(
        op.f("ix_payment_plans_customer_id"), "payment_plans", ["customer_id"], unique=False
    )

    op.create_table(
        "pending_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'applied', 'cancelled')",
            name=op.f("ck_pending_changes_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pending_changes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_changes")),
    )
    op.create_index(
        op.f("ix_pending_changes_conversation_id"),
        "pending_changes",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pending_changes_customer_id"), "pending_changes", ["customer_id"], unique=False
    )

    op.create_table(
        "security_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=255), nullable=False),
        sa.Column("answer_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_security_questions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_questions")),
        sa.UniqueConstraint(
            "customer_id", "question", name="uq_security_questions_customer_question"
        ),
    )
    op.create_index(
        op.f("ix_security_questions_customer_id"),
        "security_questions",
        ["customer_id"],
        unique=False,
    )

    op.create_table(
        "service_status",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=25), nullable=False),
        sa.Column("cutoff_reason", sa.String(length=25), nullable=False),
        sa.Column("violated_term", sa.Text(), nullable=True),
        sa.Column("remediation_steps", sa.Text(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disconnection_date", sa.Date(), nullable=True),
        sa.Column("final_bill_amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("equipment_return", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "cutoff_reason IN ('none', 'non_payment', 'terms_violation', "
            "'requested_disconnection', 'technical_issue')",
            name=op.f("ck_service_status_cutoff_reason_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'pending_disconnection', 'disconnected', 'outage')",
            name=op.f("ck_service_status_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_service_status_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_service_status")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(length=9), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("estimated_resolution_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'resolved')", name=op.f("ck_tickets_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_tickets_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("ticket_number", name=op.f("uq_tickets_ticket_number")),
    )
    op.create_index(
        op.f("ix_tickets_conversation_id"), "tickets", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_tickets_customer_id"), "tickets", ["customer_id"], unique=False)

    op.create_table(
        "usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("data_used_gb", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("minutes_used", sa.Integer(), nullable=False),
        sa.Column("avg_speed_mbps", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_usage_records_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("customer_id", "period_start", name="uq_usage_records_customer_period"),
    )
    op.create_index(
        op.f("ix_usage_records_customer_id"), "usage_records", ["customer_id"], unique=False
    )

    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("identifier_tried", sa.String(length=255), nullable=False),
        sa.Column("factor", sa.String(length=20), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "stage IN ('identify', 'verify')", name=op.f("ck_verification_attempts_stage_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_verification_attempts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_attempts")),
    )
    op.create_index(
        "ix_verification_attempts_conversation_success",
        "verification_attempts",
        ["conversation_id", "success"],
        unique=False,
    )
    op.create_index(
        op.f("ix_verification_attempts_customer_id"),
        "verification_attempts",
        ["customer_id"],
        unique=False,
    )

    op.create_table(
        "verification_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_verification_sessions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_verification_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_verification_sessions_conversation_id"),
        "verification_sessions",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_verification_sessions_customer_id"),
        "verification_sessions",
        ["customer_id"],
        unique=False,
    )

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("pending_change_id", sa.String(length=36), nullable=True),
        sa.Column("change_kind", sa.String(length=60), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_consent_records_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pending_change_id"],
            ["pending_changes.id"],
            name=op.f("fk_consent_records_pending_change_id_pending_changes"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index(
        op.f("ix_consent_records_conversation_id"),
        "consent_records",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_consent_records_customer_id"), "consent_records", ["customer_id"], unique=False
    )

    op.create_table(
        "payment_plan_installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_plan_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payment_plan_id"],
            ["payment_plans.id"],
            name=op.f("fk_payment_plan_installments_payment_plan_id_payment_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_plan_installments")),
    )
    op.create_index(
        op.f("ix_payment_plan_installments_payment_plan_id"),
        "payment_plan_installments",
        ["payment_plan_id"],
        unique=False,
    )

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("method", sa.String(length=80), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["bills.id"], name=op.f("fk_payments_bill_id_bills"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_payments_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("reference", name=op.f("uq_payments_reference")),
    )
    op.create_index(op.f("ix_payments_customer_id"), "payments", ["customer_id"], unique=False)

    op.create_table(
        "protection_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_number", sa.String(length=9), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payment_method_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'cancelled')", name=op.f("ck_protection_plans_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_protection_plans_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_protection_plans_payment_method_id_payment_methods"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["protection_tiers.id"],
            name=op.f("fk_protection_plans_tier_id_protection_tiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_plans")),
        sa.UniqueConstraint("plan_number", name=op.f("uq_protection_plans_plan_number")),
    )
    op.create_index(
        op.f("ix_protection_plans_customer_id"), "protection_plans", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_protection_plans_tier_id"), "protection_plans", ["tier_id"], unique=False
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("addon_id", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("monthly_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activates_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fee_charged", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("refund_amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending_activation', 'active', 'cancelled')",
            name=op.f("ck_subscriptions_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["addon_id"],
            ["addon_services.id"],
            name=op.f("fk_subscriptions_addon_id_addon_services"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_subscriptions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"], ["addon_tiers.id"], name=op.f("fk_subscriptions_tier_id_addon_tiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_addon_id"), "subscriptions", ["addon_id"], unique=False)
    op.create_index(
        op.f("ix_subscriptions_customer_id"), "subscriptions", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_subscriptions_tier_id"), "subscriptions", ["tier_id"], unique=False)

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_number", sa.String(length=9), nullable=False),
        sa.Column("protection_plan_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("incident_type", sa.String(length=20), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("pre_existing", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("resolution", sa.String(length=15), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("estimated_decision_date", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "incident_type IN ('accidental_damage', 'theft', 'mechanical_failure', 'other')",
            name=op.f("ck_claims_incident_type_allowed"),
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('repair', 'replacement', 'reimbursement')",
            name=op.f("ck_claims_resolution_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'under_review', 'approved', 'denied', 'closed')",
            name=op.f("ck_claims_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_claims_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["protection_plan_id"],
            ["protection_plans.id"],
            name=op.f("fk_claims_protection_plan_id_protection_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("claim_number", name=op.f("uq_claims_claim_number")),
    )
    op.create_index(op.f("ix_claims_device_id"), "claims", ["device_id"], unique=False)
    op.create_index(
        op.f("ix_claims_protection_plan_id"), "claims", ["protection_plan_id"], unique=False
    )

    op.create_table(
        "protection_plan_devices",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_protection_plan_devices_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["protection_plans.id"],
            name=op.f("fk_protection_plan_devices_plan_id_protection_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "device_id", name=op.f("pk_protection_plan_devices")),
    )


def downgrade() -> None:
    # Indexes and constraints go with their tables; children before parents.
    op.drop_table("protection_plan_devices")
    op.drop_table("claims")
    op.drop_table("subscriptions")
    op.drop_table("protection_plans")
    op.drop_table("payments")
    op.drop_table("payment_plan_installments")
    op.drop_table("consent_records")
    op.drop_table("verification_sessions")
    op.drop_table("verification_attempts")
    op.drop_table("usage_records")
    op.drop_table("tickets")
    op.drop_table("service_status")
    op.drop_table("security_questions")
    op.drop_table("pending_changes")
    op.drop_table("payment_plans")
    op.drop_table("payment_methods")
    op.drop_table("password_reset_tokens")
    op.drop_table("notifications_outbox")
    op.drop_table("login_state")
    op.drop_table("interaction_log")
    op.drop_table("devices")
    op.drop_table("cases")
    op.drop_table("bills")
    op.drop_table("addon_tiers")
    op.drop_table("account_plans")
    op.drop_table("service_plans")
    op.drop_table("service_alerts")
    op.drop_table("protection_tiers")
    op.drop_table("customers")
    op.drop_table("agents")
    op.drop_table("addon_services")
