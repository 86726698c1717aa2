"""The supply-and-demand report: terms, figures from a seeded history checked against values
worked out by hand (see `tests/bot/insight_history.py`), the charts, and `python -m bot report`."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.core.school_calendar import SchoolCalendar, load_calendar
from bot.core.settings import load_settings
from bot.insight.charts import CHART_FILES, HEIGHT_PX, WIDTH_PX, render_charts
from bot.insight.service import (
    Cell,
    InsightError,
    WaitStats,
    build_insight,
    gap_sentence,
    insight_as_dict,
    insight_tables,
    parse_term,
    percentile,
    term,
    term_of,
)
from storage.db import SessionFactory
from tests.support.insight_history import AS_OF, seed_history

ROOT = Path(__file__).resolve().parents[3]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def calendar() -> SchoolCalendar:
    return load_calendar(load_settings({}, env_file=None))


# --- terms and percentiles -----------------------------------------------------------------------
def test_terms_cover_every_day_once_with_easter_between_spring_and_summer() -> None:
    assert term("autumn", 2026).first == date(2026, 9, 1)
    assert term("autumn", 2026).last == date(2026, 12, 31)
    # Easter Sunday 2027 is 28 March.
    assert term("spring", 2027).last == date(2027, 3, 28)
    assert term("summer", 2027).first == date(2027, 3, 29)
    assert term("summer", 2027).last == date(2027, 8, 31)
    assert term_of(date(2027, 3, 28)).label == "Spring term 2027"
    assert term_of(date(2027, 3, 29)).label == "Summer term 2027"
    assert term_of(date(2026, 8, 31)).label == "Summer term 2026"
    assert term_of(date(2026, 9, 1)).label == "Autumn term 2026"
    assert parse_term("Autumn 2026") == parse_term("2026-autumn") == term("autumn", 2026)
    with pytest.raises(InsightError, match="autumn-2026"):
        parse_term("winter-2026")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 12)], 0.9) == 10.0
    assert percentile([4.0, 1.0], 0.9) == 4.0


# --- figures from the seeded history -------------------------------------------------------------
@pytest.fixture
def seeded(sessions: SessionFactory) -> dict[str, int]:
    return seed_history(sessions)


def autumn(sessions: SessionFactory):  # type: ignore[no-untyped-def]
    with sessions() as session:
        return build_insight(session, calendar(), term("autumn", 2026), now=AS_OF)


def test_time_to_accept_by_tag_and_region(sessions: SessionFactory, seeded: dict[str, int]) -> None:
    insight = autumn(sessions)
    assert insight.requests == 7  # R1-R6 and R8: R0 was last term, R7 was cancelled
    assert insight.accepted == 5
    assert insight.overall == WaitStats("all", 5, 2.0, 11.0)
    by_tag = {s.key: s for s in insight.by_tag}
    assert set(by_tag) == {"SEND", "Maths"}
    assert by_tag["SEND"] == WaitStats("SEND", 4, 3.0, 11.0)
    assert by_tag["Maths"] == WaitStats("Maths", 2, 2.5, 4.0)
    by_region = {s.key: s for s in insight.by_region}
    assert by_region == {
        "East Midlands": WaitStats("East Midlands", 1, 1.0, 1.0),
        "West Midlands": WaitStats("West Midlands", 4, 3.0, 11.0),
    }


def test_found_nobody_capacity_and_demand_against_supply(
    sessions: SessionFactory, seeded: dict[str, int]
) -> None:
    insight = autumn(sessions)
    assert insight.found_nobody == [seeded["R5"]]
    assert insight.at_capacity == ["USLE2", "USPEC1"]
    assert insight.near_capacity == ["UNLE1"]
    assert insight.cells == [
        Cell("maths", "Maths", "East Midlands", 1, 1, 0, 0, 0),
        Cell("maths", "Maths", "West Midlands", 1, 1, 0, 0, 2),
        Cell("send", "SEND", "North East", 2, 0, 2, 1, 0),
        Cell("send", "SEND", "West Midlands", 4, 4, 0, 1, 2),
    ]
    assert [gap_sentence(c) for c in insight.gaps] == [
        "No SEND supporter with capacity in the North East: 1 request waited over 10 working days.",
        "SEND in the West Midlands: 1 request waited over 10 working days, "
        "with only 2 places free.",
    ]


def test_weekly_new_and_accepted(sessions: SessionFactory, seeded: dict[str, int]) -> None:
    weekly = {w.week_start: (w.new, w.accepted) for w in autumn(sessions).weekly}
    assert min(weekly) == date(2026, 8, 31) and max(weekly) == date(2026, 11, 30)
    assert len(weekly) == 14
    busy = {week: counts for week, counts in weekly.items() if counts != (0, 0)}
    assert busy == {
        date(2026, 8, 31): (0, 1),  # R0, made last term, accepted on 2 September
        date(2026, 10, 12): (1, 0),  # R8
        date(2026, 10, 26): (0, 1),  # R8
        date(2026, 11, 2): (2, 1),  # R1, R5 made; R1 accepted
        date(2026, 11, 9): (2, 2),  # R2, R3
        date(2026, 11, 16): (1, 1),  # R4
        date(2026, 11, 23): (1, 0),  # R6
    }


def test_a_gap_with_nobody_waiting_long_names_the_unmet_requests() -> None:
    cell = Cell("send", "SEND", "London", 3, 0, 3, 0, 0)
    assert gap_sentence(cell) == (
        "No SEND supporter with capacity in London: 3 requests still without a supporter."
    )


def test_plain_forms_carry_counts_and_ids_only(
    sessions: SessionFactory, seeded: dict[str, int]
) -> None:
    insight = autumn(sessions)
    data = insight_as_dict(insight)
    assert data["time_to_accept"] == {
        "group": "all",
        "accepted": 5,
        "median_working_days": 2.0,
        "p90_working_days": 11.0,
    }
    assert data["found_nobody"] == {"count": 1, "request_ids": [seeded["R5"]]}
    tables = insight_tables(insight)
    assert tables["time-to-accept-by-tag.csv"][0] == [
        "group",
        "accepted",
        "median_working_days",
        "p90_working_days",
    ]
    everything = json.dumps(data) + json.dumps(tables, default=str)
    for private in ("Private", "Hannah", "Mere Green", "Tyne Bank", "UHEAD1"):
        assert private not in everything


# --- charts --------------------------------------------------------------------------------------
def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == PNG_SIGNATURE
    assert content[12:16] == b"IHDR"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


def test_charts_are_pngs_of_the_expected_size(
    sessions: SessionFactory, seeded: dict[str, int]
) -> None:
    charts = render_charts(autumn(sessions))
    assert tuple(charts) == CHART_FILES
    for name, content in charts.items():
        assert png_size(content) == (WIDTH_PX, HEIGHT_PX), name
        assert len(content) > 10_000, name  # drawn, not blank


def test_charts_of_an_empty_period_still_render(sessions: SessionFactory) -> None:
    with sessions() as session:
        insight = build_insight(session, calendar(), term("spring", 2026), now=AS_OF)
    for content in render_charts(insight).values():
        assert png_size(content) == (WIDTH_PX, HEIGHT_PX)


# --- the command ---------------------------------------------------------------------------------
def run_report(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "report", *args],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db_url,
            "MPLCONFIGDIR": os.environ.get("MPLCONFIGDIR", "/tmp/mpl-school-support"),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_report_command_writes_json_csv_and_png(
    engine: Engine, sessions: SessionFactory, seeded: dict[str, int], tmp_path: Path
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    result = run_report(url, "--term", "autumn-2026", "--format", "json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["period"] == {"label": "Autumn term 2026", "from": "2026-09-01", "to": "2026-12-31"}
    assert data["found_nobody"]["request_ids"] == [seeded["R5"]]
    assert "Autumn term 2026: 7 requests, 5 accepted; median time to acceptance" in result.stdout
    assert "Gap: No SEND supporter with capacity in the North East" in result.stdout
    result = run_report(url, "--from", "2026-09-01", "--to", "2026-12-31", "--format", "csv",
                        "--out", str(tmp_path / "csv"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "csv" / "time-to-accept-by-region.csv").read_text().splitlines()
    assert "East Midlands,1,1.0,1.0" in lines
    result = run_report(url, "--term", "autumn-2026", "--out", str(tmp_path / "png"))
    assert result.returncode == 0, result.stderr
    for name in CHART_FILES:
        assert png_size((tmp_path / "png" / name).read_bytes()) == (WIDTH_PX, HEIGHT_PX)
        assert f"Wrote {tmp_path / 'png' / name}" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--term", "winter-2026"], "--term must be a term and year like autumn-2026"),
        (["--term", "autumn-2026", "--from", "2026-09-01"], "either --term or --from/--to"),
        (["--to", "2026-09-01"], "--to needs --from as well"),
        (["--from", "1 Sept"], "--from must be a date like 2026-11-23"),
        (
            ["--from", "2026-12-01", "--to", "2026-11-01"],
            "--to (1 November 2026) is before --from (1 December 2026)",
        ),
    ],
)
def test_bad_report_arguments_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    url = f"sqlite:///{tmp_path}/report.db"
    result = run_report(url, *args, "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert not (tmp_path / "out").exists()
