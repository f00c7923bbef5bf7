"""The Alembic migration builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractContextManager

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from quickconnect.db.migrate import alembic_config, downgrade, upgrade
from quickconnect.db.models import Base
from quickconnect.db.session import make_engine


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_migration_up_builds_the_models_schema(
    scratch_db: Callable[[], AbstractContextManager[str]],
) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with scratch_db() as url:
        upgrade(url)
        assert _tables(url) == set(Base.metadata.tables) | {"alembic_version"}
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert context.get_current_revision() == head
                assert compare_metadata(context, Base.metadata) == []
        finally:
            engine.dispose()
        upgrade(url)  # already at head: a no-op, not an error


def test_migration_down_and_up_again(
    scratch_db: Callable[[], AbstractContextManager[str]],
) -> None:
    with scratch_db() as url:
        upgrade(url)
        downgrade(url, "base")
        assert _tables(url) <= {"alembic_version"}
        upgrade(url)
        assert set(Base.metadata.tables) <= _tables(url)


def test_alembic_command_line_url_override(
    scratch_db: Callable[[], AbstractContextManager[str]],
) -> None:
    """`alembic -x url=...` reaches migrations/env.py (the path operators use by hand)."""
    with scratch_db() as url:
        config = alembic_config()
        config.cmd_opts = argparse.Namespace(x=[f"url={url}"])
        command.upgrade(config, "head")
        assert "customers" in _tables(url)
