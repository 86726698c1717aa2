"""What the Teams adapter needs to know, read from the settings, and one last check that local
mode stays local (the settings check it too; this guards anything that builds the adapter
another way).

Kept free of the SDK so the entry points and the outbox can use it without importing
`microsoft_teams`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.settings import Settings
from bot.core.teams_settings import (
    DEFAULT_TEAMS_LOGIN_URL,
    DEFAULT_TEAMS_OPENID_METADATA_URL,
    DEFAULT_TEAMS_SERVICE_URL,
    DEMO_TEAMS_CLIENT_ID,
    DEMO_TEAMS_TENANT_ID,
    SDK_ENV_NAMES,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}

BANNER = """
**************************************************************************
*  TEAMS UNAUTHENTICATED LOCAL MODE - /api/messages ACCEPTS ANY REQUEST  *
*  For tests and the demo only. Never expose this process to a network.  *
**************************************************************************"""


@dataclass(frozen=True)
class TeamsConfig:
    """The bot's Teams registration and where Microsoft is (overridable for tests and demo)."""

    client_id: str
    tenant_id: str
    client_secret: str | None = None
    coordinator_conversation_id: str | None = None
    service_url: str = DEFAULT_TEAMS_SERVICE_URL
    login_url: str = DEFAULT_TEAMS_LOGIN_URL
    openid_metadata_url: str = DEFAULT_TEAMS_OPENID_METADATA_URL
    local_unauthenticated: bool = False


def teams_config(settings: Settings) -> TeamsConfig | None:
    """The Teams configuration, or None for a Slack-only bot."""
    if not settings.teams_client_id:
        return None
    return TeamsConfig(
        client_id=settings.teams_client_id,
        tenant_id=settings.teams_tenant_id or "",
        client_secret=settings.teams_client_secret,
        coordinator_conversation_id=settings.teams_coordinator_conversation_id,
        service_url=settings.teams_service_url,
        login_url=settings.teams_login_url,
        openid_metadata_url=settings.teams_openid_metadata_url,
        local_unauthenticated=settings.teams_local_unauthenticated,
    )


def problems_with(config: TeamsConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """Why the adapter must not start with `config` (empty: it may)."""
    environ = os.environ if environ is None else environ
    problems = [
        f"{name} is set: the Teams SDK would read it behind our back; unset it and use the "
        "TEAMS_* settings"
        for name in SDK_ENV_NAMES
        if environ.get(name)
    ]
    if config.local_unauthenticated:
        problems += _local_mode_problems(config)
    elif not config.client_secret:
        problems.append("TEAMS_CLIENT_SECRET is required (outside local unauthenticated mode)")
    return problems


def _local_mode_problems(config: TeamsConfig) -> list[str]:
    """A credential that could reach Microsoft never coexists with skipped auth."""
    problems = []
    if config.client_secret:
        problems.append("TEAMS_LOCAL_UNAUTHENTICATED refuses to run with TEAMS_CLIENT_SECRET set")
    if (config.client_id, config.tenant_id) != (DEMO_TEAMS_CLIENT_ID, DEMO_TEAMS_TENANT_ID):
        problems.append(
            "TEAMS_LOCAL_UNAUTHENTICATED needs the demo ids "
            f"TEAMS_CLIENT_ID={DEMO_TEAMS_CLIENT_ID} and TEAMS_TENANT_ID={DEMO_TEAMS_TENANT_ID}"
        )
    for name, url in (
        ("TEAMS_LOGIN_URL", config.login_url),
        ("TEAMS_OPENID_METADATA_URL", config.openid_metadata_url),
    ):
        if urlsplit(url).hostname not in LOOPBACK:
            problems.append(f"TEAMS_LOCAL_UNAUTHENTICATED needs {name} on this machine (loopback)")
    return problems
