"""What the Teams adapter needs to know, and the rules that keep local mode local.

Kept free of the SDK so the entry points can check it without importing `microsoft_teams`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from handlers.teams.auth import OPENID_METADATA_URL
from handlers.teams.token import LOGIN_URL

DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
# The fixed ids local unauthenticated mode insists on, so it never runs with a real bot's.
LOCAL_CLIENT_ID = "00000000-0000-4000-8000-00000000d3e0"
LOCAL_TENANT_ID = "00000000-0000-4000-8000-00000000d3e1"
# Environment names the SDK reads by itself whenever an option is not passed (§3.3).
SDK_ENV_NAMES = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "SERVICE_URL",
    "CLOUD",
    "MANAGED_IDENTITY_CLIENT_ID",
    "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS",
)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

BANNER = """
************************************************************************
*  TEAMS UNAUTHENTICATED LOCAL MODE - /api/messages ACCEPTS ANY REQUEST  *
*  For tests and the demo only. Never expose this process to a network.  *
************************************************************************"""


@dataclass(frozen=True)
class TeamsConfig:
    """The bot's Teams registration and where Microsoft is (overridable for tests and demo)."""

    client_id: str
    tenant_id: str
    client_secret: str | None = None
    coordinator_conversation_id: str | None = None
    service_url: str = DEFAULT_SERVICE_URL
    login_url: str = LOGIN_URL
    openid_metadata_url: str = OPENID_METADATA_URL
    local_unauthenticated: bool = False


def problems_with(config: TeamsConfig, environ: dict[str, str] | None = None) -> list[str]:
    """Why the adapter must not start with `config` (empty: it may)."""
    environ = dict(os.environ) if environ is None else environ
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
    if (config.client_id, config.tenant_id) != (LOCAL_CLIENT_ID, LOCAL_TENANT_ID):
        problems.append(
            "TEAMS_LOCAL_UNAUTHENTICATED needs the demo ids "
            f"TEAMS_CLIENT_ID={LOCAL_CLIENT_ID} and TEAMS_TENANT_ID={LOCAL_TENANT_ID}"
        )
    for name, url in (
        ("TEAMS_LOGIN_URL", config.login_url),
        ("TEAMS_OPENID_METADATA_URL", config.openid_metadata_url),
        ("TEAMS_SERVICE_URL", config.service_url),
    ):
        if urlsplit(url).hostname not in LOOPBACK:
            problems.append(f"TEAMS_LOCAL_UNAUTHENTICATED needs {name} on this machine (loopback)")
    return problems
