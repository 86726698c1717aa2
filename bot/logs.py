"""Logging: ids, never request text or tokens.

slack_sdk logs whole request and response bodies at DEBUG (message text, names), so its
loggers and Bolt's are kept at INFO or above whatever LOG_LEVEL says; the bot's own DEBUG
lines carry ids only.
"""

from __future__ import annotations

import logging
import sys

LIBRARIES_THAT_LOG_BODIES = ("slack_sdk", "slack_bolt")
NOISY = ("alembic", "apscheduler.executors", "httpx")


def keep_personal_data_out_of_logs() -> None:
    """Never let the Slack libraries log message bodies."""
    for name in LIBRARIES_THAT_LOG_BODIES:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.INFO, logger.level or logging.INFO))


def configure_logging(level: str) -> None:
    """Log to stderr at `level`, with the Slack libraries held at INFO."""
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    keep_personal_data_out_of_logs()
