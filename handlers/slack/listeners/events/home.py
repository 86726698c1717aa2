"""`app_home_opened`: publish the person's Home tab, freshly built from the database."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.home.service import home_for
from handlers.slack.blocks.home import home_view
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import user_id_of

log = logging.getLogger(__name__)


def refresh_if_from_home(ctx: SlackContext, client: WebClient, body: dict[str, Any]) -> None:
    """After a click on the Home tab, publish it again so it shows the change."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "home":
        publish_home(ctx, client, user_id_of(body))


def publish_home(ctx: SlackContext, client: WebClient, user: str) -> None:
    """Build and publish `user`'s Home tab (a views.publish, not a message: no outbox)."""
    data = unit_of_work(
        ctx,
        lambda session: home_for(
            session,
            user,
            now=ctx.clock.now(),
            vocabulary=ctx.vocabulary,
            show_school_before_accept=ctx.settings.show_school_before_accept,
            calendar=ctx.calendar,
        ),
    )
    view = home_view(data, ctx.settings.tz, support_channel=ctx.settings.support_channel_id)
    try:
        client.views_publish(user_id=user, view=view)
    except (SlackClientError, OSError) as exc:
        # The page is rebuilt on every open, so a failed publish only waits for the next one.
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("could not publish the home tab of %s: %s", user, reason)


def on_home_opened(ctx: SlackContext, event: dict[str, Any], client: WebClient) -> None:
    """`app_home_opened` on the Home tab: publish it afresh (the Messages tab is left alone)."""
    user = event.get("user")
    if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
        return
    publish_home(ctx, client, user)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the Home tab being opened."""
    app.event("app_home_opened")(partial(on_home_opened, ctx))
