"""The Microsoft Teams settings: read and checked with the rest (`bot.core.settings`).

Teams is on when `TEAMS_CLIENT_ID` is set. A partial configuration, the Teams SDK's own
environment names (which it would otherwise read behind our back), or a local unauthenticated
mode next to anything that could reach Microsoft, each refuse to start with one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlparse

DEFAULT_TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams"
DEFAULT_TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_TEAMS_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
# The only ids local unauthenticated mode runs with (tests, `make demo`): never a real app's.
DEMO_TEAMS_CLIENT_ID = "00000000-0000-4000-8000-00000000b07d"
DEMO_TEAMS_TENANT_ID = "00000000-0000-4000-8000-0000000ce47e"

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEAMS_CHANNEL_ID = re.compile(r"19:[^\s]+@thread\.(tacv2|skype)")
# What the Teams SDK reads from the environment when an option is not passed explicitly.
SDK_ENV_NAMES = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TENANT_ID",
    "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS",
    "SKIP_AUTH",
    "MANAGED_IDENTITY_CLIENT_ID",
)
TEAMS_NAMES = (
    "TEAMS_CLIENT_ID",
    "TEAMS_CLIENT_SECRET",
    "TEAMS_TENANT_ID",
    "TEAMS_COORDINATOR_CONVERSATION_ID",
    "TEAMS_SERVICE_URL",
    "TEAMS_LOGIN_URL",
    "TEAMS_OPENID_METADATA_URL",
    "TEAMS_LOCAL_UNAUTHENTICATED",
)

# What `.env.example` ships for these: their defaults, which on their own turn nothing on.
_INERT_VALUES = {
    "TEAMS_SERVICE_URL": {DEFAULT_TEAMS_SERVICE_URL},
    "TEAMS_LOGIN_URL": {DEFAULT_TEAMS_LOGIN_URL},
    "TEAMS_OPENID_METADATA_URL": {DEFAULT_TEAMS_OPENID_METADATA_URL},
    "TEAMS_LOCAL_UNAUTHENTICATED": {"false", "0", "no", "off"},
}

Getter = Callable[[str], str | None]


def is_guid(value: str) -> bool:
    """Whether `value` looks like a GUID (an Entra object, app or tenant id)."""
    return GUID.fullmatch(value) is not None


def _is_loopback(url: str) -> bool:
    return (urlparse(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def read_teams(get: Getter, kwargs: dict[str, object], problems: list[str]) -> None:
    """Read the `TEAMS_*` settings into `kwargs`, adding one line per problem to `problems`."""
    client_id = _guid_setting(get, "TEAMS_CLIENT_ID")
    if not client_id:
        _refuse_teams_without_app_id(get, problems)
        return
    local = _read_local_flag(get, problems)
    tenant = _guid_setting(get, "TEAMS_TENANT_ID")
    _check_ids(get, client_id, tenant, local, problems)
    kwargs.update(
        teams_client_id=client_id,
        teams_client_secret=get("TEAMS_CLIENT_SECRET"),
        teams_tenant_id=tenant,
        teams_local_unauthenticated=local,
        teams_coordinator_conversation_id=_read_conversation(get, problems),
    )
    for name, default in (
        ("TEAMS_SERVICE_URL", DEFAULT_TEAMS_SERVICE_URL),
        ("TEAMS_LOGIN_URL", DEFAULT_TEAMS_LOGIN_URL),
        ("TEAMS_OPENID_METADATA_URL", DEFAULT_TEAMS_OPENID_METADATA_URL),
    ):
        url = (get(name) or default).rstrip("/")
        if not re.match(r"https?://", url):
            problems.append(f"{name} must be an http(s) URL, not {url!r}")
        elif local and name != "TEAMS_SERVICE_URL" and not _is_loopback(url):
            problems.append(f"TEAMS_LOCAL_UNAUTHENTICATED=true needs {name} on 127.0.0.1")
        kwargs[name.lower()] = url
    for name in SDK_ENV_NAMES:
        if get(name):
            problems.append(
                f"{name} is set: the Teams SDK would read it behind the bot's back; "
                "use the TEAMS_ settings (TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET, …) and remove it"
            )


def _refuse_teams_without_app_id(get: Getter, problems: list[str]) -> None:
    """Any other Teams setting given, but not the app id: half a Teams configuration. A setting
    left at its default (as `.env.example` ships it) configures nothing and is not counted."""
    present = [name for name in TEAMS_NAMES[1:] if _configures_teams(name, get(name))]
    if present:
        names = " and ".join([", ".join(present[:-1]), present[-1]] if present[1:] else present)
        problems.append(
            f"TEAMS_CLIENT_ID is not set but {names} {'are' if present[1:] else 'is'}: set the "
            "Teams bot's app id too, or remove the TEAMS_ settings for a Slack-only bot"
        )


def _configures_teams(name: str, value: str | None) -> bool:
    """Whether `value` turns something on: set, and not the default `.env.example` ships."""
    return value is not None and value.rstrip("/").lower() not in _INERT_VALUES.get(name, set())


def _read_local_flag(get: Getter, problems: list[str]) -> bool:
    raw = (get("TEAMS_LOCAL_UNAUTHENTICATED") or "false").lower()
    if raw not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        problems.append(f"TEAMS_LOCAL_UNAUTHENTICATED must be true or false, not {raw!r}")
    return raw in ("true", "1", "yes", "on")


def _guid_setting(get: Getter, name: str) -> str | None:
    """A GUID setting in lower case, as Teams writes ids (the Azure portal may copy capitals)."""
    value = get(name)
    return value.lower() if value else None


def _check_ids(
    get: Getter, client_id: str, tenant: str | None, local: bool, problems: list[str]
) -> None:
    """The app id, tenant and secret: all three for real, the demo ids only in local mode."""
    if not is_guid(client_id):
        problems.append(f"TEAMS_CLIENT_ID must be the bot's app id (a GUID), not {client_id!r}")
    if not tenant:
        problems.append("TEAMS_TENANT_ID is not set (the Entra tenant id the bot is registered in)")
    elif not is_guid(tenant):
        problems.append(f"TEAMS_TENANT_ID must be a GUID, not {tenant!r}")
    if not local:
        if not get("TEAMS_CLIENT_SECRET"):
            problems.append("TEAMS_CLIENT_SECRET is not set (the bot's client secret value)")
        return
    if get("TEAMS_CLIENT_SECRET"):
        problems.append(
            "TEAMS_LOCAL_UNAUTHENTICATED=true refuses to run with TEAMS_CLIENT_SECRET set: "
            "a real credential never runs with unchecked requests"
        )
    if client_id != DEMO_TEAMS_CLIENT_ID or tenant != DEMO_TEAMS_TENANT_ID:
        problems.append(
            "TEAMS_LOCAL_UNAUTHENTICATED=true runs only with the demo ids "
            f"TEAMS_CLIENT_ID={DEMO_TEAMS_CLIENT_ID} and TEAMS_TENANT_ID={DEMO_TEAMS_TENANT_ID}"
        )


def _read_conversation(get: Getter, problems: list[str]) -> str | None:
    value = get("TEAMS_COORDINATOR_CONVERSATION_ID")
    if value and not TEAMS_CHANNEL_ID.fullmatch(value):
        problems.append(
            "TEAMS_COORDINATOR_CONVERSATION_ID must be a Teams channel id like "
            f"19:…@thread.tacv2, not {value!r}"
        )
    return value
