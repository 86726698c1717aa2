"""The `app_home_opened` listener, called as Bolt calls it."""

from __future__ import annotations

from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from handlers.slack.listeners.events import home
from tests.handlers.slack.listeners.conftest import HEAD


def test_on_home_opened_publishes_the_home_tab(ctx: Runtime, client: MagicMock) -> None:
    home.on_home_opened(
        ctx, event={"type": "app_home_opened", "user": HEAD, "tab": "home"}, client=client
    )
    published = client.views_publish.call_args.kwargs
    assert published["user_id"] == HEAD
    assert published["view"]["type"] == "home"


def test_on_home_opened_leaves_the_messages_tab_alone(ctx: Runtime, client: MagicMock) -> None:
    home.on_home_opened(
        ctx, event={"type": "app_home_opened", "user": HEAD, "tab": "messages"}, client=client
    )
    client.views_publish.assert_not_called()
