"""A 200 is a promise for the directory import too: the form is acknowledged ("Importing…")
only once the submission (the file, who asked, whether only checking) is saved; an import the
process never finished is done by the due work, once, with one report."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlmodel import select

import handlers.slack.app as slack_app
import handlers.slack.listeners.views.directory as directory_view
from bot.entry.jobs import run_due
from bot.inbound.service import EVENT_LEASE
from handlers.slack.blocks.directory import DRY_RUN_ACTION_ID, DRY_RUN_BLOCK_ID
from handlers.slack.stand_in.signing import view_submission_payload
from storage.models import InboundEvent, OutboxMessage, Person
from tests.handlers.slack.conftest import SlackWorld
from tests.handlers.slack.test_directory_slack import COORDINATOR, HEADER, audit

NEWCOMER = (
    "UNEW1,Nia Newcomer,n.new@example.org,sle,Oak Hill,103500,primary,West Midlands,maths,1\n"
)


def submit_import(slack: SlackWorld, *, dry_run: bool = False) -> dict[str, Any]:
    """A coordinator submits the import form with a one-person CSV; returns the ack's JSON."""
    file = slack.fake.add_file("people.csv", (HEADER + NEWCOMER).encode(), user=COORDINATOR)
    chosen = {"type": "file_input", "files": [file]}
    values: dict[str, Any] = {"directory_file": {"csv_file": chosen}}
    if dry_run:
        checked = {"type": "checkboxes", "selected_options": [{"value": DRY_RUN_ACTION_ID}]}
        values[DRY_RUN_BLOCK_ID] = {DRY_RUN_ACTION_ID: checked}
    payload = view_submission_payload(
        COORDINATOR, "directory_import", values, title="Import the directory"
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200
    return json.loads(body)


def saved_submissions(slack: SlackWorld) -> list[InboundEvent]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(InboundEvent).order_by(InboundEvent.id)))


def reports(slack: SlackWorld) -> list[OutboxMessage]:
    with slack.runtime.sessions() as session:
        owed = session.exec(select(OutboxMessage).where(OutboxMessage.channel == COORDINATOR))
        return [m for m in owed if "people.csv" in str(m.payload)]


def newcomer(slack: SlackWorld) -> Person | None:
    with slack.runtime.sessions() as session:
        return session.exec(select(Person).where(Person.slack_user_id == "UNEW1")).first()


def replayed(slack: SlackWorld, *, settle: bool = True) -> int:
    """The due work a lease later: how many saved events and submissions it took up."""
    slack.clock.advance(EVENT_LEASE)
    count = run_due(slack.runtime)["events_replayed"]
    if settle:
        slack.settle()
    return count


def hold_import(monkeypatch: pytest.MonkeyPatch, *, then: Any = None) -> threading.Event:
    """Make the first import wait until the event is set (then raise `then`, if given, as a
    process that is gone would never finish); later imports run at once."""
    release = threading.Event()
    real = directory_view.import_uploaded_csv
    calls = iter([None])

    def held(*args: Any, **kwargs: Any) -> Any:
        for _ in calls:
            release.wait(timeout=30)
            if then is not None:
                raise then
        return real(*args, **kwargs)

    monkeypatch.setattr(directory_view, "import_uploaded_csv", held)
    return release


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "only checking"])
def test_an_import_is_saved_before_it_is_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch, dry_run: bool
) -> None:
    slack.import_directory()
    release = hold_import(monkeypatch)
    try:
        assert submit_import(slack, dry_run=dry_run)["response_action"] == "update"
        [saved] = saved_submissions(slack)  # the process could die now: this is what is left
        assert saved.processed_at is None and saved.body is not None
        assert saved.body["user"]["id"] == COORDINATOR
        assert "people.csv" in json.dumps(saved.body)
        assert (DRY_RUN_ACTION_ID in json.dumps(saved.body["view"]["state"])) is dry_run
    finally:
        release.set()
    slack.settle()
    [saved] = saved_submissions(slack)
    assert saved.outcome == "handled" and saved.body is None, "kept only until it was done"
    assert len(reports(slack)) == 1
    assert (newcomer(slack) is None) is dry_run


def test_an_import_the_process_never_finished_is_done_by_the_due_work_once(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    release = hold_import(monkeypatch, then=RuntimeError("the process is gone"))
    try:
        submit_import(slack)
        assert replayed(slack, settle=False) == 1  # the first run still hangs, as if dead
        assert newcomer(slack) is not None
        assert len(reports(slack)) == 1
        assert replayed(slack, settle=False) == 0
    finally:
        release.set()
    slack.settle()
    slack.errors.clear()  # the held first run's failure stands in for the process dying
    assert len(reports(slack)) == 1
    told = [t for t in slack.fake.seen_by(COORDINATOR) if "people.csv" in t]
    assert len(told) == 1


def test_an_import_done_but_not_marked_done_is_not_applied_or_reported_again(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    real_mark = slack_app.inbound.mark_handled
    marks = iter([None])

    def dies_before_marking(*args: Any, **kwargs: Any) -> None:
        for _ in marks:
            return  # the process stopped between the import's report and marking it done
        real_mark(*args, **kwargs)

    monkeypatch.setattr(slack_app.inbound, "mark_handled", dies_before_marking)
    submit_import(slack)
    slack.settle()
    assert len(reports(slack)) == 1
    assert replayed(slack) == 1
    assert len(reports(slack)) == 1, "one report"
    assert len(audit(slack, "directory.imported")) == 1, "the import is not applied again"
    [saved] = saved_submissions(slack)
    assert saved.outcome == "handled"
