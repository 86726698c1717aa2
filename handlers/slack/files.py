"""Files the bot sends in Slack: the directory export, uploaded into a coordinator's DM."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.directory.files import ExportFailed, FileUploader
from handlers.slack.client import error_code

log = logging.getLogger(__name__)


def dm_uploader(client: WebClient) -> FileUploader:
    """An uploader putting one file into a person's DM with the bot, returning that channel."""

    def upload(user: str, content: bytes, filename: str, comment: str) -> str:
        try:
            channel = str(client.conversations_open(users=user)["channel"]["id"])
            client.files_upload_v2(
                channel=channel,
                content=content,
                filename=filename,
                title=filename,
                initial_comment=comment,
            )
        except SlackApiError as exc:
            error = error_code(exc)
            log.warning("directory export for %s: Slack refused the file (%s)", user, error)
            raise ExportFailed(
                f"Sorry, I couldn't send you the directory file (Slack said `{error}`). "
                "Please try again in a minute."
            ) from None
        except (SlackClientError, OSError) as exc:
            log.warning("directory export for %s failed: %s", user, type(exc).__name__)
            raise ExportFailed(
                "Sorry, I couldn't reach Slack to send you the directory file. "
                "Please try again in a minute."
            ) from None
        return channel

    return upload
