"""`/support directory export|import`: coordinators take the directory out of Slack as a CSV
file in their DM with the bot, or open a form to upload one."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.core.errors import InvalidInput
from bot.directory.files import (
    IMPORT_ACTION,
    MAX_UPLOAD_BYTES,
    require_coordinator,
    send_directory_export,
)
from handlers.slack.blocks.directory import import_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.files import dm_uploader
from handlers.slack.listeners.common import friendly_errors, tell

USAGE = (
    "Try `/support directory export` (I DM you the directory as a CSV file) or "
    "`/support directory import` (upload a CSV to add or update people). Coordinators only."
)


def directory_command(
    ctx: SlackContext, client: WebClient, command: dict[str, Any], text: str
) -> None:
    """After the ack: `/support directory export`, `… import`, or how to use them."""
    words = text.lower().split()
    with friendly_errors(ctx, command):
        if words == ["directory", "export"]:
            export_to_dm(ctx, client, command)
        elif words == ["directory", "import"]:
            open_import_modal(ctx, client, command)
        else:
            raise InvalidInput({"text": USAGE})


def export_to_dm(ctx: SlackContext, client: WebClient, command: dict[str, Any]) -> None:
    """Upload the directory CSV into the coordinator's DM; say where it went if asked elsewhere."""
    sent = send_directory_export(
        ctx.sessions,
        dm_uploader(client),
        user=command["user_id"],
        now=ctx.clock.now(),
        tz=ctx.settings.tz,
    )
    if command.get("channel_id") != sent.channel:
        tell(ctx, command, f"Sent: *{sent.filename}* is in your DM with me.")


def open_import_modal(ctx: SlackContext, client: WebClient, command: dict[str, Any]) -> None:
    """Open the upload form, for coordinators only (the trigger lasts three seconds)."""
    unit_of_work(
        ctx, lambda session: require_coordinator(session, command["user_id"], action=IMPORT_ACTION)
    )
    client.views_open(
        trigger_id=command["trigger_id"], view=import_modal(MAX_UPLOAD_BYTES // (1024 * 1024))
    )
