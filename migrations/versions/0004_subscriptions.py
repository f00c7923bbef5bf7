"""Subscriptions flow: at most one live (pending or active) subscription per service.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 01:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "status IN ('pending_activation', 'active')"


def upgrade() -> None:
    # A partial unique index: the database itself refuses a second live subscription to the
    # same service, even if two confirmations race past the application's check.
    op.create_index(
        "uq_subscriptions_one_live",
        "subscriptions",
        ["customer_id", "addon_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_subscriptions_one_live", table_name="subscriptions")
