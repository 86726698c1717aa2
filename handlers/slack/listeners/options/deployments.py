"""The menu of *End a support…*: as a coordinator types a school, URN or supporter, the
active supports that match (at most 100, read only); anyone else gets one line saying why."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import NotAllowed
from bot.deployments.finding import find_active_supports
from handlers.slack.blocks.deployments import PICK_TO_END, refused_options, support_options
from handlers.slack.context import SlackContext, look_up
from handlers.slack.listeners.common import user_id_of

log = logging.getLogger(__name__)


def on_pick_to_end(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """Answer the type-ahead with the matching supports; it changes nothing."""
    typed = body.get("value")
    user = user_id_of(body)
    try:
        search = look_up(
            ctx,
            lambda session: find_active_supports(
                session, actor=user, query=typed if isinstance(typed, str) else ""
            ),
        )
    except NotAllowed as exc:
        log.info("supports to end refused to user %s", user)
        ack(**refused_options(exc.message))
        return
    ack(**support_options(search))


def register(app: App, ctx: SlackContext) -> None:
    """Serve the menus' options."""
    app.options(PICK_TO_END)(partial(on_pick_to_end, ctx))
