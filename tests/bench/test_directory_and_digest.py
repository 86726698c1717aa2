"""Small runs of the directory import and digest benchmarks, so `make bench` never rots."""

from __future__ import annotations

from sqlalchemy import Engine, text

from bench.digest import RUNNING, generate_history, report_digest
from bench.directory_import import report_directory_import
from tests.bench.smoke import assert_rows, databases


def test_the_import_benchmark_gives_a_row_per_database_with_rows_per_second(
    db_url: str,
) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_directory_import(300, postgres_url=postgres_url)
    assert_rows(rows, [f"import 300 rows ({label})" for label in labels])
    assert all(" rows/s;" in row.note for row in rows)


def test_the_digest_benchmark_gives_a_row_per_database_and_history(db_url: str) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_digest([1, 2], per_year=50, postgres_url=postgres_url, repeats=2)
    assert_rows(rows, [f"digest, {n} y history ({label})" for label in labels for n in (1, 2)])


def test_the_digest_history_has_running_work_beside_closed(engine: Engine) -> None:
    generate_history(engine, years=1, per_year=200)
    with engine.connect() as connection:

        def counts(sql: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in connection.execute(text(sql)).all()}

        history = "request_id > (SELECT max(request_id) FROM deployment) - 200"
        requests = counts(
            "SELECT status, count(*) FROM support_request "
            "WHERE id > (SELECT max(id) FROM support_request) - 200 GROUP BY status"
        )
        deployments = counts(f"SELECT status, count(*) FROM deployment WHERE {history} GROUP BY 1")
        offers = counts(f"SELECT status, count(*) FROM offer WHERE {history} GROUP BY status")
        tags_per_request = counts(
            f"SELECT request_id, count(*) FROM request_tag WHERE {history} GROUP BY request_id"
        )
        unanswered_with_answers = connection.execute(
            text(
                "SELECT count(*) FROM checkin JOIN checkin_answer "
                "ON checkin_answer.checkin_id = checkin.id WHERE checkin.status <> 'answered'"
            )
        ).scalar_one()
    # The latest (a little under RUNNING's share of the year) are still running.
    assert 0 < requests["accepted"] <= 200 * RUNNING.days / 365
    assert requests["closed"] == 200 - requests["accepted"]
    assert deployments == {"active": requests["accepted"], "completed": requests["closed"]}
    assert offers == {"accepted": 200, "withdrawn": 400}
    assert len(tags_per_request) == 200 and set(tags_per_request.values()) <= {1, 2, 3}
    assert unanswered_with_answers == 0
