"""The command line as operators use it: real subprocesses, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from handlers.slack.manifest import BOT_EVENTS, BOT_SCOPES, SHORTCUT_CALLBACK_ID, render_manifest
from handlers.slack.stand_in.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[3]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manifest_for_a_url_has_everything_slack_needs() -> None:
    result = run("manifest", "--url", "https://support.example.org/")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    endpoint = "https://support.example.org/slack/events"
    assert manifest["features"]["slash_commands"][0]["command"] == "/support"
    assert manifest["features"]["slash_commands"][0]["url"] == endpoint
    assert manifest["features"]["shortcuts"][0]["callback_id"] == SHORTCUT_CALLBACK_ID
    assert manifest["features"]["shortcuts"][0]["type"] == "message"
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    settings = manifest["settings"]
    # Menus whose options the bot serves (external_select) ask at the same endpoint.
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": endpoint,
        "message_menu_options_url": endpoint,
    }
    assert settings["event_subscriptions"]["request_url"] == endpoint
    assert set(settings["event_subscriptions"]["bot_events"]) == set(BOT_EVENTS)
    assert settings["socket_mode_enabled"] is False
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


def test_socket_mode_manifest_has_no_urls() -> None:
    manifest = yaml.safe_load(run("manifest", "--socket-mode").stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert "message_menu_options_url" not in manifest["settings"]["interactivity"]
    assert "url" not in manifest["features"]["slash_commands"][0]


def test_committed_manifest_matches_the_generator() -> None:
    assert (ROOT / "manifest.yml").read_text() == render_manifest()


def test_bad_manifest_url_is_one_line() -> None:
    result = run("manifest", "--url", "support.example.org")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "https://" in result.stderr


def test_migrate_then_requests_list_on_an_empty_database(db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    assert run("migrate", env=env).returncode == 0
    listed = run("requests", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert "No requests" in run("requests", "list", env=env).stdout


def test_requests_list_rejects_an_unknown_status(db_url: str) -> None:
    result = run("requests", "list", "--status", "lost", env={"DATABASE_URL": db_url})
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["no-such"], "argument COMMAND: invalid choice: 'no-such'"),
        (["requests", "list", "--status", "lost"], "argument --status: invalid choice: 'lost'"),
        (["directory"], "the following arguments are required: ACTION"),
        (["directory", "import"], "the following arguments are required: FILE.csv"),
        (["jobs", "run-due", "--bogus"], "unrecognized arguments: --bogus"),
        (["deployments", "summary", "abc"], "argument N: invalid int value: 'abc'"),
        (["report", "--format", "pdf"], "argument --format: invalid choice: 'pdf'"),
        (["privacy", "erase"], "the following arguments are required: USER"),
        (["teams-manifest"], "the following arguments are required: --url"),
    ],
)
def test_argument_errors_are_one_line_and_change_nothing(
    tmp_path: Path, argv: list[str], said: str
) -> None:
    result = run(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: python -m bot") and said in lines[0]
    assert lines[0].endswith("--help` for how to use it)")
    assert list(tmp_path.iterdir()) == [], "no database was made"


def test_jobs_run_due_needs_a_zoned_time(db_url: str) -> None:
    env = {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    bad = run("jobs", "run-due", "--now", "2026-11-23T09:30", env=env)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: --now needs a time zone, e.g. 2026-11-23T09:30:00+00:00 or …Z"
    ]
    good = run("jobs", "run-due", "--now", "2026-11-23T09:30:00+00:00", env=env)
    assert good.returncode == 0, good.stderr
    assert "messages_sent: 0" in good.stdout


def test_demo_plays_the_life_of_a_request(tmp_path: Path) -> None:
    result = run("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == "", "no log line interrupts the transcript"
    out = result.stdout
    assert "Hannah Head (Mere Green Primary) posts in #school-support" in out
    assert "bot → #school-support (in the thread)" in out
    assert "Areas of need: Maths, Special educational needs and disabilities (SEND)" in out
    assert "bot → DM to Sam Specialist" in out and "[Accept] [Decline]" in out
    assert "Taken by Sam Specialist — thank you" in out
    assert "@Sam Specialist will support you" in out
    assert "already been taken by Sam Specialist" in out
    assert '"status": "accepted"' in out
    assert "is booked for Tuesday 8 December 2026, hosted by @Nadia Leader" in out
    assert "Reminder: you're hosting @Harry Head" in out
    # The Teams chapter: an agreement drafted on a Teams card, closing ratings from Teams.
    assert "Priya unfolds [Draft the agreement] on her Teams card" in out
    assert "The card in Harry's 1:1 chat becomes:".lower() in out.lower()
    assert "1. Plan the Year 7 maths curriculum for spring and summer: met" in out
    assert "2. Coach the new head of maths through two lesson studies: good" in out
    assert not (tmp_path / "data").exists(), "the demo leaves nothing behind"


def test_serve_with_slack_unreachable_says_so_in_one_line(db_url: str) -> None:
    env = {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-x",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    result = run("serve", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "error: could not check SLACK_BOT_TOKEN with Slack at http://127.0.0.1:9/api/"
    )
    assert "xoxb-x" not in result.stderr and "secret" not in result.stderr


def _owe_one_message(db_url: str) -> None:
    from bot.outbox.owing import owe_post
    from storage.db import make_engine, make_session_factory, transaction

    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as session:
        owe_post(session, now=datetime(2026, 11, 23, 9, tzinfo=UTC), channel="U0HEAD1", text="Hi")
    engine.dispose()


def _outbox_statuses(db_url: str) -> list[str]:
    from sqlmodel import select

    from storage.db import make_engine, make_session_factory
    from storage.models import OutboxMessage

    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        statuses = [m.status for m in session.exec(select(OutboxMessage))]
    engine.dispose()
    return statuses


def test_commands_that_need_slack_refuse_without_a_token_in_one_line(db_url: str) -> None:
    _owe_one_message(db_url)
    with FakeSlack() as fake:
        env = {"DATABASE_URL": db_url, "SLACK_API_URL": fake.url}
        for command in (
            ("jobs", "run-due"),
            ("jobs", "run-due", "--now", "2026-11-23T09:30:00+00:00"),
            ("digest", "--week", "2026-11-16"),
        ):
            result = run(*command, env=env)
            assert result.returncode == 1, (command, result.stdout, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: SLACK_BOT_TOKEN is not set")
            assert f"`{' '.join(command[:2]) if command[0] == 'jobs' else 'digest'}`" in lines[0]
            assert result.stdout == ""
        assert fake.calls == [], "nothing may try to reach Slack"
    assert _outbox_statuses(db_url) == ["pending"], "the owed message is still owed"
    # The dry run needs no Slack and still works.
    dry = run("digest", "--week", "2026-11-16", "--dry-run", env={"DATABASE_URL": db_url})
    assert dry.returncode == 0, dry.stderr


TEAMS_ONLY = {
    "TEAMS_CLIENT_ID": "0b7e4c3a-1111-4222-8333-944455556666",
    "TEAMS_CLIENT_SECRET": "a-secret",
    "TEAMS_TENANT_ID": "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f",
}


def test_a_bot_only_on_teams_runs_its_due_work_without_a_slack_token(db_url: str) -> None:
    _owe_one_message(db_url)
    result = run("jobs", "run-due", env={"DATABASE_URL": db_url, **TEAMS_ONLY})
    assert result.returncode == 0, result.stderr
    assert "SLACK_BOT_TOKEN" not in result.stderr
    assert _outbox_statuses(db_url) == ["pending"], "a Slack message waits for a Slack sender"


def test_a_plain_http_manifest_url_is_refused_in_one_line() -> None:
    result = run("manifest", "--url", "http://support.example.org")
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "https://" in result.stderr
    assert result.stdout == ""


def test_a_failing_due_task_ends_with_one_line_naming_it(db_url: str) -> None:
    from sqlalchemy import text

    from storage.db import make_engine

    engine = make_engine(db_url)

    def rename(old: str, new: str) -> None:
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))

    # Visits' table out of the way (and put back: the PostgreSQL database serves later tests):
    # their tasks fail, the rest run.
    rename("visit_request", "visit_request_away")
    try:
        env = {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-1"}
        result = run("jobs", "run-due", env=env)
    finally:
        rename("visit_request_away", "visit_request")
        engine.dispose()
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "visit_reminders" in last, last
    assert "checkins_sent: 0" in result.stdout, "the other tasks ran"
