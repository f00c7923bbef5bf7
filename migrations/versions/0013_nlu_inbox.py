"""The NLU inbox: messages the bot fell back on, understood with low confidence, or that an
agent marked "bot misunderstood", with the lead's label and when it was exported.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nlu_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=80), nullable=True),
        sa.Column("confidence", sa.Numeric(4, 3), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("label_intent", sa.String(length=80), nullable=True),
        sa.Column("labelled_by", sa.Integer(), nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("marked_by", sa.Integer(), nullable=True),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reason IN ('fallback', 'low_confidence', 'misunderstood')",
            name=op.f("ck_nlu_inbox_reason_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'accepted', 'dismissed', 'held_out')",
            name=op.f("ck_nlu_inbox_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["labelled_by"],
            ["agents.id"],
            name=op.f("fk_nlu_inbox_labelled_by_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["marked_by"],
            ["agents.id"],
            name=op.f("fk_nlu_inbox_marked_by_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nlu_inbox")),
        sa.UniqueConstraint(
            "conversation_id", "event_id", name="uq_nlu_inbox_conversation_event"
        ),
    )
    op.create_index("ix_nlu_inbox_status_created", "nlu_inbox", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_nlu_inbox_status_created", table_name="nlu_inbox")
    op.drop_table("nlu_inbox")
