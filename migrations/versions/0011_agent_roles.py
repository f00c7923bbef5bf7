"""Agent roles: 'agent' (the queue and cases) or 'lead' (also the insights pages).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=10), nullable=False, server_default="agent")
        )
        batch.create_check_constraint("role_allowed", "role IN ('agent', 'lead')")


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint("role_allowed", type_="check")
        batch.drop_column("role")
