"""Follow-up contact on escalation cases: where to reach a visitor nobody could chat with.

With no agent online, a visitor who is not verified can leave an email address or phone
number in the chat; `follow_up_channel` ('email' | 'sms') already exists since 0001.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("follow_up_contact", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("follow_up_contact")
