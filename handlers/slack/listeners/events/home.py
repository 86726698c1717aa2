"""`app_home_opened`: publish the person's Home tab, freshly built from the database."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.entry.runtime import Runtime
from bot.home.service import home_for
from handlers.slack.blocks.home import home_view
from handlers.slack.listeners.common import user_id_of

log = logging.getLogger(__name__)


def refresh_if_from_home(runtime: Runtime, client: WebClient, body: dict[str, Any]) -> None:
    """After a click on the Home tab, publish it again so it shows the change."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "home":
        publish_home(runtime, client, user_id_of(body))


def publish_home(runtime: Runtime, client: WebClient, user: str) -> None:
    """Build and publish `user`'s Home tab (a views.publish, not a message: no outbox)."""
    with runtime.sessions() as session:
        data = home_for(
            session,
            user,
            now=runtime.clock.now(),
            vocabulary=runtime.vocabulary,
            show_school_before_accept=runtime.settings.show_school_before_accept,
            calendar=runtime.calendar,
        )
    view = home_view(data, runtime.settings.tz, support_channel=runtime.settings.support_channel_id)
    try:
        client.views_publish(user_id=user, view=view)
    except (SlackClientError, OSError) as exc:
        # The page is rebuilt on every open, so a failed publish only waits for the next one.
        reason = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("could not publish the home tab of %s: %s", user, reason)


def register(app: App, runtime: Runtime) -> None:
    """Listen to the Home tab being opened."""

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient) -> None:
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return
        publish_home(runtime, client, user)
