"""Directory import at a region's scale: the real import against one hand-written bulk INSERT.

Both write the same generated people into an empty database in the same run; the ratio says
how much the import's validation, report and per-batch look-ups cost over bare inserts.
"""

from __future__ import annotations

import csv
import io
import os
import random
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from bench.routing import fresh_engine
from bench.table import Row
from bot.directory.service import COLUMNS, import_directory
from storage.db import make_session_factory
from storage.models import Person

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
ROLE_CELLS = ["sle", "nle", "specialist", "head", "nle;sle", "coordinator"]
TAG_CELLS = ["send", "reading;phonics", "maths", "behaviour;attendance", ""]
PHASE_CELLS = ["primary", "Secondary", "all through", "special", ""]
REGION_CELLS = ["London", "west midlands", "North East", ""]


def directory_csv(rows: int, *, seed: int = 7) -> str:
    """A valid directory CSV of `rows` people spread over `rows // 10` schools."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n in range(1, rows + 1):
        school = rng.randint(1, max(rows // 10, 1))
        writer.writerow(
            [
                f"U{n:08d}",
                f"Person {n}",
                f"person{n}@example.org",
                rng.choice(ROLE_CELLS),
                f"School {school}",
                f"{100000 + school}",
                PHASE_CELLS[school % len(PHASE_CELLS)],
                REGION_CELLS[school % len(REGION_CELLS)],
                rng.choice(TAG_CELLS),
                rng.randint(0, 3),
            ]
        )
    return out.getvalue()


def time_import(engine: Engine, text: str) -> float:
    """Seconds to import `text` into the (empty) database with the real service."""
    sessions = make_session_factory(engine)
    start = time.perf_counter()
    report = import_directory(sessions, io.StringIO(text), now=NOW)
    elapsed = time.perf_counter() - start
    assert not report.rejected, report.rejected[:3]
    return elapsed


def time_bulk_insert(engine: Engine, rows: int) -> float:
    """Seconds for one executemany INSERT of the same number of bare people."""
    people = [
        {
            "slack_user_id": f"U{n:08d}",
            "name": f"Person {n}",
            "capacity": 1,
            "available": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for n in range(1, rows + 1)
    ]
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Person.__table__), people)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def report_directory_import(rows: int, *, postgres_url: str | None = None) -> list[Row]:
    """One row per database: the import against the bulk INSERT, and its rows per second."""
    text = directory_csv(rows)
    results = []
    for label, url in [("SQLite", None), ("PostgreSQL", postgres_url)]:
        if label == "PostgreSQL" and url is None:
            continue
        with tempfile.TemporaryDirectory() as folder:
            engine = fresh_engine(url, folder, "import")
            real = time_import(engine, text)
            engine.dispose()
            engine = fresh_engine(url, folder, "baseline")
            base = time_bulk_insert(engine, rows)
            engine.dispose()
        results.append(
            Row(
                f"import {rows:,} rows ({label})",
                real,
                base,
                "s",
                "≥ 2,000 rows/s",
                f"{rows / real:,.0f} rows/s; baseline one bulk INSERT of bare people; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
            )
        )
    return results
