"""The menus of *End a support…* and *Check-ins for a support…*: as a coordinator types a
school, URN or supporter, the active supports that match (at most 100, read only; the
check-ins menu also says how each one's check-ins stand); anyone else gets one line saying
why."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import NotAllowed
from bot.deployments import checkin_control
from bot.deployments.ending import NOT_A_COORDINATOR
from bot.deployments.finding import SupportSearch, find_active_supports
from handlers.slack.blocks.deployments import (
    PICK_FOR_CHECKINS,
    PICK_TO_END,
    checkins_support_options,
    refused_options,
    support_options,
)
from handlers.slack.context import SlackContext, look_up
from handlers.slack.listeners.common import user_id_of

log = logging.getLogger(__name__)


def on_pick_to_end(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*End a support…*'s menu: the matching supports; it changes nothing."""
    _answer_typing(ctx, ack, body, NOT_A_COORDINATOR, support_options)


def on_pick_for_checkins(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Check-ins for a support…*'s menu: the matching supports, each saying how its
    check-ins stand; it changes nothing."""
    _answer_typing(
        ctx,
        ack,
        body,
        checkin_control.NOT_A_COORDINATOR,
        partial(checkins_support_options, tz=ctx.settings.tz, now=ctx.clock.now()),
    )


def _answer_typing(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    refusal: str,
    options: Callable[[SupportSearch], dict[str, Any]],
) -> None:
    """Answer the type-ahead with the matching supports as `options` (anyone but a
    coordinator hears `refusal`)."""
    typed = body.get("value")
    user = user_id_of(body)
    try:
        search = look_up(
            ctx,
            lambda session: find_active_supports(
                session,
                actor=user,
                query=typed if isinstance(typed, str) else "",
                refusal=refusal,
            ),
        )
    except NotAllowed as exc:
        log.info("supports menu %s refused to user %s", body.get("action_id"), user)
        ack(**refused_options(exc.message))
        return
    ack(**options(search))


def register(app: App, ctx: SlackContext) -> None:
    """Serve the menus' options."""
    app.options(PICK_TO_END)(partial(on_pick_to_end, ctx))
    app.options(PICK_FOR_CHECKINS)(partial(on_pick_for_checkins, ctx))
