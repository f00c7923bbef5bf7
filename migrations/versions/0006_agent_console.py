"""Web chat and agent console: live chat state on cases, notes, agent sessions, login attempts.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-24 01:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("chat_state", sa.String(length=10), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(length=15), nullable=True))
        batch.add_column(sa.Column("resolution_note", sa.Text(), nullable=True))
        batch.create_check_constraint(
            "chat_state_allowed", "chat_state IN ('none', 'queued', 'agent', 'bot')"
        )
        batch.create_check_constraint(
            "resolution_allowed",
            "resolution IS NULL OR resolution IN ('resolved', 'handed_back')",
        )
        batch.create_index("ix_cases_chat_state", ["chat_state"], unique=False)

    op.create_table(
        "case_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_case_notes_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"], unique=False)

    op.create_table(
        "agent_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_sessions_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agent_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_agent_sessions_agent_id"), "agent_sessions", ["agent_id"], unique=False
    )

    op.create_table(
        "agent_login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_login_attempts")),
    )
    op.create_index(
        "ix_agent_login_attempts_username_created",
        "agent_login_attempts",
        ["username", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_agent_login_attempts_address_created",
        "agent_login_attempts",
        ["remote_addr", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_agent_login_attempts_address_created", table_name="agent_login_attempts")
    op.drop_index("ix_agent_login_attempts_username_created", table_name="agent_login_attempts")
    op.drop_table("agent_login_attempts")
    op.drop_index(op.f("ix_agent_sessions_agent_id"), table_name="agent_sessions")
    op.drop_table("agent_sessions")
    op.drop_index(op.f("ix_case_notes_case_id"), table_name="case_notes")
    op.drop_table("case_notes")
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_chat_state")
        batch.drop_constraint("resolution_allowed", type_="check")
        batch.drop_constraint("chat_state_allowed", type_="check")
        batch.drop_column("resolution_note")
        batch.drop_column("resolution")
        batch.drop_column("assigned_at")
        batch.drop_column("queued_at")
        batch.drop_column("chat_state")
