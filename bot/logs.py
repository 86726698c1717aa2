"""Logging: ids, never request text or tokens.

slack_sdk logs whole request and response bodies at DEBUG (message text, names), so its
loggers and Bolt's are kept at INFO or above whatever LOG_LEVEL says; the bot's own DEBUG
lines carry ids only. Besides, both libraries put bodies into some INFO and WARNING lines
(Bolt's "Unhandled request ({…})", its signature check's "…, body: …)"), so every record
from them keeps only its opening words: `LibraryDetailFilter`.
"""

from __future__ import annotations

import logging
import re
import sys

LIBRARIES_THAT_LOG_BODIES = ("slack_sdk", "slack_bolt")
NOISY = ("alembic", "apscheduler.executors", "httpx")
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


def configure_logging(level: str) -> None:
    """Log to stderr at `level`, with the Slack libraries held at INFO and their details cut."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    keep_personal_data_out_of_logs()
