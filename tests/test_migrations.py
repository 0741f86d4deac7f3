"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command

from storage.migrate import alembic_config


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    # Raises if autogenerate would emit any operation: a model changed without a migration, or the reverse.
    command.check(alembic_config(database_url))
