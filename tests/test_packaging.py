"""The installed product: what the wheel ships (the demo's stand-in for Slack, its data) and
what it leaves behind (the tests and the benchmarks)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[1]


def _shipped_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    return set(find_namespace_packages(where=str(ROOT), include=include))


def test_the_wheel_ships_the_demos_stand_in_for_slack() -> None:
    shipped = _shipped_packages()
    for package in ("bot.entry", "bot.core", "handlers.slack", "handlers.slack.stand_in"):
        assert package in shipped
    assert (ROOT / "bot/entry/stand_in.py").is_file()
    assert (ROOT / "bot/data/demo_directory.csv").is_file()


def test_the_wheel_leaves_tests_and_benchmarks_behind() -> None:
    shipped = _shipped_packages()
    assert not [p for p in shipped if p.split(".")[0] in {"tests", "bench", "docs"}]
    assert not [p for p in shipped if p.endswith(".testing")]
