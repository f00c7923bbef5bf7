"""Insights for the support lead: per-conversation summaries and flow progress built from the
tracker store, the indexer's cursor, conversation tags, the export log, and indexes on the
time columns the overview filters by (cases, changes, verification attempts, lockouts).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIOD_COLUMNS = (
    "started_at",
    "handed_off",
    "outcome",
    "fallbacks",
    "verified",
    "handoff_reason",
)
TIME_INDEXES = (
    ("ix_cases_created_at", "cases", "created_at"),
    ("ix_cases_resolved_at", "cases", "resolved_at"),
    ("ix_pending_changes_applied_at", "pending_changes", "applied_at"),
    ("ix_verification_attempts_created_at", "verification_attempts", "created_at"),
    ("ix_verification_lockouts_locked_at", "verification_lockouts", "locked_at"),
)


def upgrade() -> None:
    op.create_table(
        "insight_conversations",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("user_messages", sa.Integer(), nullable=False),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("low_confidence", sa.Integer(), nullable=False),
        sa.Column("min_confidence", sa.Numeric(4, 3), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verification_failed", sa.Boolean(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
        sa.Column("case_number", sa.String(length=9), nullable=True),
        sa.Column("handoff_reason", sa.String(length=30), nullable=True),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("flows", sa.String(length=200), nullable=False),
        sa.Column("last_intent", sa.String(length=80), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_insight_conversations")),
    )
    # covering: the overview's aggregates read this index only, never the table
    op.create_index(
        "ix_insight_conversations_period", "insight_conversations", list(PERIOD_COLUMNS)
    )
    op.create_table(
        "insight_flows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("flow", sa.String(length=30), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_flows")),
        sa.UniqueConstraint(
            "conversation_id", "flow", name="uq_insight_flows_conversation_flow"
        ),
    )
    op.create_index("ix_insight_flows_flow_started", "insight_flows", ["flow", "started_at"])
    op.create_table(
        "insight_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_insight_cursor")),
    )
    op.create_table(
        "conversation_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_conversation_tags_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_tags")),
        sa.UniqueConstraint(
            "conversation_id", "tag", name="uq_conversation_tags_conversation_tag"
        ),
    )
    op.create_index("ix_conversation_tags_tag", "conversation_tags", ["tag"])
    op.create_table(
        "export_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_export_log_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_log")),
    )
    for name, table, column in TIME_INDEXES:
        # attempts: with stage and success, so the overview's count reads the index only
        extra = ["stage", "success"] if table == "verification_attempts" else []
        op.create_index(name, table, [column, *extra])


def downgrade() -> None:
    for name, table, _ in reversed(TIME_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("export_log")
    op.drop_index("ix_conversation_tags_tag", table_name="conversation_tags")
    op.drop_table("conversation_tags")
    op.drop_table("insight_cursor")
    op.drop_index("ix_insight_flows_flow_started", table_name="insight_flows")
    op.drop_table("insight_flows")
    op.drop_index("ix_insight_conversations_period", table_name="insight_conversations")
    op.drop_table("insight_conversations")
