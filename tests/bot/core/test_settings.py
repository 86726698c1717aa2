"""Settings: defaults, every CONTRACT.md name, and clear errors for bad values."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.core.settings import Settings, SettingsError, load_settings

CONTRACT_NAMES = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "PORT",
    "SUPPORT_CHANNEL_ID",
    "COORDINATOR_CHANNEL_ID",
    "TIMEZONE",
    "SCHEDULER_ENABLED",
    "LOG_LEVEL",
]
ROOT = Path(__file__).resolve().parents[3]


def test_defaults_match_the_contract() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///./data/support.db"
    assert settings.port == 3000
    assert settings.timezone == "Europe/London"
    assert settings.scheduler_enabled is True
    assert settings.log_level == "INFO"
    assert settings.socket_mode is False
    assert settings.offer_count == 3
    assert settings.checkin_time == time(9, 30)


def test_every_setting_is_read() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "PORT": "8080",
            "SUPPORT_CHANNEL_ID": "C0SUPPORT",
            "COORDINATOR_CHANNEL_ID": "G0COORD",
            "TIMEZONE": "Europe/Dublin",
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "debug",
            "CHECKIN_TIME": "10:15",
            "WORKING_HOURS": "07:30-16:00",
            "DIGEST_CRON": "Fri 15:00",
        },
        env_file=None,
    )
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.port == 8080
    assert settings.support_channel_id == "C0SUPPORT"
    assert settings.coordinator_channel_id == "G0COORD"
    assert settings.scheduler_enabled is False
    assert settings.log_level == "DEBUG"
    assert settings.socket_mode is True
    assert settings.checkin_time == time(10, 15)
    assert settings.working_hours == (time(7, 30), time(16, 0))
    assert settings.digest_cron == "fri 15:00"


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "PORT": "eighty",
                "TIMEZONE": "Mars/Olympus",
                "SCHEDULER_ENABLED": "perhaps",
                "SLACK_BOT_TOKEN": "xoxp-user-token",
                "SUPPORT_CHANNEL_ID": "#support",
                "OFFER_COUNT": "0",
                "DIGEST_CRON": "every monday",
            },
            env_file=None,
        )
    text = "\n".join(caught.value.problems)
    for name in (
        "PORT",
        "TIMEZONE",
        "SCHEDULER_ENABLED",
        "SLACK_BOT_TOKEN",
        "SUPPORT_CHANNEL_ID",
        "OFFER_COUNT",
        "DIGEST_CRON",
    ):
        assert name in text
    assert len(caught.value.problems) == 7


def test_missing_slack_settings_are_named_per_mode() -> None:
    http = load_settings({}, env_file=None)
    assert [p.split()[0] for p in http.missing_for_slack()] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]
    socket = load_settings({"SLACK_APP_TOKEN": "xapp-1"}, env_file=None)
    assert [p.split()[0] for p in socket.missing_for_slack()] == ["SLACK_BOT_TOKEN"]


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PORT=4000\nLOG_LEVEL=WARNING\n# a comment\n")
    settings = load_settings({"LOG_LEVEL": "ERROR"}, env_file=env_file)
    assert settings.port == 4000
    assert settings.log_level == "ERROR"


def test_repr_never_shows_tokens_or_passwords() -> None:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-secret", "DATABASE_URL": "postgresql://u:hunter2@h/db"},
        env_file=None,
    )
    assert "xoxb-secret" not in repr(settings)
    assert "hunter2" not in repr(settings)


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    names = {line.split("=")[0] for line in example.splitlines() if "=" in line and line[0] != "#"}
    assert set(CONTRACT_NAMES) <= names
    fields = {f.upper() for f in Settings.__dataclass_fields__}
    assert fields <= names, f"settings missing from .env.example: {sorted(fields - names)}"


def test_run_names_each_missing_setting(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_fails_the_cli_with_one_line_each(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PORT": "x", "TIMEZONE": "Nowhere"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: PORT must be a whole number, not 'x'",
        "error: TIMEZONE must be an IANA time zone like Europe/London, not 'Nowhere'",
    ]


def test_the_outbox_gives_up_after_a_day_unless_told() -> None:
    assert load_settings({}, env_file=None).outbox_give_up_hours == 24
    settings = load_settings({"OUTBOX_GIVE_UP_HOURS": "72"}, env_file=None)
    assert settings.outbox_give_up_hours == 72
    for raw, problem in (
        ("0", "OUTBOX_GIVE_UP_HOURS must be between 1 and 720, not 0"),
        ("a day", "OUTBOX_GIVE_UP_HOURS must be a whole number, not 'a day'"),
    ):
        with pytest.raises(SettingsError) as caught:
            load_settings({"OUTBOX_GIVE_UP_HOURS": raw}, env_file=None)
        assert caught.value.problems == [problem]


def test_matching_rules_default_to_prefer_and_excluding_the_same_trust() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.exclude_same_trust is True
    assert (settings.phase_match, settings.region_match) == ("prefer", "prefer")
    strict = load_settings(
        {"EXCLUDE_SAME_TRUST": "false", "PHASE_MATCH": "Require", "REGION_MATCH": "require"},
        env_file=None,
    )
    assert strict.exclude_same_trust is False
    assert (strict.phase_match, strict.region_match) == ("require", "require")


def test_bad_matching_rules_are_each_reported() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {"EXCLUDE_SAME_TRUST": "sometimes", "PHASE_MATCH": "must", "REGION_MATCH": "0"},
            env_file=None,
        )
    assert [problem.split()[0] for problem in caught.value.problems] == [
        "EXCLUDE_SAME_TRUST",
        "PHASE_MATCH",
        "REGION_MATCH",
    ]


@pytest.mark.parametrize("hours", ["9-5", "17:00-08:00", "08:00", "8am-5pm"])
def test_bad_working_hours_are_one_line(tmp_path: Path, hours: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "WORKING_HOURS": hours},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: WORKING_HOURS must be a start and an end in 24-hour time like 08:00-17:00, "
        f"not {hours!r}"
    ]
    assert list(tmp_path.iterdir()) == [], "no database was made"


@pytest.mark.parametrize("url", ["nonsense", "support.db", "postgres//u:pw@db/support"])
def test_a_database_url_that_is_no_url_is_one_line_without_the_value(
    tmp_path: Path, url: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: DATABASE_URL must be a SQLAlchemy URL like sqlite:///./data/support.db or "
        "postgresql+psycopg://user:password@host:5432/support"
    ]


@pytest.mark.parametrize(
    ("holidays", "problem"),
    [
        (
            "closures:\n  - {name: INSET day, on: 04/01/2027}\n",
            "closure 1 ('INSET day'): 'on' must be a date written YYYY-MM-DD, not '04/01/2027'",
        ),
        ("closures: [{name: INSET day, on: 2027-01-04}\n", "is not valid YAML at line 2"),
        ("", "is empty; it needs a 'closures:' list"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_malformed_holidays_file_stops_start_up_in_one_line(
    tmp_path: Path, holidays: str, problem: str, command: str
) -> None:
    (tmp_path / "holidays.yml").write_text(holidays, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", command],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "HOLIDAYS_FILE": "holidays.yml",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "PORT": "1",  # never listened on: start-up stops first
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: HOLIDAYS_FILE 'holidays.yml'"), line
    assert problem in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["holidays.yml"], "no database"


def test_a_malformed_holidays_file_is_reported_with_the_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text("closures:\n  - {name: Backwards, from: 2026-12-21, to: 2026-12-01}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({"HOLIDAYS_FILE": str(path), "PORT": "x"}, env_file=None)
    assert caught.value.problems == [
        "PORT must be a whole number, not 'x'",
        f"HOLIDAYS_FILE {str(path)!r}: closure 1 ('Backwards'): 'to' (2026-12-01) is before "
        "'from' (2026-12-21)",
    ]


def test_a_sound_holidays_file_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text("closures:\n  - {name: INSET day, on: 2027-01-04}\n")
    assert load_settings({"HOLIDAYS_FILE": str(path)}, env_file=None).holidays_file == str(path)
