"""Migrations bring an empty database to the models' schema, idempotently, on every database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import HEAD_REVISIONS, applied_revisions, make_engine, migrate, migration_heads


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


def test_the_head_known_without_alembic_is_alembics_head() -> None:
    assert migration_heads() == HEAD_REVISIONS, "set storage.db.HEAD_REVISIONS to the new head"


def test_a_database_at_head_is_not_migrated_again_nor_alembic_loaded(db_url: str) -> None:
    probe = (
        "import sys\n"
        "from storage.db import make_engine, migrate\n"
        f"migrate(make_engine({db_url!r}))\n"
        "assert 'alembic' not in sys.modules, 'Alembic was imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_a_new_database_is_migrated_to_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/new.db")
    assert applied_revisions(engine) == frozenset()
    migrate(engine)
    assert applied_revisions(engine) == HEAD_REVISIONS
    assert "person" in inspect(engine).get_table_names()
    engine.dispose()
