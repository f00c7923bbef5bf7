"""Verification that cannot be brute-forced: attempts per client, lockouts per account, the
account a verification_failed case is about (one open case per account and reason), and the
client a REST verification is bound to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("verification_attempts") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=80), nullable=True))
        batch.create_index(
            "ix_verification_attempts_customer_created", ["customer_id", "created_at"]
        )
        batch.create_index("ix_verification_attempts_client_created", ["client_key", "created_at"])

    with op.batch_alter_table("verification_sessions") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=80), nullable=True))

    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("account_tried_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_cases_account_tried_id_customers",
            "customers",
            ["account_tried_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_cases_account_tried_id", ["account_tried_id"])

    op.create_table(
        "verification_lockouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("clear_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_verification_lockouts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications_outbox.id"],
            name=op.f("fk_verification_lockouts_notification_id_notifications_outbox"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cleared_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_verification_lockouts_cleared_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_lockouts")),
    )
    op.create_index(
        op.f("ix_verification_lockouts_customer_id"),
        "verification_lockouts",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        "ix_verification_lockouts_customer_until",
        "verification_lockouts",
        ["customer_id", "locked_until"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_verification_lockouts_customer_until", table_name="verification_lockouts")
    op.drop_index(op.f("ix_verification_lockouts_customer_id"), table_name="verification_lockouts")
    op.drop_table("verification_lockouts")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_account_tried_id")
        batch.drop_constraint("fk_cases_account_tried_id_customers", type_="foreignkey")
        batch.drop_column("account_tried_id")
    with op.batch_alter_table("verification_sessions") as batch:
        batch.drop_column("client_key")
    with op.batch_alter_table("verification_attempts") as batch:
        batch.drop_index("ix_verification_attempts_client_created")
        batch.drop_index("ix_verification_attempts_customer_created")
        batch.drop_column("client_key")
