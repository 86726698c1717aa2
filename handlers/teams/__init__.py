"""The Microsoft Teams adapter (Teams SDK v2), beside the Slack one.

Importing this package costs nothing: the SDK (1-2 s to import) is loaded only by
`load_teams_endpoint`, when Teams is configured, so a Slack-only `serve` and the CLI never pay
for it. Only this package (and its stand-in) imports `microsoft_teams` (an import contract).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.teams.app import TeamsEndpoint
    from handlers.teams.context import TeamsContext


def load_teams_endpoint(
    ctx: TeamsContext, *, max_body: int, register: Callable[..., None] | None = None
) -> TeamsEndpoint:
    """Import the SDK (quietly: it flags one of its own classes as experimental) and build
    the `/api/messages` endpoint, with the bot's listeners or `register`'s; exits with a
    one-line reason if the settings are unsafe."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is in preview.*")
        from handlers.teams.app import build_teams_app

    if register is None:
        return build_teams_app(ctx, max_body=max_body)
    return build_teams_app(ctx, max_body=max_body, register=register)
