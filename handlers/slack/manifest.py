"""The Slack app manifest: everything Slack needs to create the app in one step."""

from __future__ import annotations

from typing import Any

import yaml

PLACEHOLDER_URL = "https://your-host.example.org"
SHORTCUT_CALLBACK_ID = "request_support_from_message"
VISIT_SHORTCUT_CALLBACK_ID = "ask_to_visit"  # global shortcut: open classrooms
BOT_SCOPES = [
    "chat:write",  # post requests, offers, check-ins and digests
    "commands",  # /support
    "channels:history",  # capture posts in a public support channel; outbox recovery
    "groups:history",  # capture posts in a private support channel; outbox recovery
    "im:history",  # capture requests sent to the bot by DM; outbox recovery in DMs
    "im:write",  # open DMs with heads, supporters and coordinators
    "users:read",  # names and time zones of people not yet in the directory
    "metadata.message:read",  # read back the outbox id the bot stamps on its messages
    "files:read",  # download the directory CSV a coordinator uploads in the import form
    "files:write",  # upload the exported directory CSV into a coordinator's DM
    # conversations.info: whether a /support or shortcut came from a public channel (private
    # channels made since 2021 have C ids too); without an answer, a request stays private
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
]
BOT_EVENTS = ["message.channels", "message.groups", "message.im", "app_home_opened"]


def build_manifest(url: str | None = None, *, socket_mode: bool = False) -> dict[str, Any]:
    """The manifest as a dict, with every request URL at `{url}/slack/events`."""
    endpoint = f"{(url or PLACEHOLDER_URL).rstrip('/')}/slack/events"
    with_url: dict[str, Any] = {} if socket_mode else {"url": endpoint}
    request_url: dict[str, Any] = {} if socket_mode else {"request_url": endpoint}
    return {
        "display_information": {
            "name": "School Support",
            "description": "Brokers school-to-school support between heads and system leaders",
            "long_description": (
                "Headteachers ask for help in Slack; the bot works out what help is needed, "
                "offers it to the best-matched National and Specialist Leaders of Education "
                "and support staff, who accept with a button. It then keeps each deployment "
                "going with check-ins and gives coordinators a weekly digest. Requests about "
                "schools are shared only with the people involved."
            ),
            "background_color": "#1d4f91",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "School Support", "always_online": True},
            "slash_commands": [
                {
                    "command": "/support",
                    **with_url,
                    "description": "Ask for school-to-school support",
                    "usage_hint": "[what your school needs help with]",
                    "should_escape": True,
                }
            ],
            "shortcuts": [
                {
                    "name": "Request support from this message",
                    "type": "message",
                    "callback_id": SHORTCUT_CALLBACK_ID,
                    "description": "Turn this message into a support request",
                },
                {
                    "name": "Ask to visit a classroom",
                    "type": "global",
                    "callback_id": VISIT_SHORTCUT_CALLBACK_ID,
                    "description": "Ask to visit a school and observe practice",
                },
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {**request_url, "bot_events": list(BOT_EVENTS)},
            "interactivity": _interactivity(endpoint, socket_mode=socket_mode),
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def _interactivity(endpoint: str, *, socket_mode: bool) -> dict[str, Any]:
    """Clicks and forms, and the menus whose options the bot serves as people type (*End a
    support…*: `message_menu_options_url`), all at the one endpoint (none in Socket Mode)."""
    if socket_mode:
        return {"is_enabled": True}
    return {"is_enabled": True, "request_url": endpoint, "message_menu_options_url": endpoint}


def render_manifest(url: str | None = None, *, socket_mode: bool = False) -> str:
    """The manifest as YAML, ready to paste into https://api.slack.com/apps."""
    header = "# Slack app manifest for school-support-bot (python -m bot manifest --url …)\n"
    body = yaml.safe_dump(
        build_manifest(url, socket_mode=socket_mode), sort_keys=False, allow_unicode=True
    )
    return header + body
