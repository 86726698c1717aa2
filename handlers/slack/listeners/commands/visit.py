"""`/support visit [what you'd like to see]` opens the visit form (open classrooms);
`/support visit-assign 7 @name [override]` lets a coordinator make someone the host."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import InvalidInput
from bot.core.text import readable
from bot.visits.assigning import assign_host
from bot.visits.service import visit_draft
from handlers.slack.blocks.visits import visit_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import friendly_errors, tell

VISIT_ASSIGN = re.compile(
    r"^visit-assign\s+#?(\d{1,9})\s+<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*(override)?\s*$",
    re.IGNORECASE,
)
VISIT_ASSIGN_HELP = (
    "Try `/support visit-assign 7 @name` (the visit number, then the person); add `override` "
    "to assign someone whose school doesn't host visits or is full this half term."
)


def open_visit_modal(ctx: SlackContext, client: WebClient, *, trigger_id: str, text: str) -> None:
    """Open the visit form within the trigger's three seconds, pre-filled from `text` (as Slack
    escapes it) shown as the person wrote it."""
    view = visit_modal(visit_draft(readable(text), ctx.vocabulary), ctx.vocabulary)
    client.views_open(trigger_id=trigger_id, view=view)


def is_visit_assign_command(text: str) -> bool:
    """Whether `/support` text is the visit-assign command (however it is written after)."""
    return text.lower().split()[:1] == ["visit-assign"]


def visit_assign_from_command(
    ctx: SlackContext, ack: Ack, command: dict[str, Any], text: str
) -> None:
    """`/support visit-assign 7 @name [override]`: a coordinator assigns the host of visit 7;
    acknowledged once the assignment (or the refusal) is saved; the answer only they see."""
    match = VISIT_ASSIGN.match(text.strip())
    with friendly_errors(ctx, command, ack):
        if match is None:
            raise InvalidInput({"text": VISIT_ASSIGN_HELP})
        visit_id, host, override = int(match[1]), match[2], bool(match[3])

        def assign(session: Session) -> None:
            done = assign_host(
                session,
                ctx.context(),
                actor=command["user_id"],
                visit_id=visit_id,
                host_user_id=host,
                override=override,
            )
            anyway = " (hosting rules set aside, as you asked)" if done.overridden else ""
            reply = f"Done: <@{host}> is hosting visit #{visit_id}{anyway}. They'll pick the day."
            tell(ctx, command, reply, session=session)  # owed with the change itself

        unit_of_work(ctx, assign, then_ack=ack)
