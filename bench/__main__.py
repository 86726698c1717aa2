"""`python -m bench` (or `make bench`): how the hot paths compare with baselines.

Machines here are shared and noisy, so nothing is judged in seconds: each benchmark times
the real code and a baseline in the same run (median of several runs) and prints the ratio.
Watch the ratios between commits, not the times.
"""

from __future__ import annotations

import os


def bench_slack_burst() -> None:
    from bench.slack_burst import report_burst

    for line in report_burst():
        print(line)


def main() -> None:
    """Run every benchmark and print one table of ratios.

    `BENCH_DATABASE_URL` (a PostgreSQL database it may empty) adds the PostgreSQL rows;
    `BENCH_SIZES` (default "10,10000,100000") the directory sizes ranked.
    """
    from bench.digest import report_digest
    from bench.directory_import import report_directory_import
    from bench.outbox_fanout import report_fanout
    from bench.routing import report_ranking
    from bench.startup import report_startup

    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "10,10000,100000").split(",")]
    print("benchmark                       ratio   (baseline measured in this run)")
    postgres_url = os.environ.get("BENCH_DATABASE_URL")
    for line in report_ranking(sizes, postgres_url=postgres_url):
        print(line)
    for line in report_directory_import(10_000, postgres_url=postgres_url):
        print(line)
    for line in report_digest([1, 10], postgres_url=postgres_url):
        print(line)
    for line in report_startup():
        print(line)
    bench_slack_burst()
    print("\n".join(report_fanout(postgres_url=postgres_url)))


if __name__ == "__main__":
    main()
