"""`/support [what you need]` opens the request modal, pre-filled from the text."""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.core.errors import InvalidInput
from bot.core.text import readable
from bot.requests.intake import draft_for_modal
from bot.routing.service import assign_request
from handlers.slack.blocks.requests import request_modal
from handlers.slack.client import error_code
from handlers.slack.context import SlackContext, look_up, unit_of_work
from handlers.slack.conversations import is_public_channel
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
log = logging.getLogger(__name__)

PRIVATE_CHANNEL_NAMES = ("directmessage", "privategroup")


def asked_privately(channel_id: Any, channel_name: Any) -> bool:
    """Whether the payload itself shows a private place: a DM, a group DM or a private channel
    made before 2021 (`D…`/`G…` ids; "directmessage", "privategroup", "mpdm-…" names).

    It cannot show the rest: private channels made since then have `C…` ids like public ones,
    and a message shortcut names a channel by its own name, so those need Slack's word."""
    name = channel_name if isinstance(channel_name, str) else ""
    return (
        not isinstance(channel_id, str)
        or channel_id.startswith(("D", "G"))
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
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the request modal within the trigger's three seconds, pre-filled from `text`;
    returns the view sent and the view as Slack opened it (with its id and hash)."""
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
    opened = client.views_open(trigger_id=trigger_id, view=view)
    return view, dict(opened.get("view") or {})


def open_request_modal_in(
    ctx: SlackContext,
    client: WebClient,
    *,
    channel: Any,
    channel_name: Any,
    trigger_id: str,
    user: str,
    text: str,
    source: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Open the request modal for an ask made in `channel`. The request is private (confirmed
    to the head by DM, announced nowhere) unless asked in the support channel or Slack confirms
    the channel is public. That look-up waits until the form is open, so it costs neither the
    acknowledgement nor the trigger; a form sent before Slack answers stays private."""
    in_support_channel = bool(channel) and channel == ctx.settings.support_channel_id
    private = {} if in_support_channel else {"private": True}
    view, opened = open_request_modal(
        ctx,
        client,
        trigger_id=trigger_id,
        user=user,
        text=text,
        source=source,
        extra={**(extra or {}), **private},
    )
    if in_support_channel or asked_privately(channel, channel_name):
        return
    if is_public_channel(client, channel):
        announce_when_sent(client, view, opened)


def announce_when_sent(client: WebClient, view: dict[str, Any], opened: dict[str, Any]) -> None:
    """Let the open form's request be announced in the support channel: the same view without
    `private` in its metadata (Slack keeps what was typed). Only over the view as opened (its
    hash): if it has changed or gone, or Slack refuses, the request stays private."""
    metadata = json.loads(view["private_metadata"])
    metadata.pop("private", None)
    try:
        client.views_update(
            view_id=opened.get("id"),
            hash=opened.get("hash"),
            view={**view, "private_metadata": json.dumps(metadata)},
        )
    except SlackApiError as exc:
        reason = error_code(exc)
        log.info("form %s stays private: views.update refused (%s)", opened.get("id"), reason)
    except (SlackClientError, OSError) as exc:
        log.info(
            "form %s stays private: views.update failed (%s)", opened.get("id"), type(exc).__name__
        )


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
    open_request_modal_in(
        ctx,
        client,
        channel=command.get("channel_id"),
        channel_name=command.get("channel_name"),
        trigger_id=command["trigger_id"],
        user=command["user_id"],
        text=text,
        source="command",
    )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to /support."""
    app.command("/support")(partial(on_support, ctx))
