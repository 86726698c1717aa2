"""Start-up cost: `python -m bot --help` against a bare Bolt import, same interpreter."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

BARE_BOLT = "import slack_bolt; slack_bolt.App"


def _run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return time.perf_counter() - start


def report_startup(repeats: int = 5) -> list[str]:
    """`--help` as a ratio of importing Bolt, median of `repeats`."""
    ours = statistics.median(_run([sys.executable, "-m", "bot", "--help"]) for _ in range(repeats))
    bare = statistics.median(_run([sys.executable, "-c", BARE_BOLT]) for _ in range(repeats))
    return [f"{'python -m bot --help':<28} {ours / bare:8.1f}×  (vs importing a bare Bolt app)"]
