"""`python -m bench` (or `make bench`): how the hot paths compare with baselines.

Machines here are shared and noisy, so nothing is judged in seconds: each benchmark times
the real code and a baseline in the same run (median of several runs) and prints the ratio.
Watch the ratios between commits, not the times.
"""

from __future__ import annotations

import os


def main() -> None:
    """Run every benchmark and print one table: measured, baseline, ratio, goal.

    `BENCH_DATABASE_URL` (a PostgreSQL database it may empty) adds the PostgreSQL rows;
    `BENCH_SIZES` (default "10,10000,100000") the directory sizes ranked; `BENCH_ACCEPTS`
    (default 20) the Accepts in the burst (200 takes some 20 minutes a database: Slack's
    limits on `chat.update` set the pace).
    """
    from bench.accept_burst import report_accept_burst
    from bench.click_to_offer import report_click_to_offer
    from bench.digest import report_digest
    from bench.directory_import import report_directory_import
    from bench.outbox_fanout import report_fanout
    from bench.routing import report_ranking
    from bench.slack_burst import report_burst
    from bench.startup import report_startup
    from bench.table import render

    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "10,10000,100000").split(",")]
    postgres_url = os.environ.get("BENCH_DATABASE_URL")
    accepts = int(os.environ.get("BENCH_ACCEPTS", "20"))
    rows = [
        *report_ranking(sizes, postgres_url=postgres_url),
        *report_click_to_offer(sizes, postgres_url=postgres_url),
        *report_directory_import(10_000, postgres_url=postgres_url),
        *report_digest([1, 10], postgres_url=postgres_url),
        *report_startup(),
        *report_burst(),
        *report_fanout(postgres_url=postgres_url),
        *report_accept_burst(accepts, postgres_url=postgres_url),
    ]
    print(render(rows))


if __name__ == "__main__":
    main()
