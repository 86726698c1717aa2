"""`/support directory export|import` through Slack: coordinators only, files both ways."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.directory.files import MAX_UPLOAD_BYTES
from handlers.slack.stand_in.fake_slack import dm_channel_id
from handlers.slack.stand_in.signing import view_submission_payload
from storage.models import AuditEntry, Person, PersonExpertise
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.support.blockkit import texts

ROOT = Path(__file__).resolve().parents[3]
COORDINATOR = "UCOORD"
HEAD = "UHEAD1"
HEADER = "slack_user_id,name,email,roles,school,school_urn,phase,region,expertise,capacity\n"


def cli_export(database_url: str, tmp_path: Path) -> bytes:
    """What `python -m bot directory export FILE.csv` writes for this database."""
    out = tmp_path / "cli-export.csv"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "directory", "export", str(out)],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def audit(slack: SlackWorld, action: str) -> list[AuditEntry]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def people(slack: SlackWorld) -> dict[str, Person]:
    with slack.runtime.sessions() as session:
        return {p.slack_user_id: p for p in session.exec(select(Person))}


def command(slack: SlackWorld, user: str, text: str, channel: str = SUPPORT_CHANNEL) -> None:
    status, _, _ = slack.sender.command("/support", text, user_id=user, channel_id=channel)
    assert status == 200
    slack.settle()


def submit_file(slack: SlackWorld, user: str, file: dict[str, Any]) -> dict[str, Any]:
    """Submit the import modal with `file` chosen; returns the ack's JSON body ({} if empty)."""
    payload = view_submission_payload(
        user,
        "directory_import",
        {"directory_file": {"csv_file": {"type": "file_input", "files": [file]}}},
        title="Import the directory",
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200
    slack.settle()
    return json.loads(body) if body.strip() else {}


def ephemeral_to(slack: SlackWorld, user: str) -> str:
    return "\n".join(slack.fake.replies_to(user))


def dm_text(slack: SlackWorld, user: str) -> str:
    return "\n".join(m["text"] + "\n" + texts(m.get("blocks")) for m in slack.fake.messages(user))


# --- export ----------------------------------------------------------------------------------
def test_coordinator_export_uploads_the_cli_export_into_their_dm(
    slack: SlackWorld, slack_settings_env: dict[str, str], tmp_path: Path
) -> None:
    slack.import_directory()

    command(slack, COORDINATOR, "directory export")

    [shared] = slack.fake.files(COORDINATOR)
    assert shared["name"] == shared["title"] == "directory-2026-11-23.csv"
    assert shared["content"] == cli_export(slack_settings_env["DATABASE_URL"], tmp_path)
    assert shared["content"].decode().startswith(HEADER.rstrip("\n"))
    [complete] = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == dm_channel_id(COORDINATOR)
    [message] = slack.fake.messages(COORDINATOR)
    assert "7 people" in message["text"] and "/support directory import" in message["text"]
    assert "directory-2026-11-23.csv" in ephemeral_to(slack, COORDINATOR)
    [entry] = audit(slack, "directory.exported")
    assert (entry.actor, entry.detail["count"]) == (COORDINATOR, 7)


def test_export_asked_for_in_the_dm_needs_no_pointer_to_it(slack: SlackWorld) -> None:
    slack.import_directory()

    command(slack, COORDINATOR, "directory export", channel=dm_channel_id(COORDINATOR))

    assert len(slack.fake.files(COORDINATOR)) == 1
    assert slack.fake.replies_to(COORDINATOR) == []


def test_export_that_slack_refuses_is_told_ephemerally(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.fail_permanently("files.completeUploadExternal", "not_in_channel")

    command(slack, COORDINATOR, "directory export")

    assert slack.fake.files(COORDINATOR) == []
    told = ephemeral_to(slack, COORDINATOR)
    assert "couldn't send you the directory file" in told and "not_in_channel" in told
    assert audit(slack, "directory.exported") == []


# --- import ------------------------------------------------------------------------------------
def test_import_command_opens_a_csv_upload_form(slack: SlackWorld) -> None:
    slack.import_directory()

    command(slack, COORDINATOR, "directory import")

    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok
    view = opened.args["view"]
    assert view["callback_id"] == "directory_import"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["directory_dry_run"]["optional"] is True
    assert inputs["directory_dry_run"]["element"]["type"] == "checkboxes"
    file_input = inputs["directory_file"]["element"]
    assert file_input == {
        "type": "file_input",
        "action_id": "csv_file",
        "filetypes": ["csv"],
        "max_files": 1,
    }


def test_coordinator_import_adds_updates_and_reports_rejected_rows(slack: SlackWorld) -> None:
    slack.import_directory()
    csv = (
        HEADER
        + "UHEAD1,Hannah Head-Smith,h.head@example.org,head,Mere Green Primary School,103413,"
        "primary,West Midlands,,1\n"
        "UNEW1,Nia Newcomer,n.new@example.org,sle,Oak Hill Primary School,103500,primary,"
        "West Midlands,maths,1\n"
        "UBAD1,Bea Broken,,headteacher,,,,,,\n"
    )
    file = slack.fake.add_file("people.csv", csv.encode(), user=COORDINATOR)

    ack = submit_file(slack, COORDINATOR, file)

    assert ack["response_action"] == "update"
    assert "people.csv" in texts(ack["view"]["blocks"])
    assert slack.fake.downloads() == [file["id"]]
    found = people(slack)
    assert found["UHEAD1"].name == "Hannah Head-Smith"
    assert found["UNEW1"].name == "Nia Newcomer"
    assert "UBAD1" not in found
    [report] = slack.fake.messages(COORDINATOR)
    assert "1 added, 1 updated, 0 unchanged, 1 rejected" in report["text"]
    shown = texts(report["blocks"])
    assert "```" in shown
    assert "line 4 (UBAD1): unknown role 'headteacher'" in shown
    added = audit(slack, "directory.person_added")
    assert [(e.actor, e.detail["line"]) for e in added if e.actor] == [(COORDINATOR, 3)]
    [summary] = audit(slack, "directory.imported")
    assert (summary.actor, summary.detail["rejected"]) == (COORDINATOR, 1)


def test_an_unknown_tag_is_left_out_with_a_warning_and_a_short_row_is_named(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    rows = (
        "UNEW1,Nia Newcomer,n.new@example.org,sle,Oak Hill Primary School,103500,primary,"
        "West Midlands,maths;mathz,1\n"
        # A missing comma after the email: one value short.
        "UBAD1,Bea Broken,b.broken@example.org sle,Oak Hill Primary School,103500,primary,"
        "West Midlands,send,1\n"
    )
    file = slack.fake.add_file("people.csv", (HEADER + rows).encode(), user=COORDINATOR)

    submit_file(slack, COORDINATOR, file)

    found = people(slack)
    assert "UNEW1" in found and "UBAD1" not in found
    with slack.runtime.sessions() as session:
        tags = session.exec(
            select(PersonExpertise.tag_slug).where(PersonExpertise.person_id == found["UNEW1"].id)
        ).all()
    assert tags == ["maths"]
    [report] = slack.fake.messages(COORDINATOR)
    assert "1 added, 0 updated, 0 unchanged, 1 rejected" in report["text"]
    shown = texts(report["blocks"])
    assert "line 3 (UBAD1): 9 values where the header has 10 — is a separator missing?" in shown
    warnings = shown.split("Warnings:")[1]
    assert "line 2 (UNEW1): left out unknown expertise 'mathz' — did you mean 'maths'?" in warnings


def test_a_long_report_is_cut_within_slack_limits(slack: SlackWorld) -> None:
    slack.import_directory()
    rows = "".join(f"U{n:06d}X,Person {n},,wizard,,,,,,\n" for n in range(900))
    file = slack.fake.add_file("many.csv", (HEADER + rows).encode(), user=COORDINATOR)

    submit_file(slack, COORDINATOR, file)

    [report] = slack.fake.messages(COORDINATOR)  # Slack took it: the fake checks every limit
    assert "0 added, 0 updated, 0 unchanged, 900 rejected" in report["text"]
    assert len(report["blocks"]) <= 12
    assert "more lines of the report are not shown" in texts(report["blocks"])


# --- refusals -------------------------------------------------------------------------------
def test_a_head_may_neither_export_nor_import(slack: SlackWorld) -> None:
    slack.import_directory()
    before = people(slack)

    command(slack, HEAD, "directory export")
    command(slack, HEAD, "directory import")

    told = ephemeral_to(slack, HEAD)
    assert "Only coordinators can export the directory" in told
    assert "Only coordinators can import the directory" in told
    assert slack.fake.calls_to("files.getUploadURLExternal") == []
    assert slack.fake.calls_to("views.open") == []
    assert slack.fake.files(HEAD) == []
    [export_refused] = audit(slack, "directory.export.refused")
    [import_refused] = audit(slack, "directory.import.refused")
    for entry in (export_refused, import_refused):
        assert (entry.actor, entry.subject_type, entry.subject_id) == (HEAD, "directory", "-")
    assert people(slack).keys() == before.keys()


def test_a_head_submitting_the_import_form_anyway_is_refused(slack: SlackWorld) -> None:
    slack.import_directory()
    csv = HEADER + "UHEAD1,Someone Else,,coordinator,,,,,,\n"
    file = slack.fake.add_file("people.csv", csv.encode(), user=HEAD)

    ack = submit_file(slack, HEAD, file)

    assert ack["response_action"] == "update"
    assert "Only coordinators can import the directory" in texts(ack["view"]["blocks"])
    assert slack.fake.downloads() == []
    assert people(slack)["UHEAD1"].name == "Hannah Head"
    [refused] = audit(slack, "directory.import.refused")
    assert refused.actor == HEAD


def test_unknown_directory_words_get_the_usage(slack: SlackWorld) -> None:
    slack.import_directory()

    command(slack, COORDINATOR, "directory sync")

    assert "/support directory export" in ephemeral_to(slack, COORDINATOR)
    assert slack.fake.calls_to("views.open") == []


# --- files that can't be used ---------------------------------------------------------------
def test_an_oversized_file_is_refused_in_the_form(slack: SlackWorld) -> None:
    slack.import_directory()
    big = (HEADER + "x" * MAX_UPLOAD_BYTES).encode()
    file = slack.fake.add_file("huge.csv", big, user=COORDINATOR)

    ack = submit_file(slack, COORDINATOR, file)

    assert ack["response_action"] == "errors"
    assert "2 MB" in ack["errors"]["directory_file"]
    assert slack.fake.downloads() == []
    assert slack.fake.messages(COORDINATOR) == []


def test_a_file_bigger_than_slack_said_is_cut_off(slack: SlackWorld) -> None:
    slack.import_directory()
    big = (HEADER + "x" * MAX_UPLOAD_BYTES).encode()
    file = {**slack.fake.add_file("huge.csv", big, user=COORDINATOR), "size": 100}

    submit_file(slack, COORDINATOR, file)

    told = dm_text(slack, COORDINATOR)
    assert "bigger than 2 MB" in told and "Nothing was imported" in told
    assert audit(slack, "directory.imported") == []


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "people.csv",
            (HEADER + "UNEW1,Zoë Brontë,,head,,,,,,\n").encode("cp1252"),
            "is not UTF-8 text (byte 0xeb",
        ),
        ("people.csv", b"slack_user_id;name;roles\nUNEW1;Zo;head\n", "semicolon"),
        ("people.csv", b"", "the file is empty"),
        ("people.csv", b"PK\x03\x04\x14\x00\x06\x00", "not a CSV file"),
    ],
)
def test_a_file_that_cannot_be_read_imports_nothing_and_says_why(
    slack: SlackWorld, name: str, content: bytes, says: str
) -> None:
    slack.import_directory()
    before = people(slack)
    file = slack.fake.add_file(name, content, user=COORDINATOR)

    ack = submit_file(slack, COORDINATOR, file)

    assert ack["response_action"] == "update"
    told = dm_text(slack, COORDINATOR)
    assert says in told and "Nothing was imported" in told
    assert people(slack).keys() == before.keys()
    assert audit(slack, "directory.imported") == []


def test_a_spreadsheet_is_refused_in_the_form(slack: SlackWorld) -> None:
    slack.import_directory()
    file = slack.fake.add_file(
        "people.xlsx",
        b"PK\x03\x04",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        user=COORDINATOR,
    )

    ack = submit_file(slack, COORDINATOR, file)

    assert ack["response_action"] == "errors"
    assert "CSV UTF-8" in ack["errors"]["directory_file"]
    assert slack.fake.downloads() == []


def test_a_file_not_stored_in_slack_is_never_fetched_with_the_token(slack: SlackWorld) -> None:
    slack.import_directory()
    file = slack.fake.add_file("people.csv", HEADER.encode(), user=COORDINATOR)
    file["url_private_download"] = "https://attacker.example.org/people.csv"

    submit_file(slack, COORDINATOR, file)

    assert "isn't stored in Slack" in dm_text(slack, COORDINATOR)
    assert slack.fake.downloads() == []


def test_a_coordinator_can_only_check_a_file_and_nothing_is_saved(slack: SlackWorld) -> None:
    slack.import_directory()
    csv = (
        HEADER
        + "UHEAD1,Hannah Head-Smith,h.head@example.org,head,Mere Green Primary School,103413,"
        "primary,West Midlands,,1\n"
        "UNEW1,Nia Newcomer,n.new@example.org,sle,Oak Hill Primary School,103500,primary,"
        "West Midlands,maths,1\n"
    )
    file = slack.fake.add_file("people.csv", csv.encode(), user=COORDINATOR)
    checked = {"type": "checkboxes", "selected_options": [{"value": "dry_run"}]}
    payload = view_submission_payload(
        COORDINATOR,
        "directory_import",
        {
            "directory_file": {"csv_file": {"type": "file_input", "files": [file]}},
            "directory_dry_run": {"dry_run": checked},
        },
        title="Import the directory",
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200
    slack.settle()
    assert "nothing will be saved" in texts(json.loads(body)["view"]["blocks"])
    found = people(slack)
    assert found["UHEAD1"].name == "Hannah Head" and "UNEW1" not in found
    [report] = slack.fake.messages(COORDINATOR)
    assert "Directory check (nothing saved) of people.csv: 1 added, 1 updated" in report["text"]
    assert "Nothing was saved" in texts(report["blocks"])
    assert audit(slack, "directory.imported") == []
    [checked_entry] = audit(slack, "directory.checked")
    assert checked_entry.detail["added"] == 1
