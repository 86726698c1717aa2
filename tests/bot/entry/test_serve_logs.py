"""The served bot's log lines as a log collector reads them: with `LOG_FORMAT=json` every line
is one JSON object (the web server's own lines too), and `LOG_LEVEL` holds for them as well,
under `python -m bot serve` and under the Procfile's `uvicorn --factory`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from handlers.slack.stand_in.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(how: str, port: int) -> list[str]:
    if how == "serve":
        return [sys.executable, "-m", "bot", "serve"]
    return [  # the Procfile's web process
        *(sys.executable, "-m", "uvicorn", "--factory", "bot.entry.serve:build_asgi_app"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]


def _serve_once(how: str, tmp_path: Path, **settings: str) -> list[str]:
    """Start the bot, ask /healthz once, stop it; return its stderr lines."""
    port = _free_port()
    with FakeSlack() as fake:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": fake.url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/support.db",
            "PORT": str(port),
            "SCHEDULER_ENABLED": "false",
            **settings,
        }
        process = subprocess.Popen(
            _command(how, port), cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_healthy(port, process)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=30)
    return [line for line in stderr.splitlines() if line.strip()]


def _wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the bot stopped before it served"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the bot did not become healthy")


@pytest.mark.parametrize("how", ["serve", "factory"])
def test_json_logs_are_one_object_per_line_including_the_web_servers(
    how: str, tmp_path: Path
) -> None:
    lines = _serve_once(how, tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON object: {line!r}") from None
    loggers = {entry["logger"] for entry in entries}
    assert "uvicorn.error" in loggers, "the server's start and stop are logged"
    assert "uvicorn.access" in loggers, "the request to /healthz is logged"
    assert all({"time", "level", "logger", "event"} <= set(entry) for entry in entries)


@pytest.mark.parametrize("how", ["serve", "factory"])
def test_log_level_quietens_the_web_server_too(how: str, tmp_path: Path) -> None:
    lines = _serve_once(how, tmp_path, LOG_LEVEL="WARNING")
    assert [line for line in lines if "INFO" in line] == []
