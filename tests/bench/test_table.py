"""`make bench` prints one table: name, measured, baseline, ratio, goal."""

from __future__ import annotations

from bench.table import Row, render


def test_the_table_has_one_aligned_line_per_benchmark_under_a_header() -> None:
    rows = [
        Row("rank 10 (SQLite)", 0.004, 0.0001, "s", "< 20 ms", "1.0× the 10 time"),
        Row("idle memory (RSS)", 90.1, 34.0, "MB", "reported"),
    ]
    lines = render(rows).splitlines()
    assert lines[0].split() == ["benchmark", "measured", "baseline", "ratio", "goal"]
    assert lines[1].split("  ")[0] == "rank 10 (SQLite)"
    assert "4.0 ms" in lines[1] and "0.1 ms" in lines[1] and "40.00×" in lines[1]
    assert lines[1].endswith("< 20 ms; 1.0× the 10 time")
    assert "90.1 MB" in lines[2] and "2.65×" in lines[2] and lines[2].endswith("reported")
    assert len({line.index("ratio") for line in lines[:1]}) == 1
    assert lines[1].index("×") == lines[2].index("×")  # the ratio column is aligned
