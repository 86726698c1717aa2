"""The bot's own log handler in a test: lines exactly as production writes them to stderr."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core.logs import keep_personal_data_out_of_logs, make_handler, quieten_noisy_libraries

LOG_FORMATS = ["text", "json"]


@contextmanager
def bot_log(log_format: str) -> Iterator[io.StringIO]:
    """While the block runs, logging is as `configure_logging` sets it for LOG_LEVEL=DEBUG and
    `LOG_FORMAT=log_format`, its handler writing into the stream yielded."""
    stream = io.StringIO()
    handler = make_handler(log_format)
    handler.setStream(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quieten_noisy_libraries()
    keep_personal_data_out_of_logs()
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
