"""`app_home_opened`: publish the person's Home tab, freshly built from the database.

Opening the tab publishes at once (the person is looking). A refresh after a change (a click
on the tab) is owed through the outbox instead, so a burst of them keeps to `views.publish`'s
rate; a newer page owed to the same person replaces one still queued.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from bot.home.service import home_for
from bot.outbox.owing import drop_owed_home, owe_home
from handlers.slack.blocks.home import home_view
from handlers.slack.client import error_code
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import user_id_of

log = logging.getLogger(__name__)


def refresh_if_from_home(ctx: SlackContext, body: dict[str, Any]) -> None:
    """After a click on the Home tab, owe it again so it shows the change."""
    view = body.get("view")
    if isinstance(view, dict) and view.get("type") == "home":
        refresh_home(ctx, user_id_of(body))


def refresh_home(ctx: SlackContext, user: str) -> None:
    """Owe `user`'s Home tab, freshly built, through the outbox (paced, coalesced per person)."""
    unit_of_work(ctx, lambda session: owe_home_page(ctx, session, user))


def owe_home_page(ctx: SlackContext, session: Session, user: str) -> None:
    """Build `user`'s Home tab in `session` and owe its publish in the same transaction."""
    owe_home(session, now=ctx.clock.now(), user=user, page=home_page(ctx, session, user))


def home_page(ctx: SlackContext, session: Session, user: str) -> dict[str, Any]:
    """`user`'s Home tab as Block Kit, as the database has it now."""
    data = home_for(
        session,
        user,
        now=ctx.clock.now(),
        vocabulary=ctx.vocabulary,
        show_school_before_accept=ctx.settings.show_school_before_accept,
        calendar=ctx.calendar,
    )
    return home_view(data, ctx.settings.tz, support_channel=ctx.settings.support_channel_id)


def publish_home(ctx: SlackContext, client: WebClient, user: str) -> None:
    """Build and publish `user`'s Home tab now (they are looking at it); a page still queued
    for them is older than this one, so it is dropped."""

    def build(session: Session) -> dict[str, Any]:
        drop_owed_home(session, user)
        return home_page(ctx, session, user)

    view = unit_of_work(ctx, build)
    try:
        client.views_publish(user_id=user, view=view)
    except (SlackClientError, OSError) as exc:
        # The page is rebuilt on every open, so a failed publish only waits for the next one.
        reason = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
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
