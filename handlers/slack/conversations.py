"""What Slack says about a conversation: whether it is a public channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from handlers.slack.client import error_code

log = logging.getLogger(__name__)


def is_public_channel(client: WebClient, channel: str) -> bool:
    """Whether Slack confirms `channel` is a public channel (`conversations.info`); any doubt
    (an error, no answer, a field missing) counts as private.

    A channel's id does not tell: private channels made since 2021, and shared ones, have
    `C…` ids like public ones, so only Slack's own `is_private` settles it."""
    try:
        found: Any = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        reason = error_code(exc)
        log.info("conversations.info %s refused (%s): taken as private", channel, reason)
        return False
    except (SlackClientError, OSError, KeyError, TypeError) as exc:
        log.info("conversations.info %s failed (%s): taken as private", channel, type(exc).__name__)
        return False
    return (
        isinstance(found, dict)
        and found.get("is_channel") is True
        and found.get("is_private") is False
        and not found.get("is_im")
        and not found.get("is_mpim")
    )
