"""Submission of the team form: colleagues and a shadow added to a deployment."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from bot.teamwork.flows import add_to_team
from handlers.slack.blocks.teamwork import TEAM_VIEW
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import int_value, tell, user_id_of, view_metadata, view_values
from handlers.slack.listeners.events.home import refresh_home
from handlers.slack.listeners.views.requests import message_view


def on_team_submitted(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """Add the chosen people (all or none), then acknowledge; a problem is shown on the form."""
    deployment_id = int_value(str(view_metadata(body).get("deployment_id", "")))
    values = view_values(body)
    colleagues = [c for c in values.get("colleagues") or [] if isinstance(c, str)]
    shadow = values.get("shadow") if isinstance(values.get("shadow"), str) else None
    user = user_id_of(body)
    if deployment_id is None:
        ack(
            response_action="update",
            view=message_view("Not saved", "I couldn't tell which deployment this was."),
        )
        return

    def add(session: Session) -> None:
        reply = add_to_team(
            session,
            ctx.context(),
            actor=user,
            deployment_id=deployment_id,
            colleagues=colleagues,
            shadow=shadow,
        )
        tell(ctx, body, reply, session=session)  # owed with the change itself

    try:
        unit_of_work(ctx, add, then_ack=ack, retry_on_conflict=True)
    except InvalidInput as exc:
        field = "colleagues" if "colleagues" in exc.errors else "shadow"
        ack(response_action="errors", errors={field: exc.message[:150]})
        return
    except UserFacingError as exc:
        ack(response_action="update", view=message_view("Not saved", exc.message))
        if isinstance(exc, NotAllowed):
            tell(ctx, body, exc.message, refused=exc)
        return
    refresh_home(ctx, user)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the team form."""
    app.view(TEAM_VIEW)(partial(on_team_submitted, ctx))
