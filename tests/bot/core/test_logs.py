"""LOG_FORMAT: plain text by default, or one JSON object per line with ids and durations."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.core.logs import TEXT_FORMAT, JsonFormatter, TextFormatter
from bot.core.settings import SettingsError, load_settings
from tests.support.logs import bot_log

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import logging
from bot.core.logs import configure_logging
from bot.core.settings import load_settings
settings = load_settings()
configure_logging(settings.log_level, settings.log_format)
log = logging.getLogger("handlers.slack.sender")
log.info("outbox %s sent", 12, extra={"outbox_id": 12, "duration_ms": 41})
try:
    raise ValueError("boom")
except ValueError:
    log.exception("due task %s failed", "checkins_sent", extra={"task": "checkins_sent"})
logging.getLogger("slack_sdk.web").debug("a body with message text")
"""


def run(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def test_json_logs_are_one_object_per_line_with_ids_and_duration() -> None:
    lines = run({"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    sent, failed = (json.loads(line) for line in lines[:2])
    assert sent["level"] == "INFO" and sent["logger"] == "handlers.slack.sender"
    assert sent["event"] == "outbox 12 sent"
    assert (sent["outbox_id"], sent["duration_ms"]) == (12, 41)
    assert sent["time"].endswith("+00:00")
    assert failed["task"] == "checkins_sent" and failed["exc_type"] == "ValueError"
    assert "Traceback" in failed["traceback"]
    # slack_sdk stays at INFO even at LOG_LEVEL=DEBUG: its bodies never reach the log.
    assert len(lines) == len([json.loads(line) for line in lines]) and not any(
        "message text" in line for line in lines
    )


def test_plain_text_stays_the_default() -> None:
    lines = run({})
    assert lines[0].endswith("INFO handlers.slack.sender: outbox 12 sent")
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


def test_log_format_is_validated() -> None:
    assert load_settings({}, env_file=None).log_format == "text"
    assert load_settings({"LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    with pytest.raises(SettingsError) as caught:
        load_settings({"LOG_FORMAT": "xml"}, env_file=None)
    assert caught.value.problems == ["LOG_FORMAT must be text or json, not 'xml'"]


def test_the_formatter_keeps_values_json_safe() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "request %s", (3,), None)
    record.request_id = 3
    record.week = Path("2026-11-30")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["event"] == "request 3"
    assert entry["request_id"] == 3 and entry["week"] == "2026-11-30"


# Named once, here: a traceback quotes the source lines of its frames.
PERSON = "Anna Balson"
ANSWER = "{'ok': False, 'error': 'Failing row contains (%s)'}"


class _Refused(Exception):
    """An error carrying an HTTP answer, as slack_sdk's and httpx's do."""

    def __init__(self, body: str) -> None:
        super().__init__(f"The server responded with: {body}")
        self.response = SimpleNamespace(status_code=500)


def _save(name: str) -> None:
    try:
        raise _Refused(ANSWER % name)
    except _Refused as exc:
        raise RuntimeError(f"could not save {name}") from exc


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_keeps_frames_and_types_but_not_messages(log_format: str) -> None:
    with bot_log(log_format) as lines:
        try:
            _save(PERSON)
        except RuntimeError:
            logging.getLogger("bot.entry.jobs").exception("due task %s failed", "digests_sent")

    logged = lines.getvalue()
    if log_format == "json":
        [entry] = [json.loads(line) for line in logged.splitlines()]
        assert entry["event"] == "due task digests_sent failed"
        assert entry["exc_type"] == "RuntimeError"
        logged = entry["traceback"]
    assert "Anna Balson" not in logged and "Failing row" not in logged
    assert "in _save" in logged and "direct cause of the following exception" in logged
    assert "test_logs._Refused: [message withheld, " in logged and "; HTTP 500]" in logged
    assert logged.rstrip().endswith(
        f"RuntimeError: [message withheld, {len(f'could not save {PERSON}')} characters]"
    )


def test_a_traceback_another_handler_rendered_first_is_rendered_again() -> None:
    record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed", (), None)
    try:
        _save(PERSON)
    except RuntimeError:
        record.exc_info = sys.exc_info()
    record.exc_text = "RuntimeError: could not save Anna Balson"  # e.g. pytest's own handler
    assert "Anna Balson" not in TextFormatter(TEXT_FORMAT).format(record)
    assert record.exc_text == "RuntimeError: could not save Anna Balson"
