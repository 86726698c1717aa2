"""`/support audit 12`: a coordinator opens the audit trail of any request (the same modal as
the *Audit trail* button on the Home tab); anyone else is refused, and the refusal audited."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient

from bot.core.errors import InvalidInput
from bot.home.audit import request_trail_for
from handlers.slack.blocks.audit import audit_trail_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import friendly_errors

AUDIT = re.compile(r"^audit\s+#?([0-9]{1,9})\s*$", re.IGNORECASE)
USAGE = "Try `/support audit 12` (the request number) to see who did what to request 12."


def is_audit_command(text: str) -> bool:
    """Whether `/support` text asks for an audit trail: `audit` alone or before a number (so a
    request that merely starts with the word, "audit of our SEND provision", is still a request)."""
    words = text.lower().split()
    return words[:1] == ["audit"] and (len(words) == 1 or words[1].lstrip("#").isdigit())


def audit_command(ctx: SlackContext, client: WebClient, command: dict[str, Any], text: str) -> None:
    """After the ack: open request N's audit trail, or say how to ask for one."""
    with friendly_errors(ctx, command):
        match = AUDIT.match(text.strip())
        if match is None:
            raise InvalidInput({"text": USAGE})
        open_audit_trail(
            ctx,
            client,
            trigger_id=command["trigger_id"],
            user=command["user_id"],
            request_id=int(match[1]),
        )


def open_audit_trail(
    ctx: SlackContext, client: WebClient, *, trigger_id: str, user: str, request_id: int
) -> None:
    """Open the modal of the request's audit trail for `user`, a coordinator (else NotAllowed,
    or NotFound for a request that doesn't exist); nothing is changed."""
    trail = unit_of_work(
        ctx,
        lambda session: request_trail_for(
            session, actor=user, request_id=request_id, tz=ctx.settings.tz
        ),
    )
    client.views_open(
        trigger_id=trigger_id, view=audit_trail_modal(trail, zone=ctx.settings.timezone)
    )
