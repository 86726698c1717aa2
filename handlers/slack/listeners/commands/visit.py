"""`/support visit [what you'd like to see]` opens the visit form (open classrooms)."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.visits.service import visit_draft
from handlers.slack.blocks.visits import visit_modal
from handlers.slack.context import SlackContext


def open_visit_modal(ctx: SlackContext, client: WebClient, *, trigger_id: str, text: str) -> None:
    """Open the visit form within the trigger's three seconds, pre-filled from `text`."""
    view = visit_modal(visit_draft(text, ctx.vocabulary), ctx.vocabulary)
    client.views_open(trigger_id=trigger_id, view=view)
