"""`python -m bot --help` and argument errors answer without loading the database layer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.entry.cli import REQUEST_STATUSES
from storage.models import REQUEST_STATUSES as STORED_STATUSES

PROBE = """
import sys
from bot.entry.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "sqlmodel", "storage"))
print("HEAVY:" + ",".join(heavy))
sys.exit(code)
"""


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["--help"], 0), (["requests", "list", "--status", "lost"], 2), (["no-such"], 2)],
)
def test_help_and_argument_errors_import_no_database_layer(argv: list[str], code: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_the_cli_statuses_are_the_stored_ones() -> None:
    assert tuple(REQUEST_STATUSES) == tuple(STORED_STATUSES)
