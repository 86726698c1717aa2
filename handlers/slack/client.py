"""The Slack Web API client the bot uses: pointed at `SLACK_API_URL`, counting its calls."""

from __future__ import annotations

import copy
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.metrics import SLACK_CALLS, slack_outcome
from bot.core.settings import Settings

# Slack's error codes: `not_in_channel`, `invalid_blocks`, `ratelimited`.
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")

# The client type the composition root holds, named here so that only this adapter imports
# Slack's libraries.
SlackClient = WebClient


class InstrumentedWebClient(WebClient):
    """A `WebClient` that counts every Web API call by method and outcome."""

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            SLACK_CALLS.labels(api_method, slack_outcome(status, False)).inc()
            raise
        except (SlackClientError, OSError):
            SLACK_CALLS.labels(api_method, "connection_error").inc()
            raise
        SLACK_CALLS.labels(api_method, "ok").inc()
        return response


def make_web_client(settings: Settings) -> WebClient:
    """A `WebClient` for the bot token, pointed at `SLACK_API_URL`, counting its calls.

    Without slack_sdk's retry after a dropped connection: Slack may have taken the post, and
    the outbox owns retries (it looks in Slack's history before sending again)."""
    return InstrumentedWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[],
    )


# The longest a Web API call made before an acknowledgement may wait, leaving the rest of
# Slack's 3 seconds for the transaction that follows it.
BEFORE_ACK_TIMEOUT = 2  # seconds


def before_ack(client: WebClient) -> WebClient:
    """`client` for a call made before an acknowledgement: it gives up after
    `BEFORE_ACK_TIMEOUT` instead of holding the ack past Slack's 3 seconds."""
    quick = copy.copy(client)
    quick.timeout = min(client.timeout, BEFORE_ACK_TIMEOUT)
    return quick


def error_code(exc: SlackApiError) -> str:
    """Slack's error code for a refused call (`not_in_channel`), else `http_<status>`.

    Only an `error` shaped like one of Slack's codes is kept: anything else (a proxy's page, a
    message quoting what was sent) would carry people's data into the log and the outbox."""
    try:
        error = exc.response.get("error")
    except ValueError:  # a binary answer
        error = None
    if isinstance(error, str) and _ERROR_CODE.fullmatch(error):
        return error
    return f"http_{getattr(exc.response, 'status_code', 0)}"
