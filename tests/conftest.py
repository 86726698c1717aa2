"""Shared fixtures: a fixed clock and databases (SQLite always, PostgreSQL when configured).

Every test that takes `engine` or `sessions` runs once per database: on SQLite, and on
PostgreSQL too when `TEST_DATABASE_URL` is set (CI sets it). Each test starts empty.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.core.clock import FixedClock
from bot.entry.runtime import prepare_database
from storage import db as storage_db
from storage.db import SessionFactory, make_engine, make_session_factory, migrate

if TYPE_CHECKING:
    from bot.insight.service import Insight

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
DATABASES = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
# Monday 23 November 2026, 09:00 in London (GMT).
MONDAY_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    where = (
        "SQLite and PostgreSQL" if TEST_DATABASE_URL else "SQLite only (TEST_DATABASE_URL unset)"
    )
    return f"database tests run on: {where}"


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing at Monday 23 November 2026, 09:00 UTC."""
    return FixedClock(MONDAY_MORNING)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    prepare_database(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


def _admin(statement: str) -> None:
    url = make_url(TEST_DATABASE_URL).render_as_string(hide_password=False)
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_engine(worker_id: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database of this test process's own, dropped at the end."""
    if not TEST_DATABASE_URL:
        pytest.fail("PostgreSQL tests need TEST_DATABASE_URL")
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_{worker_id}_{os.getpid()}".replace("-", "_")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    prepare_database(engine)
    yield engine
    engine.dispose()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _emptied(engine: Engine) -> str:
    """Empty every table and restart every id sequence, then load the vocabulary again.

    DELETE, not TRUNCATE: on the small tables a test leaves, TRUNCATE's new files and their
    sync at commit cost about 0.1 s a test, DELETE a few milliseconds.
    """
    migrate(engine)  # a migration test may have left the schema elsewhere
    with engine.begin() as connection:
        connection.execute(text(_delete_everything_sql()))
    prepare_database(engine)
    return engine.url.render_as_string(hide_password=False)


def _delete_everything_sql() -> str:
    """One PostgreSQL statement: delete every table's rows (children first), then restart
    every sequence."""
    deletes = " ".join(
        f'DELETE FROM "{table.name}";' for table in reversed(SQLModel.metadata.sorted_tables)
    )
    return f"""
DO $$
DECLARE seq record;
BEGIN
  {deletes}
  FOR seq IN SELECT sequence_schema, sequence_name FROM information_schema.sequences LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', seq.sequence_schema, seq.sequence_name);
  END LOOP;
END $$
"""


def truncate_everything(engine: Engine) -> None:
    """Empty every table at once (PostgreSQL), after a test that filled tens of thousands of
    rows: the next test's DELETE would pay a foreign-key check over the dead rows for each row
    (22 s after 70,000 supporters). The next test loads the vocabulary again."""
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session", autouse=True)
def _one_engine_per_postgres_database() -> Iterator[None]:
    """Every engine made on the same PostgreSQL database with the same options, in this test
    process, is one engine: its compiled statements are cached on the engine (keyed by its
    dialect), and a new engine for each test compiled every statement again, a fifth of the
    PostgreSQL tests' CPU. Each test still starts on an emptied database. SQLite's databases
    are a file per test, so their engines are not shared."""
    engines: dict[tuple[str, str], Engine] = {}
    create = storage_db.create_engine

    def shared(url: str, **kwargs: Any) -> Engine:
        if make_url(url).get_backend_name() != "postgresql":
            return create(url, **kwargs)
        key = (str(url), repr(sorted(kwargs.items())))
        if key not in engines:
            engines[key] = create(url, **kwargs)
        return engines[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage_db, "create_engine", shared)
        yield
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database with the vocabulary loaded; once per kind."""
    if request.param == "sqlite":
        path = tmp_path / "support.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    return _emptied(request.getfixturevalue("postgres_engine"))


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """An empty PostgreSQL database, for what only PostgreSQL deployments do (several copies)."""
    if not TEST_DATABASE_URL:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (CI does)")
    return _emptied(request.getfixturevalue("postgres_engine"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    """The session factory for `engine`."""
    return make_session_factory(engine)


# Fuzz tests explore new inputs on developers' machines but replay a fixed set in CI, so a
# red CI always means a change, not a lucky draw.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


_CHARTS_DRAWN: dict[bytes, dict[str, bytes]] = {}


@pytest.fixture(autouse=True)
def _each_chart_drawn_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charts are a pure function of the term's insight, and drawing three takes about 0.3 s:
    a test process draws each distinct insight once (the weekly digest is due in many tests),
    importing matplotlib once, whether or not its tests draw any. The charts' own tests call
    `render_charts` itself, imported before this runs."""
    from bot.insight import charts  # matplotlib: imported once per test process

    draw = charts.render_charts

    def drawn_once(insight: Insight) -> dict[str, bytes]:
        key = pickle.dumps(insight)
        if key not in _CHARTS_DRAWN:
            _CHARTS_DRAWN[key] = draw(insight)
        return dict(_CHARTS_DRAWN[key])

    monkeypatch.setattr(charts, "render_charts", drawn_once)
