"""SQLite: writers queue behind BEGIN IMMEDIATE, and the health check's read takes no lock."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine


def test_a_health_read_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/lock.db")
    finished = threading.Event()
    with engine.connect() as writer:
        writer.execute(text("CREATE TABLE t (x INTEGER)"))  # holds the write lock until commit

        def health() -> None:
            autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
            with autocommit.connect() as connection:
                connection.execute(text("SELECT 1"))
            finished.set()

        thread = threading.Thread(target=health)
        thread.start()
        # The busy timeout is 30 s: a read that needed the lock would still be waiting.
        assert finished.wait(timeout=10), "the health read waited for the writer"
        writer.commit()
    thread.join()
    engine.dispose()


def test_ordinary_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/lock.db")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        assert connection.connection.dbapi_connection.in_transaction
    engine.dispose()
