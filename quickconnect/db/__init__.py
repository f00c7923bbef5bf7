"""Database layer: engine and unit of work, ORM models, migrations."""
