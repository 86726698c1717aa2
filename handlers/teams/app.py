"""Building the Teams SDK `App` behind our Starlette route, with every option explicit.

The SDK fills any option it is not given from the environment (`CLIENT_ID`, `CLIENT_SECRET`,
`DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS`…), and a client id without a secret silently
means managed identity; so every option is passed, the token is ours (the SDK's own outbound
calls are never used: what the bot owes goes through the outbox), and the SDK's blocking token
validator is replaced by ours (`auth.SdkValidatorShim`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.apps import App
from starlette.routing import Route

from bot.core.logs import keep_personal_data_out_of_logs
from handlers.teams.adapter import StarletteAdapter
from handlers.teams.auth import BotFrameworkVerifier, SdkValidatorShim
from handlers.teams.config import BANNER, problems_with
from handlers.teams.context import TeamsContext
from handlers.teams.listeners import register_listeners

log = logging.getLogger(__name__)
MESSAGING_ENDPOINT = "/api/messages"


class TeamsRefused(SystemExit):
    """The Teams settings are unsafe or incomplete: the process must not start."""


@dataclass
class TeamsEndpoint:
    """The SDK app and the routes to mount in the bot's ASGI app."""

    app: App
    adapter: StarletteAdapter
    routes: list[Route]
    local_unauthenticated: bool


def build_teams_app(
    ctx: TeamsContext,
    *,
    max_body: int,
    register: Callable[[App, TeamsContext], None] = register_listeners,
) -> TeamsEndpoint:
    """The Teams endpoint for `ctx.config` with the bot's listeners (`register`); refuses
    (exit 1) unsafe or incomplete settings."""
    config = ctx.config
    problems = problems_with(config)
    if problems:
        raise TeamsRefused("cannot start Teams: " + "; ".join(problems))
    local = config.local_unauthenticated
    verifier = (
        None
        if local
        else BotFrameworkVerifier(
            app_id=config.client_id, openid_metadata_url=config.openid_metadata_url
        )
    )
    adapter = StarletteAdapter(max_body=max_body, tenant_id=config.tenant_id, verifier=verifier)
    _quiet_sdk_logs()  # before the SDK is set up: it says so at INFO
    app = App(
        client_id=config.client_id,
        client_secret=None,
        tenant_id=config.tenant_id,
        token=_no_sdk_sends,
        http_server_adapter=adapter,
        messaging_endpoint=MESSAGING_ENDPOINT,
        cloud=with_overrides(PUBLIC, openid_metadata_url=config.openid_metadata_url),
        service_url=config.service_url,
        dangerously_allow_unauthenticated_requests=local,
        fetch_user_token=False,
        state=False,
    )
    register(app, ctx)
    asyncio.run(app.initialize())
    if verifier is not None:
        if app.server._token_validator is None:  # the SDK changed: never run unverified
            raise TeamsRefused("cannot start Teams: the SDK did not set up token validation")
        app.server._token_validator = SdkValidatorShim(verifier)  # type: ignore[assignment]  # same validate_token interface
    else:
        log.warning(BANNER)
    return TeamsEndpoint(app, adapter, adapter.routes, local)


def _no_sdk_sends(_scope: str | list[str], _tenant_id: str | None = None) -> str:
    """The SDK's token source: the bot never sends through the SDK (the outbox does)."""
    raise RuntimeError("the Teams SDK is not used for outbound calls; the outbox sends")


def _quiet_sdk_logs() -> None:
    """The SDK logs activity fields at DEBUG/INFO: keep it to warnings, through our filter."""
    logging.getLogger("microsoft_teams").setLevel(logging.WARNING)
    keep_personal_data_out_of_logs()
