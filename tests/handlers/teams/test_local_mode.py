"""Starting Teams safely: the SDK is imported only when Teams is configured; unsafe settings
refuse to start; local unauthenticated mode (tests and the demo only) says so loudly."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.core.settings import load_settings
from bot.core.teams_settings import DEMO_TEAMS_CLIENT_ID, DEMO_TEAMS_TENANT_ID
from bot.entry.serve import build_asgi_app
from handlers.teams import load_teams_endpoint
from handlers.teams.app import TeamsRefused
from handlers.teams.config import BANNER, TeamsConfig, problems_with
from handlers.teams.context import TeamsContext

LOCAL = TeamsConfig(
    client_id=DEMO_TEAMS_CLIENT_ID,
    tenant_id=DEMO_TEAMS_TENANT_ID,
    login_url="http://127.0.0.1:1",
    openid_metadata_url="http://127.0.0.1:1/v1/.well-known/openidconfiguration",
    local_unauthenticated=True,
)


class NoServices:
    def kick(self) -> None:
        pass


def test_a_slack_only_bot_never_imports_the_teams_sdk() -> None:
    code = (
        "import sys, bot.entry.cli, bot.entry.serve, bot.entry.runtime\n"
        "assert not [m for m in sys.modules if m.startswith('microsoft_teams')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"client_secret": "real-secret"}, "refuses to run with TEAMS_CLIENT_SECRET"),
        ({"client_id": "5f2b7a3c-0000-4000-8000-00000000b001"}, "needs the demo ids"),
        ({"login_url": "https://login.microsoftonline.com"}, "TEAMS_LOGIN_URL on this machine"),
    ],
)
def test_local_mode_refuses_anything_that_could_reach_microsoft(
    change: dict[str, str], reason: str
) -> None:
    config = TeamsConfig(**{**LOCAL.__dict__, **change})
    assert any(reason in problem for problem in problems_with(config, {}))


def test_the_sdks_own_environment_names_are_refused() -> None:
    problems = problems_with(LOCAL, {"CLIENT_SECRET": "x"})
    assert problems == [
        "CLIENT_SECRET is set: the Teams SDK would read it behind our back; unset it and use "
        "the TEAMS_* settings"
    ]


def test_production_mode_needs_a_secret() -> None:
    config = TeamsConfig(client_id="5f2b7a3c-0000-4000-8000-00000000b001", tenant_id="t")
    with pytest.raises(TeamsRefused, match="TEAMS_CLIENT_SECRET is required"):
        load_teams_endpoint(TeamsContext(NoServices(), config), max_body=1000)  # type: ignore[arg-type]


def test_local_mode_says_so_on_every_answer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    endpoint = load_teams_endpoint(TeamsContext(NoServices(), LOCAL), max_body=100_000)  # type: ignore[arg-type]
    assert BANNER in caplog.text
    client = TestClient(Starlette(routes=endpoint.routes), client=("127.0.0.1", 50000))
    response = client.post("/api/messages", json={"type": "typing"})
    assert response.headers["X-Teams-Auth"] == "UNAUTHENTICATED"


def activity(text: str) -> dict[str, Any]:
    """A 1:1 message in the demo tenant, as Teams would post it (no token: local mode)."""
    return {
        "type": "message",
        "id": "1",
        "text": text,
        "serviceUrl": "http://127.0.0.1:1/",
        "channelId": "msteams",
        "from": {"id": "29:x", "aadObjectId": "11111111-1111-4111-8111-111111111111"},
        "recipient": {"id": "28:bot"},
        "conversation": {
            "id": "a:1:x",
            "conversationType": "personal",
            "tenantId": DEMO_TEAMS_TENANT_ID,
        },
    }


@pytest.mark.parametrize(
    ("peer", "status"),
    [("127.0.0.1", 200), ("::1", 200), ("192.0.2.7", 403), ("10.0.0.5", 403), ("testclient", 403)],
)
def test_local_mode_answers_only_this_machine(peer: str, status: int) -> None:
    seen: list[object] = []

    def register(app: Any, _ctx: TeamsContext) -> None:
        @app.on_message
        async def message(activity_ctx: Any) -> None:
            seen.append(activity_ctx.activity)

    endpoint = load_teams_endpoint(
        TeamsContext(NoServices(), LOCAL),  # type: ignore[arg-type]
        max_body=100_000,
        register=register,
    )
    client = TestClient(Starlette(routes=endpoint.routes), client=(peer, 50000))
    response = client.post("/api/messages", json=activity("help"))
    assert response.status_code == status
    assert len(seen) == (1 if status == 200 else 0)


def test_the_web_process_refuses_local_mode() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "sqlite://",
            "SCHEDULER_ENABLED": "false",
            "TEAMS_CLIENT_ID": DEMO_TEAMS_CLIENT_ID,
            "TEAMS_TENANT_ID": DEMO_TEAMS_TENANT_ID,
            "TEAMS_LOCAL_UNAUTHENTICATED": "true",
            "TEAMS_LOGIN_URL": LOCAL.login_url,
            "TEAMS_OPENID_METADATA_URL": LOCAL.openid_metadata_url,
        },
        env_file=None,
    )
    with pytest.raises(SystemExit, match="TEAMS_LOCAL_UNAUTHENTICATED"):
        build_asgi_app(settings)
