"""The one engine and session factory, and schema migration."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session

from storage.folding import sqlite_casefold

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The migrations' head, known without importing Alembic (which pulls in Mako and Pygments: a
# quarter of the start-up's imports): a database already there is not migrated.
# tests/storage/test_migrations.py checks it is still Alembic's head, so a new migration must
# update it.
HEAD_REVISIONS = frozenset({"0019"})
VERSION_TABLE = "alembic_version"

SessionFactory = Callable[[], Session]
READ_ONLY = "school_support_read_only"  # execution option: see `read_only`
T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for `url`; for SQLite, make the file's directory, serialise writers.

    Database errors never quote their parameters (request text, names): they end up in logs.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _serialise_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _serialise_sqlite_writers(engine: Engine) -> None:
    """Open every SQLite transaction with BEGIN IMMEDIATE and WAL.

    pysqlite's deferred BEGIN lets two transactions read and then both try to write, which
    fails with "database is locked" instead of waiting. BEGIN IMMEDIATE takes the write lock
    up front so concurrent clicks queue behind each other (SQLAlchemy's documented recipe).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # Case ignored in SQL as Python's casefold() ignores it (storage.folding).
        dbapi_connection.create_function("casefold", 1, sqlite_casefold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a read outside any transaction (the health check): no lock at all
        if options.get(READ_ONLY):
            # A deferred BEGIN: under WAL a reader sees a snapshot and never queues
            # behind a writer (nor holds one up).
            connection.exec_driver_sql("BEGIN")
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> SessionFactory:
    """Return a callable that opens a new `Session` on `engine`."""

    def factory() -> Session:
        return Session(engine, expire_on_commit=False)

    return factory


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def each_in_its_own_transaction(
    sessions: SessionFactory,
    ids: Iterable[int],
    work: Callable[[Session, int], int],
    *,
    log: logging.Logger,
    failed: str,
) -> int:
    """Run `work(session, id)` for each id in a transaction of its own; returns the sum of
    what it returned. One that fails is rolled back and logged on `log` as `failed` % id (ids
    only), and the others go on: the due work's next run tries it again."""
    done = 0
    for item in ids:
        try:
            with transaction(sessions) as session:
                done += int(work(session, item))
        except Exception:
            log.exception(failed, item)
    return done


@contextmanager
def read_only(sessions: SessionFactory) -> Iterator[Session]:
    """A session for reading only (digest, reports, lists): never takes SQLite's write lock,
    and PostgreSQL refuses any write in it. Always rolled back."""
    with sessions() as session:
        connection = session.connection(execution_options={READ_ONLY: True})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield session
        finally:
            session.rollback()


def by_status(
    session: Session, row_id: Mapped[int | None], condition: ColumnElement[bool]
) -> ColumnElement[bool]:
    """`condition` on a table's status, as a WHERE clause both databases answer through the
    status index when few rows match it (what is still running, among years of history).

    PostgreSQL's statistics know how rare each status is. SQLite's (once ANALYZE has run)
    know only the average number of rows per status, and for an `IN` of several it scans the
    whole table; there the rows are found by the ids that the status index alone gives."""
    if session.get_bind().dialect.name != "sqlite":
        return condition
    return row_id.in_(select(row_id).where(condition).correlate(None))


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at this package's migrations and `engine`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (idempotent). A database already at `HEAD_REVISIONS`
    costs a look at its version table; only one behind (or ahead: Alembic refuses it) loads
    Alembic."""
    if applied_revisions(engine) == HEAD_REVISIONS:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The head revision(s) of this package's migrations, as Alembic reads them from the
    scripts (slow: imports Alembic; running code uses `HEAD_REVISIONS`)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def applied_revisions(engine: Engine) -> frozenset[str]:
    """The revision(s) the database is at (none if never migrated), read outside any
    transaction (no lock on SQLite), from Alembic's version table with plain queries.

    Raises SQLAlchemy's errors when the database does not answer.
    """
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return frozenset()
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return frozenset(str(revision) for revision in found.scalars())


def run_once(sessions: SessionFactory, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction; if a unique constraint says another process got there
    first, run it once more, when `work` will find the row that won instead of inserting."""
    try:
        with transaction(sessions) as session:
            return work(session)
    except IntegrityError:
        with transaction(sessions) as session:
            return work(session)


def new_migration(message: str) -> None:
    """Write a new Alembic revision for the models' changes since the last one (developers);
    then set `HEAD_REVISIONS` to it."""
    import tempfile

    from alembic import command

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/base.db")
        migrate(engine)
        command.revision(alembic_config(engine), message=message, autogenerate=True)
        engine.dispose()
