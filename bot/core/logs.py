"""Logging: ids, never request text or tokens.

slack_sdk logs whole request and response bodies at DEBUG (message text, names), so its
loggers and Bolt's are kept at INFO or above whatever LOG_LEVEL says; the bot's own DEBUG
lines carry ids only. Besides, both libraries put bodies into some INFO and WARNING lines
(Bolt's "Unhandled request ({…})", its signature check's "…, body: …)"), so every record
from them keeps only its opening words: `LibraryDetailFilter`.

`LOG_FORMAT=json` writes one JSON object per line: `time`, `level`, `logger`, `event` (the
message, which carries ids only), any ids or `duration_ms` passed with `extra=`, and the
exception's type and traceback when there is one.

A traceback, in either format, keeps its frames and exception types but not the exceptions'
messages: those quote what failed (PostgreSQL's "Failing row contains (…)", a Slack error's
whole response body). Only their length and codes are kept (SQLSTATE, SQLite's error name,
an HTTP status): `traceback_without_messages`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

LIBRARIES_THAT_LOG_BODIES = ("slack_sdk", "slack_bolt", "microsoft_teams")
# Libraries kept at WARNING: httpx logs every URL it calls at INFO, httpcore every answer's
# headers at DEBUG.
NOISY = ("alembic", "apscheduler.executors", "httpx", "httpcore")
# The web server's loggers: uvicorn gives them handlers of its own; ours replace them.
WEB_SERVER = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_DETAIL = re.compile(r"[(:{\[\n]")


class LibraryDetailFilter(logging.Filter):
    """Cut a Slack library's log line at its first detail ("(", ":", "{", "[" or a newline),
    dropping its arguments and traceback: what is left names what happened, not what was sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(LIBRARIES_THAT_LOG_BODIES) or hasattr(record, "withheld"):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed library call: keep nothing of it
            message = ""
        kept = _DETAIL.split(message, maxsplit=1)[0].strip() or "message"
        if record.exc_info and record.exc_info[0] is not None:
            kept += f" ({record.exc_info[0].__name__})"
        record.msg = f"{kept} [details withheld, {len(message)} characters]"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        record.withheld = True
        return True


_FILTER = LibraryDetailFilter()


_CODE = re.compile(r"[A-Za-z0-9_]{1,40}")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def traceback_without_messages(exc: BaseException) -> str:
    """`exc`'s traceback as Python prints it, chained exceptions included, with each
    exception's message replaced by its length and the codes it carries."""
    lines: list[str] = []
    _add_chain(exc, lines, set())
    return "".join(lines).rstrip("\n")


def _add_chain(exc: BaseException, lines: list[str], seen: set[int]) -> None:
    seen.add(id(exc))
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        _add_chain(cause, lines, seen)
        lines.append(_CAUSE)
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        _add_chain(context, lines, seen)
        lines.append(_CONTEXT)
    if exc.__traceback__ is not None:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_tb(exc.__traceback__))
    lines.append(_withheld(exc) + "\n")


def _withheld(exc: BaseException) -> str:
    """The exception's type, the size of its message and its codes: "psycopg.errors.
    NotNullViolation: [message withheld, 212 characters; SQLSTATE 23502]"."""
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    try:
        size = len(str(exc))
    except Exception:  # a broken __str__: nothing of it is kept anyway
        size = 0
    return f"{name}: [message withheld, {size} characters{''.join(_codes(exc))}]"


def _codes(exc: BaseException) -> list[str]:
    """Codes that say what went wrong without quoting data: a database's SQLSTATE or error
    name, a web API's HTTP status."""
    try:
        found = {
            "SQLSTATE": getattr(exc, "sqlstate", None),
            "SQLite": getattr(exc, "sqlite_errorname", None),
            "HTTP": getattr(getattr(exc, "response", None), "status_code", None),
        }
    except Exception:  # a property that fails: no codes then
        return []
    return [
        f"; {label} {value}"
        for label, value in found.items()
        if isinstance(value, str | int) and _CODE.fullmatch(str(value))
    ]


class _TracebacksWithoutMessages(logging.Formatter):
    """Tracebacks keep their frames and exception types, never the messages."""

    def formatException(self, ei: Any) -> str:
        return traceback_without_messages(ei[1]) if ei[1] is not None else ""


class TextFormatter(_TracebacksWithoutMessages):
    """`time LEVEL logger: message`, and the traceback without messages."""

    def format(self, record: logging.LogRecord) -> str:
        # Never another handler's rendering of the traceback, which may keep the messages.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def keep_personal_data_out_of_logs() -> None:
    """Never let the Slack libraries log message bodies, at any level.

    The filter sits on every Slack library logger that exists now, and on the two parents
    (Bolt copies its base logger's filters to the loggers it makes later), and on the root
    logger's handlers, which every record reaches.
    """
    for name in LIBRARIES_THAT_LOG_BODIES:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.INFO, logger.level or logging.INFO))
    existing = list(logging.root.manager.loggerDict)
    for name in [*LIBRARIES_THAT_LOG_BODIES, *existing]:
        if name.startswith(LIBRARIES_THAT_LOG_BODIES):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
    for handler in logging.getLogger().handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


class JsonFormatter(_TracebacksWithoutMessages):
    """One JSON object per line: time, level, logger, event, extras (ids, duration_ms)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(log_format: str = "text") -> logging.Handler:
    """A stderr handler writing plain text lines or JSON objects."""
    handler = logging.StreamHandler(sys.stderr)
    json_lines = log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(TEXT_FORMAT))
    return handler


def configure_logging(level: str, log_format: str = "text") -> None:
    """Log to stderr at `level`, as text or JSON lines; Slack libraries at INFO, details cut."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format)])
    quieten_noisy_libraries()
    adopt_web_server_logs()
    keep_personal_data_out_of_logs()


class AtLeast(logging.Filter):
    """Drop a logger's records below `level`, whatever level the logger is set to later."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def quieten_noisy_libraries() -> None:
    """Keep the `NOISY` libraries at WARNING (or LOG_LEVEL, if higher), also after one of them
    is set lower: the Teams SDK sets httpx's level to its own, NOTSET, on every API client it
    makes, one per activity."""
    floor = max(logging.WARNING, logging.getLogger().level)
    for name in NOISY:
        logger = logging.getLogger(name)
        logger.setLevel(floor)
        for old in [f for f in logger.filters if isinstance(f, AtLeast)]:
            logger.removeFilter(old)
        logger.addFilter(AtLeast(floor))


def adopt_web_server_logs() -> None:
    """Send uvicorn's lines (started, stopped, one per request) through the root handler, so
    they follow LOG_FORMAT and LOG_LEVEL like every other line, whoever configured uvicorn."""
    for name in WEB_SERVER:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
