"""`/support [what you need]` opens the request modal, pre-filled from the text."""

from __future__ import annotations

import re
import threading
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import InvalidInput
from bot.core.text import readable
from bot.requests.intake import draft_for_modal
from bot.routing.service import assign_request
from handlers.slack.blocks.requests import request_modal
from handlers.slack.context import SlackContext, look_up, unit_of_work
from handlers.slack.listeners.commands.audit import audit_command, is_audit_command
from handlers.slack.listeners.commands.directory import directory_command
from handlers.slack.listeners.commands.visit import (
    is_visit_assign_command,
    open_visit_modal,
    visit_assign_from_command,
)
from handlers.slack.listeners.common import friendly_errors, tell

HELP = (
    "*/support* opens a form to ask for school-to-school support. You can add a few words to "
    "start it off, e.g. `/support our SENCO is on long-term leave and EHCP reviews are due`.\n"
    "Coordinators: `/support assign 12 @name` assigns (or reassigns) request 12 to a supporter "
    "(add `anyway` to overrule the hub's matching rules); "
    "`/support directory export` sends you the directory as a CSV file and "
    "`/support directory import` loads one; `/support audit 12` shows who did what to "
    "request 12, and when.\n"
    "*/support visit [what you'd like to see]* asks to visit a school that hosts visits and "
    "observe practice, e.g. `/support visit mastery maths teaching in Year 4`. Coordinators: "
    "`/support visit-assign 7 @name` makes them the host of visit 7 when no school has taken "
    "it (add `override` to set aside the school's hosting flag or half-term limit)."
)
PRIVATE_CHANNEL_NAMES = ("directmessage", "privategroup")


def asked_privately(channel_id: Any, channel_name: Any, support_channel: str | None) -> bool:
    """Whether the modal was opened from a DM, a group DM or a private channel (not the support
    channel): then the request is confirmed by DM and announced nowhere public."""
    if not isinstance(channel_id, str) or not channel_id or channel_id == support_channel:
        return False
    name = channel_name if isinstance(channel_name, str) else ""
    return (
        channel_id.startswith(("D", "G"))
        or name in PRIVATE_CHANNEL_NAMES
        or name.startswith("mpdm-")
    )


# Forms drafted at once. Drafting is CPU-bound (a look-up, tagging the text, the Block Kit);
# fifty at once starve the threads that acknowledge the other requests of the interpreter
# lock, where a few at a time finish as soon and let every ack out first. `views.open`
# itself (a network wait) is not limited.
FORMS_AT_ONCE = threading.BoundedSemaphore(4)
ASSIGN = re.compile(
    r"^assign\s+#?(\d{1,9})\s+<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(anyway)?\s*$", re.IGNORECASE
)


def is_assign_command(text: str) -> bool:
    """Whether `/support` text is the coordinator's `assign`: the word alone or before a
    number (so "assignments in Year 6 are weak" is still a request)."""
    words = text.lower().split()
    return words[:1] == ["assign"] and (len(words) == 1 or words[1].lstrip("#").isdigit())


def open_request_modal(
    ctx: SlackContext,
    client: WebClient,
    *,
    trigger_id: str,
    user: str,
    text: str,
    source: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Open the request modal within the trigger's three seconds, pre-filled from `text`."""
    with FORMS_AT_ONCE:
        draft, need_profile = look_up(
            ctx, lambda session: draft_for_modal(session, readable(text), user, ctx.vocabulary)
        )
        view = request_modal(
            draft,
            ctx.vocabulary,
            need_profile=need_profile,
            metadata={"source": source, **(extra or {})},
        )
    client.views_open(trigger_id=trigger_id, view=view)


def assign_from_command(ctx: SlackContext, ack: Ack, command: dict[str, Any], text: str) -> None:
    """`/support assign 12 @name [anyway]`: a coordinator assigns request 12 by hand (`anyway`
    overrules the hub's matching rules); acknowledged once the assignment or refusal is saved."""
    match = ASSIGN.match(text)
    with friendly_errors(ctx, command, ack):
        if match is None:
            raise InvalidInput(
                {"text": "Try `/support assign 12 @name` (the request number, then the person)."}
            )
        request_id, supporter, anyway = int(match[1]), match[2], match[3] is not None

        def assign(session: Session) -> None:
            assign_request(
                session,
                ctx.context(),
                actor=command["user_id"],
                request_id=request_id,
                supporter_slack_id=supporter,
                anyway=anyway,
            )
            done = f"Done: request #{request_id} is now with <@{supporter}>."
            tell(ctx, command, done, session=session)  # owed with the change itself

        unit_of_work(ctx, assign, then_ack=ack)


def on_support(ctx: SlackContext, ack: Ack, command: dict[str, Any], client: WebClient) -> None:
    """`/support [text]`: help, `assign`, `visit-assign`, `audit`, `visit`, `directory …`, or
    the request form."""
    text = (command.get("text") or "").strip()
    if text.lower() in ("help", "?"):
        ack(text=HELP)
        return
    if is_assign_command(text):
        assign_from_command(ctx, ack, command, text)
        return
    if is_visit_assign_command(text):
        visit_assign_from_command(ctx, ack, command, text)
        return
    if text.lower().split()[:1] == ["visit"]:
        ack()
        open_visit_modal(ctx, client, trigger_id=command["trigger_id"], text=text[5:])
        return
    if is_audit_command(text):
        ack()
        audit_command(ctx, client, command, text)
        return
    if text.lower().split()[:1] == ["directory"]:
        ack()
        directory_command(ctx, client, command, text)
        return
    ack()
    private = asked_privately(
        command.get("channel_id"),
        command.get("channel_name"),
        ctx.settings.support_channel_id,
    )
    open_request_modal(
        ctx,
        client,
        trigger_id=command["trigger_id"],
        user=command["user_id"],
        text=text,
        source="command",
        extra={"private": True} if private else None,
    )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to /support."""
    app.command("/support")(partial(on_support, ctx))
