"""Start-up cost against bare Bolt, same interpreter: `python -m bot --help` against importing
Bolt, and the time to the first healthy `GET /healthz` and the idle memory (RSS) of
`python -m bot serve` against a bare Bolt app served the same way (bench/bare_bolt_server.py);
and, to show what the fixed stack costs by itself, the same bare app made to import SQLModel
and connect to the database first (its floor), against which the bot's own share is seen.

The bot starts on a database already migrated (a restart, as after a deploy), its Web API
pointed at a local fake Slack; its scheduler and outbox worker start as soon as it listens
(`bot.entry.serve`), so the idle memory a second later includes them. It starts from
bytecode, as an installed copy does (pip compiles what it installs): with
PYTHONDONTWRITEBYTECODE set, a source tree nobody compiled would be compiled at every start.
"""

from __future__ import annotations

import compileall
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.table import Row
from handlers.slack.stand_in.fake_slack import FakeSlack

BARE_BOLT = "import slack_bolt; slack_bolt.App"
ROOT = Path(__file__).resolve().parent.parent
HEALTHY_WITHIN = 60.0  # seconds; a start slower than this is a failure, not a figure


def _run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=120, cwd=ROOT)
    return time.perf_counter() - start


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def _rss_mb(pid: int) -> float:
    """Resident memory of a process in MB, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def serve_and_measure(argv: list[str], env: dict[str, str], port: int) -> tuple[float, float]:
    """(seconds from launch to the first healthy /healthz, idle RSS in MB a second later)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while not _healthy(port):
            if process.poll() is not None or time.perf_counter() - start > HEALTHY_WITHIN:
                errors = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"{argv} never became healthy: {errors!r}")
            time.sleep(0.01)
        healthy = time.perf_counter() - start
        time.sleep(1.0)
        return healthy, _rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _bot_env(folder: str, fake: FakeSlack, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{folder}/startup.db",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


@dataclass(frozen=True)
class Serving:
    """Medians of (seconds to the first healthy /healthz, idle RSS in MB) for each server."""

    bot: tuple[float, float]
    bare: tuple[float, float]
    floor: tuple[float, float]


def measure_serving(repeats: int) -> Serving:
    """The bot, bare Bolt, and bare Bolt on the bot's database stack, interleaved."""
    runs: dict[str, list[tuple[float, float]]] = {"bot": [], "bare": [], "floor": []}
    fake = FakeSlack()
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = _bot_env(folder, fake, _free_port())
            subprocess.run(
                [sys.executable, "-m", "bot", "migrate"],
                env=env,
                check=True,
                cwd=ROOT,
                capture_output=True,
            )
            bare_bolt = [sys.executable, "-m", "bench.bare_bolt_server"]
            for _ in range(repeats):
                port = _free_port()
                runs["bare"].append(serve_and_measure([*bare_bolt, str(port)], env, port))
                port = _free_port()
                runs["floor"].append(
                    serve_and_measure([*bare_bolt, str(port), env["DATABASE_URL"]], env, port)
                )
                port = _free_port()
                runs["bot"].append(
                    serve_and_measure(
                        [sys.executable, "-m", "bot", "serve"], _bot_env(folder, fake, port), port
                    )
                )
    finally:
        fake.close()
    return Serving(**{name: _medians(pairs) for name, pairs in runs.items()})


def _medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def report_startup(repeats: int = 5) -> list[Row]:
    """`--help` against importing Bolt; first /healthz and idle RSS against bare Bolt."""
    for package in ("bot", "handlers", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    ours = statistics.median(_run([sys.executable, "-m", "bot", "--help"]) for _ in range(repeats))
    bare = statistics.median(_run([sys.executable, "-c", BARE_BOLT]) for _ in range(repeats))
    serving = measure_serving(repeats)
    (healthy, rss), (bare_healthy, bare_rss) = serving.bot, serving.bare
    floor = serving.floor[0]
    return [
        Row(
            "python -m bot --help",
            ours,
            bare,
            "s",
            "no database layer imported",
            "vs importing Bolt",
        ),
        Row(
            "first healthy /healthz",
            healthy,
            bare_healthy,
            "s",
            "≤ 2× bare Bolt",
            "vs bare Bolt, same server",
        ),
        Row(
            "bare Bolt on SQLModel: /healthz",
            floor,
            bare_healthy,
            "s",
            "reported",
            "the stack's floor: imports SQLModel, connects once",
        ),
        Row(
            "first healthy /healthz, vs floor",
            healthy,
            floor,
            "s",
            "reported",
            "vs that floor: the bot's own start-up",
        ),
        Row("idle memory (RSS)", rss, bare_rss, "MB", "reported", "vs bare Bolt, same server"),
    ]
