"""Run the Alembic migrations from code: `python -m quickconnect.db.migrate [--url URL]`.

The app, the seed script and the tests all migrate through here, so the schema that is
tested is the one the migrations build (never `metadata.create_all`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from alembic import command
from alembic.config import Config

from quickconnect.config import PROJECT_ROOT, load_settings
from quickconnect.db.session import make_engine

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config() -> Config:
    """The project's Alembic config, with paths that work from any working directory."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["configure_logger"] = False  # leave the caller's logging alone
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the latest)."""
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` down to `revision` ("base" removes every table)."""
    _run(url, lambda config: command.downgrade(config, revision))


def _run(url: str, action: Callable[[Config], None]) -> None:
    engine = make_engine(url, statement_timeout_ms=0)  # no timeout for DDL
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            action(config)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Migrate the QuickConnect account database.")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from settings)")
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    upgrade(args.url or load_settings().database_url, args.revision)
    print(f"Database migrated to {args.revision}.")


if __name__ == "__main__":
    main()
