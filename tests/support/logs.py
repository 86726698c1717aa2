"""The bot's own log handler in a test: lines exactly as production writes them to stderr."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core.logs import keep_personal_data_out_of_logs, make_handler

LOG_FORMATS = ["text", "json"]


@contextmanager
def bot_log(log_format: str) -> Iterator[io.StringIO]:
    """While the block runs, everything logged at DEBUG and above goes through the handler
    `configure_logging` installs for `LOG_FORMAT=log_format`, into the stream yielded."""
    stream = io.StringIO()
    handler = make_handler(log_format)
    handler.setStream(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    keep_personal_data_out_of_logs()
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
