"""Ranking at a region's scale: the real service call against one hand-written query.

Both run on the same generated directory in the same run; the ratio to watch is how the
service call grows with the directory (it should stay flat) and how far it is from the
baseline query that only filters on the tags and takes the top three.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from bench.directory import generate_directory, random_need
from bench.table import Row
from bot.entry.runtime import prepare_database
from bot.routing.ranking_sql import rank_in_sql
from storage.db import make_engine, make_session_factory, read_only, transaction

BASELINE = """
SELECT p.id FROM person p JOIN personexpertise e ON e.person_id = p.id
WHERE e.tag_slug = :tag AND p.available AND p.capacity > 0
ORDER BY p.name, p.id LIMIT 3
"""


def median_of(work: Callable[[], object], repeats: int) -> float:
    """The median of `repeats` timed runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_ranking(engine: Engine, supporters: int, repeats: int) -> tuple[float, float]:
    """(ranking the top 3 in the service, the baseline query), median seconds."""
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        slugs = generate_directory(session, supporters)
    analyze(engine)
    rng = random.Random(1)
    needs = [random_need(rng, slugs, supporters) for _ in range(repeats)]
    with read_only(sessions) as session:
        real = median_of(
            lambda: rank_in_sql(session, needs[rng.randrange(repeats)], limit=3, tag_labels={}),
            repeats,
        )
        tag = sorted(needs[0].tags)[0]
        base = median_of(lambda: session.execute(text(BASELINE), {"tag": tag}).all(), repeats)
    return real, base


def analyze(engine: Engine) -> None:
    """Fresh statistics, and on PostgreSQL the visibility map a bulk load leaves unset (as
    autovacuum would soon do), so plans and index-only scans are those of a live database."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def fresh_engine(url: str | None, folder: str, name: str) -> Engine:
    """A migrated, empty database: a SQLite file in `folder`, or the PostgreSQL at `url`."""
    if url is None:
        engine = make_engine(f"sqlite:///{folder}/{name}.db")
    else:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    prepare_database(engine)
    return engine


def report_ranking(
    sizes: list[int], *, postgres_url: str | None = None, repeats: int = 7
) -> list[Row]:
    """One row per database and size: the service call against the baseline query."""
    rows = []
    for label, url in [("SQLite", None), ("PostgreSQL", postgres_url)]:
        if label == "PostgreSQL" and url is None:
            continue
        first: float | None = None
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes:
                engine = fresh_engine(url, folder, f"d{size}")
                real, base = time_ranking(engine, size, repeats)
                engine.dispose()
                first = first or real
                rows.append(
                    Row(
                        f"rank {size:,} ({label})",
                        real,
                        base,
                        "s",
                        "< 20 ms and ≤ 2× the smallest at 10,000; linear beyond",
                        f"{real / first:.1f}× the {sizes[0]:,} time",
                    )
                )
    return rows
