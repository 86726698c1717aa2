"""A directory for team deployment tests (tests/fixtures/team_directory.csv): a National
Support School's staff (Oak Hill), an aspiring leader there and elsewhere, and one at the
supported school itself."""

from pathlib import Path

TEAM_DIRECTORY = (Path(__file__).parents[1] / "fixtures" / "team_directory.csv").read_text()
