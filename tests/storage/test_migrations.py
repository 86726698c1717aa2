"""Migrations bring an empty database to the models' schema, idempotently, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import migrate


def test_migrations_create_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    expected = {table.name for table in SQLModel.metadata.sorted_tables}
    assert expected <= tables
    assert "alembic_version" in tables


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], "models changed without a migration: " + repr(differences)


def test_migrate_twice_changes_nothing(engine: Engine) -> None:
    before = {t: inspect(engine).get_columns(t) for t in inspect(engine).get_table_names()}
    migrate(engine)
    after = {t: inspect(engine).get_columns(t) for t in inspect(engine).get_table_names()}
    assert [c["name"] for t in sorted(before) for c in before[t]] == [
        c["name"] for t in sorted(after) for c in after[t]
    ]
