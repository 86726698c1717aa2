"""Settings: read once from the environment (and `.env`), validated, passed down as one object."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.teams_settings import (
    DEFAULT_TEAMS_LOGIN_URL,
    DEFAULT_TEAMS_OPENID_METADATA_URL,
    DEFAULT_TEAMS_SERVICE_URL,
    read_teams,
)

DEFAULT_DATABASE_URL = "sqlite:///./data/support.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
MATCH_RULES = ("prefer", "require")


class SettingsError(Exception):
    """One or more settings are missing or invalid; `problems` holds one line per setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Settings:
    """Every setting the bot reads. Defaults match CONTRACT.md and `.env.example`."""

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = 3000
    support_channel_id: str | None = None
    coordinator_channel_id: str | None = None
    timezone: str = "Europe/London"
    scheduler_enabled: bool = True
    log_level: str = "INFO"
    log_format: str = "text"
    public_url: str | None = None
    offer_count: int = 3
    offer_timeout_hours: int = 48
    max_offer_rounds: int = 2
    visit_offer_timeout_days: int = 5
    show_school_before_accept: bool = False
    working_hours: tuple[time, time] = (time(8, 0), time(17, 0))
    checkin_first_days: int = 7
    checkin_every_days: int = 14
    checkin_time: time = time(9, 30)
    checkin_reminder_hours: int = 48
    digest_cron: str = "mon 08:00"
    holidays_file: str | None = None
    retention_days: int = 365
    outbox_retention_days: int = 30
    outbox_workers: int = 4
    outbox_give_up_hours: int = 24
    slack_messages_per_second: int = 10
    slack_listener_threads: int = 100
    teams_client_id: str | None = None
    teams_client_secret: str | None = field(default=None, repr=False)
    teams_tenant_id: str | None = None
    teams_coordinator_conversation_id: str | None = None
    teams_service_url: str = DEFAULT_TEAMS_SERVICE_URL
    teams_login_url: str = DEFAULT_TEAMS_LOGIN_URL
    teams_openid_metadata_url: str = DEFAULT_TEAMS_OPENID_METADATA_URL
    teams_local_unauthenticated: bool = False
    exclude_same_trust: bool = True
    phase_match: str = "prefer"
    region_match: str = "prefer"

    @property
    def tz(self) -> ZoneInfo:
        """The configured time zone as a `ZoneInfo`."""
        return ZoneInfo(self.timezone)

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set, so the bot connects over Socket Mode."""
        return bool(self.slack_app_token)

    @property
    def teams_configured(self) -> bool:
        """True when the Teams bot's app registration is set (`TEAMS_CLIENT_ID`)."""
        return bool(self.teams_client_id)

    @property
    def slack_configured(self) -> bool:
        """True when any Slack credential is set: then all that Slack needs must be."""
        return bool(self.slack_bot_token or self.slack_signing_secret or self.slack_app_token)

    @property
    def platforms(self) -> tuple[str, ...]:
        """The chat platforms this deployment talks to ("slack", "teams"), Slack first."""
        slack = ("slack",) if self.slack_configured or not self.teams_configured else ()
        return slack + (("teams",) if self.teams_configured else ())

    def missing_to_serve(self) -> list[str]:
        """What is still needed to serve: Slack's settings, unless only Teams is configured."""
        if self.teams_configured and not self.slack_configured:
            return []
        return self.missing_for_slack()

    def missing_for_slack(self) -> list[str]:
        """The settings still needed to talk to Slack in the configured mode."""
        missing = []
        if not self.slack_bot_token:
            missing.append("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…)")
        if not self.socket_mode and not self.slack_signing_secret:
            missing.append(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; "
                "or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return missing

    def __repr__(self) -> str:  # never print tokens
        mode = "socket" if self.socket_mode else "http"
        return f"Settings(database_url={_redact_url(self.database_url)!r}, mode={mode})"


def _redact_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _parse_bool(name: str, raw: str, problems: list[str]) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    problems.append(f"{name} must be true or false, not {raw!r}")
    return False


def _parse_int(name: str, raw: str, problems: list[str], *, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        problems.append(f"{name} must be a whole number, not {raw!r}")
        return low
    if not low <= value <= high:
        problems.append(f"{name} must be between {low} and {high}, not {value}")
    return value


def _parse_time(name: str, raw: str, problems: list[str]) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    problems.append(f"{name} must be a 24-hour time like 09:30, not {raw!r}")
    return time(0, 0)


def _parse_working_hours(raw: str, problems: list[str]) -> tuple[time, time]:
    """`08:00-17:00`: a start before an end; anything else is one problem, not one per half."""
    start, _, end = raw.partition("-")
    halves: list[str] = []
    hours = (_parse_time("start", start, halves), _parse_time("end", end, halves))
    if halves or hours[0] >= hours[1]:
        problems.append(
            "WORKING_HOURS must be a start and an end in 24-hour time like 08:00-17:00, "
            f"not {raw!r}"
        )
    return hours


def parse_digest_cron(raw: str) -> tuple[str, time]:
    """Parse `DIGEST_CRON` ("mon 08:00") into (day_of_week, time); raises ValueError."""
    match = re.fullmatch(r"\s*(mon|tue|wed|thu|fri|sat|sun)\s+(\d{1,2}):(\d{2})\s*", raw.lower())
    if not match or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError(f"DIGEST_CRON must be a weekday and time like 'mon 08:00', not {raw!r}")
    return match[1], time(int(match[2]), int(match[3]))


_Getter = Callable[[str], str | None]


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: str | Path | None = ".env"
) -> Settings:
    """Build `Settings` from `environ` (default: the process environment) over `env_file`.

    Raises `SettingsError` listing every invalid setting at once.
    """
    values: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        from dotenv import dotenv_values  # only when there is a file: 20 ms of start-up

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw and raw.strip() else None

    problems: list[str] = []
    kwargs: dict[str, object] = {}
    _read_slack(get, kwargs, problems)
    _read_service(get, kwargs, problems)
    _read_timings(get, kwargs, problems)
    read_teams(get, kwargs, problems)
    _read_matching(get, kwargs, problems)
    if holidays_file := get("HOLIDAYS_FILE"):
        problems += _holidays_file_problems(holidays_file)

    if problems:
        raise SettingsError(problems)
    return Settings(**kwargs)  # type: ignore[arg-type]  # each value was parsed to its type above


def _holidays_file_problems(path: str) -> list[str]:
    """What is wrong with the holidays file at `path`, one line per mistake, each naming the
    setting: checked at start-up, not first when a check-in is scheduled."""
    if not Path(path).is_file():
        return [f"HOLIDAYS_FILE {path!r} does not exist"]
    from bot.core.school_calendar import CalendarError, read_holidays_file  # YAML: only if set

    try:
        read_holidays_file(path, source=f"HOLIDAYS_FILE {path!r}")
    except CalendarError as exc:
        return exc.problems
    return []


def _read_slack(get: _Getter, kwargs: dict[str, object], problems: list[str]) -> None:
    """The Slack tokens, channels and API address."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "HOLIDAYS_FILE"):
        kwargs[name.lower()] = get(name)
    for name in ("SUPPORT_CHANNEL_ID", "COORDINATOR_CHANNEL_ID"):
        value = get(name)
        if value and not re.fullmatch(r"[CGD][A-Z0-9]{2,}", value):
            problems.append(f"{name} must be a Slack channel id like C0123ABCD, not {value!r}")
        kwargs[name.lower()] = value

    token = get("SLACK_BOT_TOKEN")
    if token and not token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-")

    api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not re.match(r"https?://", api_url):
        problems.append(f"SLACK_API_URL must be an http(s) URL, not {api_url!r}")
    kwargs["slack_api_url"] = api_url if api_url.endswith("/") else api_url + "/"


def _read_service(get: _Getter, kwargs: dict[str, object], problems: list[str]) -> None:
    """The database, the web server, the time zone, switches and logging."""
    kwargs["database_url"] = database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", database_url):  # never echoed: a password
        problems.append(
            "DATABASE_URL must be a SQLAlchemy URL like sqlite:///./data/support.db or "
            "postgresql+psycopg://user:password@host:5432/support"
        )
    public_url = get("PUBLIC_URL")
    if public_url and not re.match(r"https?://", public_url):
        problems.append(f"PUBLIC_URL must be an http(s) URL, not {public_url!r}")
    kwargs["public_url"] = public_url.rstrip("/") if public_url else None

    if raw := get("PORT"):
        kwargs["port"] = _parse_int("PORT", raw, problems, low=1, high=65535)
    if raw := get("TIMEZONE"):
        try:
            ZoneInfo(raw)
            kwargs["timezone"] = raw
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"TIMEZONE must be an IANA time zone like Europe/London, not {raw!r}")
    if raw := get("SCHEDULER_ENABLED"):
        kwargs["scheduler_enabled"] = _parse_bool("SCHEDULER_ENABLED", raw, problems)
    if raw := get("SHOW_SCHOOL_BEFORE_ACCEPT"):
        kwargs["show_school_before_accept"] = _parse_bool(
            "SHOW_SCHOOL_BEFORE_ACCEPT", raw, problems
        )
    if raw := get("LOG_LEVEL"):
        if raw.upper() not in LOG_LEVELS:
            problems.append(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
        kwargs["log_level"] = raw.upper()
    if raw := get("LOG_FORMAT"):
        if raw.lower() not in LOG_FORMATS:
            problems.append(f"LOG_FORMAT must be text or json, not {raw!r}")
        kwargs["log_format"] = raw.lower()


def _read_timings(get: _Getter, kwargs: dict[str, object], problems: list[str]) -> None:
    """Counts, delays and times of day for offers, check-ins, retention and the digest."""
    bounds = {
        "OFFER_COUNT": (1, 20),
        "OFFER_TIMEOUT_HOURS": (1, 24 * 30),
        "MAX_OFFER_ROUNDS": (1, 10),
        "VISIT_OFFER_TIMEOUT_DAYS": (1, 30),
        "CHECKIN_FIRST_DAYS": (1, 90),
        "CHECKIN_EVERY_DAYS": (1, 90),
        "CHECKIN_REMINDER_HOURS": (1, 24 * 14),
        "RETENTION_DAYS": (1, 365 * 10),
        "OUTBOX_RETENTION_DAYS": (1, 365 * 10),
        "OUTBOX_WORKERS": (1, 64),
        "OUTBOX_GIVE_UP_HOURS": (1, 24 * 30),
        "SLACK_MESSAGES_PER_SECOND": (1, 1000),
        "SLACK_LISTENER_THREADS": (5, 1000),
    }
    for name, (low, high) in bounds.items():
        if raw := get(name):
            kwargs[name.lower()] = _parse_int(name, raw, problems, low=low, high=high)
    if raw := get("CHECKIN_TIME"):
        kwargs["checkin_time"] = _parse_time("CHECKIN_TIME", raw, problems)
    if raw := get("WORKING_HOURS"):
        kwargs["working_hours"] = _parse_working_hours(raw, problems)
    if raw := get("DIGEST_CRON"):
        try:
            parse_digest_cron(raw)
            kwargs["digest_cron"] = raw.lower().strip()
        except ValueError as exc:
            problems.append(str(exc))


def _read_matching(get: _Getter, kwargs: dict[str, object], problems: list[str]) -> None:
    """Who may be offered a request: conflicts of interest, phase and region rules."""
    if raw := get("EXCLUDE_SAME_TRUST"):
        kwargs["exclude_same_trust"] = _parse_bool("EXCLUDE_SAME_TRUST", raw, problems)
    for name in ("PHASE_MATCH", "REGION_MATCH"):
        if raw := get(name):
            if raw.lower() not in MATCH_RULES:
                problems.append(f"{name} must be prefer or require, not {raw!r}")
            kwargs[name.lower()] = raw.lower()
