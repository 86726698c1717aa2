"""Teams settings: either platform or both, partial Teams configuration refused in one line
per problem, the SDK's own environment names refused, and local mode only with demo ids."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.settings import SettingsError, load_settings
from bot.core.teams_settings import DEMO_TEAMS_CLIENT_ID, DEMO_TEAMS_TENANT_ID

ROOT = Path(__file__).resolve().parents[3]
CLIENT = "11111111-2222-4333-8444-555555555555"
TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
TEAMS = {"TEAMS_CLIENT_ID": CLIENT, "TEAMS_CLIENT_SECRET": "s3cret", "TEAMS_TENANT_ID": TENANT}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
LOCAL = {
    "TEAMS_CLIENT_ID": DEMO_TEAMS_CLIENT_ID,
    "TEAMS_TENANT_ID": DEMO_TEAMS_TENANT_ID,
    "TEAMS_LOCAL_UNAUTHENTICATED": "true",
    "TEAMS_LOGIN_URL": "http://127.0.0.1:9100",
    "TEAMS_OPENID_METADATA_URL": "http://127.0.0.1:9100/v1/.well-known/openidconfiguration",
}


def _problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as error:
        load_settings(environ, env_file=None)
    return error.value.problems


def test_slack_only_is_the_default() -> None:
    settings = load_settings(SLACK, env_file=None)
    assert settings.platforms == ("slack",)
    assert settings.teams_configured is False
    assert settings.missing_to_serve() == []


def test_teams_only_needs_no_slack_settings() -> None:
    settings = load_settings(TEAMS, env_file=None)
    assert settings.platforms == ("teams",)
    assert settings.missing_to_serve() == []
    assert settings.teams_service_url == "https://smba.trafficmanager.net/teams"
    assert settings.teams_login_url == "https://login.microsoftonline.com"
    assert settings.teams_local_unauthenticated is False
    assert "s3cret" not in repr(settings)


def test_both_platforms_and_every_teams_setting_are_read() -> None:
    settings = load_settings(
        SLACK
        | TEAMS
        | {
            "TEAMS_COORDINATOR_CONVERSATION_ID": "19:abc123@thread.tacv2",
            "TEAMS_SERVICE_URL": "https://smba.infra.gov.teams.microsoft.us/",
        },
        env_file=None,
    )
    assert settings.platforms == ("slack", "teams")
    assert settings.teams_client_id == CLIENT
    assert settings.teams_tenant_id == TENANT
    assert settings.teams_coordinator_conversation_id == "19:abc123@thread.tacv2"
    assert settings.teams_service_url == "https://smba.infra.gov.teams.microsoft.us"


def test_half_a_slack_configuration_beside_teams_still_names_what_slack_lacks() -> None:
    settings = load_settings(TEAMS | {"SLACK_BOT_TOKEN": "xoxb-1"}, env_file=None)
    assert [p.split()[0] for p in settings.missing_to_serve()] == ["SLACK_SIGNING_SECRET"]


def test_neither_platform_names_the_slack_settings() -> None:
    settings = load_settings({}, env_file=None)
    assert [p.split()[0] for p in settings.missing_to_serve()] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TEAMS_TENANT_ID": TENANT}, "TEAMS_CLIENT_ID"),
        ({"TEAMS_COORDINATOR_CONVERSATION_ID": "19:a@thread.tacv2"}, "TEAMS_CLIENT_ID"),
        ({"TEAMS_CLIENT_ID": CLIENT, "TEAMS_TENANT_ID": TENANT}, "TEAMS_CLIENT_SECRET"),
        ({"TEAMS_CLIENT_ID": CLIENT, "TEAMS_CLIENT_SECRET": "s"}, "TEAMS_TENANT_ID"),
        (TEAMS | {"TEAMS_CLIENT_ID": "my-bot"}, "TEAMS_CLIENT_ID"),
        (TEAMS | {"TEAMS_TENANT_ID": "contoso.onmicrosoft.com"}, "TEAMS_TENANT_ID"),
        (TEAMS | {"TEAMS_COORDINATOR_CONVERSATION_ID": "C0COORD"}, "TEAMS_COORDINATOR"),
        (TEAMS | {"TEAMS_SERVICE_URL": "smba.example"}, "TEAMS_SERVICE_URL"),
        (TEAMS | {"TEAMS_LOCAL_UNAUTHENTICATED": "maybe"}, "TEAMS_LOCAL_UNAUTHENTICATED"),
    ],
)
def test_a_partial_or_bad_teams_configuration_is_refused(
    environ: dict[str, str], named: str
) -> None:
    problems = _problems(environ)
    assert len(problems) == 1
    assert named in problems[0]


@pytest.mark.parametrize("name", ["CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "SKIP_AUTH"])
def test_the_sdks_own_environment_names_are_refused_with_teams(name: str) -> None:
    [problem] = _problems(TEAMS | {name: "x"})
    assert problem.startswith(f"{name} is set") and "TEAMS_" in problem
    load_settings(SLACK | {name: "x"}, env_file=None)  # a Slack-only bot does not care


def test_teams_ids_are_read_in_lower_case() -> None:
    upper = {"TEAMS_CLIENT_ID": CLIENT.upper(), "TEAMS_TENANT_ID": TENANT.upper()}
    settings = load_settings(TEAMS | upper, env_file=None)
    assert (settings.teams_client_id, settings.teams_tenant_id) == (CLIENT, TENANT)
    local = {"TEAMS_TENANT_ID": DEMO_TEAMS_TENANT_ID.upper()}
    assert load_settings(LOCAL | local, env_file=None).teams_tenant_id == DEMO_TEAMS_TENANT_ID


def test_local_mode_runs_only_with_the_demo_ids_and_loopback_fakes() -> None:
    settings = load_settings(LOCAL, env_file=None)
    assert settings.teams_local_unauthenticated is True
    assert settings.teams_client_secret is None


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"TEAMS_CLIENT_SECRET": "real"}, "TEAMS_CLIENT_SECRET"),
        ({"TEAMS_CLIENT_ID": CLIENT}, "demo ids"),
        ({"TEAMS_TENANT_ID": TENANT}, "demo ids"),
        ({"TEAMS_LOGIN_URL": "https://login.microsoftonline.com"}, "TEAMS_LOGIN_URL"),
        ({"TEAMS_OPENID_METADATA_URL": "https://login.botframework.com/x"}, "TEAMS_OPENID"),
    ],
)
def test_local_mode_refuses_anything_that_could_reach_microsoft(
    extra: dict[str, str], says: str
) -> None:
    problems = _problems(LOCAL | extra)
    assert len(problems) == 1 and says in problems[0]
    assert "TEAMS_LOCAL_UNAUTHENTICATED" in problems[0]


def test_a_partial_teams_configuration_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "TEAMS_TENANT_ID": TENANT},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "TEAMS_CLIENT_ID" in result.stderr


def test_a_slack_only_env_copied_from_the_example_starts(tmp_path: Path) -> None:
    """README's step 3: `cp .env.example .env`, fill in Slack; the Teams lines left as they
    ship (the defaults, `TEAMS_LOCAL_UNAUTHENTICATED=false`) do not turn Teams half on."""
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    filled = {
        "SLACK_BOT_TOKEN=": "SLACK_BOT_TOKEN=xoxb-1",
        "SLACK_SIGNING_SECRET=": "SLACK_SIGNING_SECRET=secret",
        "DATABASE_URL=sqlite:///./data/support.db": f"DATABASE_URL=sqlite:///{tmp_path}/s.db",
    }
    lines = [filled.get(line, line) for line in example.splitlines()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Database schema is up to date."


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TEAMS_LOGIN_URL", "https://login.microsoftonline.us"),
        ("TEAMS_LOCAL_UNAUTHENTICATED", "true"),
    ],
)
def test_a_teams_setting_changed_from_its_default_still_needs_the_app_id(
    name: str, value: str
) -> None:
    assert _problems({name: value}) == [
        f"TEAMS_CLIENT_ID is not set but {name} is: set the Teams bot's app id too, "
        "or remove the TEAMS_ settings for a Slack-only bot"
    ]


def test_two_teams_settings_without_the_app_id_are_named_in_one_line() -> None:
    problems = _problems({"TEAMS_TENANT_ID": TENANT, "TEAMS_CLIENT_SECRET": "s"})
    assert problems == [
        "TEAMS_CLIENT_ID is not set but TEAMS_CLIENT_SECRET and TEAMS_TENANT_ID are: set the "
        "Teams bot's app id too, or remove the TEAMS_ settings for a Slack-only bot"
    ]
