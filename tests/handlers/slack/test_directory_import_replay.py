"""A directory import cut short is done again by the due work, and its one report is the one
a first run would have sent: true for the whole file (the batches the first run saved
included), rejected rows included; and while one copy of the bot runs an import, no other
starts it."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

import bot.directory.service as service
import handlers.slack.listeners.views.directory as directory_view
from bot.entry.jobs import run_due
from bot.inbound.service import EVENT_LEASE
from handlers.slack.stand_in.signing import view_submission_payload
from storage.models import AuditEntry, DirectoryImportBatch, InboundEvent, OutboxMessage, Person
from tests.handlers.slack.conftest import SlackWorld
from tests.handlers.slack.test_directory_slack import COORDINATOR, HEADER

# Two rows a batch: [UHEAD1, UNEW1], [UURN1, UNEW2], [UHEAD2, UNEW3] (line 4 never gets that far).
FILE = HEADER + (
    "UHEAD1,Hannah Head-Smith,h.head@example.org,head,Mere Green Primary School,103413,primary,"
    "West Midlands,,1\n"
    "UNEW1,Nia One,n1@example.org,sle,Oak Hill Primary School,103500,primary,West Midlands,"
    "maths,1\n"
    "UBAD1,Bea Bad,b@example.org,headteacher,,,,,,1\n"
    "UURN1,Uma Urn,u@example.org,sle,,999999,,,,1\n"
    "UNEW2,Nia Two,n2@example.org,sle,Oak Hill Primary School,103500,primary,West Midlands,send,1\n"
    "UHEAD2,Harry Head,h2@example.org,head,Castle Vale Academy,140001,secondary,West Midlands,,1\n"
    "UNEW3,Nia Three,n3@example.org,nle,Birch Primary School,103600,primary,West Midlands,,2\n"
)
TRUE_SUMMARY = "3 added, 1 updated, 1 unchanged, 2 rejected"
REJECTED = (
    "line 4 (UBAD1): unknown role 'headteacher'",
    "line 5 (UURN1): school_urn 999999 is not a school we know yet",
)
IMPORT_TRANSACTIONS = 4  # the vocabulary, then three batches


class ProcessDied(Exception):
    """Stands in for the process stopping: nothing after it runs in that run."""


def dies_once_answered(answered: threading.Event) -> None:
    """Stop the first run, but only once the form's answer is back: Bolt can lose an ack
    when its listener fails a moment after acknowledging (a 404 or 500 instead)."""
    assert answered.wait(timeout=10)
    raise ProcessDied


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)


def submit(slack: SlackWorld, name: str = "people.csv", content: str = FILE) -> None:
    """A coordinator submits the import form with `content` as the file `name`."""
    file = slack.fake.add_file(name, content.encode(), user=COORDINATOR)
    values = {"directory_file": {"csv_file": {"type": "file_input", "files": [file]}}}
    payload = view_submission_payload(
        COORDINATOR, "directory_import", values, title="Import the directory"
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200
    assert json.loads(body)["response_action"] == "update"


def before_each_transaction(
    monkeypatch: pytest.MonkeyPatch, then: Callable[[int], None], *, first_run_only: bool = True
) -> None:
    """Call `then(n)` before the import's `n`th transaction begins (the first run's only,
    told by its thread: the due work's replay runs in another)."""
    real, count = service.transaction, itertools.count(1)
    first: list[int] = []

    def transaction(sessions: Any) -> Any:
        if not first:
            first.append(threading.get_ident())
        if threading.get_ident() == first[0] or not first_run_only:
            then(next(count))
        return real(sessions)

    monkeypatch.setattr(service, "transaction", transaction)


def replayed(slack: SlackWorld) -> int:
    """The due work run now: how many saved submissions it took up."""
    return run_due(slack.runtime)["events_replayed"]


def reports(slack: SlackWorld) -> list[dict[str, Any]]:
    with slack.runtime.sessions() as session:
        owed = session.exec(select(OutboxMessage).where(OutboxMessage.channel == COORDINATOR))
        return [m.payload for m in owed if "people.csv" in str(m.payload)]


def assert_one_true_report(slack: SlackWorld) -> None:
    [report] = reports(slack)
    assert TRUE_SUMMARY in report["text"], report["text"]
    full = report["view"]["data"]["report"]
    assert "Added: UNEW1, UNEW2, UNEW3" in full and "Updated: UHEAD1" in full
    for line in REJECTED:
        assert line in full, full
    told = [t for t in slack.fake.seen_by(COORDINATOR) if "people.csv" in t]
    assert len(told) == 1 and TRUE_SUMMARY in told[0]
    with slack.runtime.sessions() as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
        assert actions.count("directory.person_added") == 3 + 7, "each added once"
        assert actions.count("directory.person_updated") == 1
        assert actions.count("directory.imported") == 1
        assert session.exec(select(Person).where(Person.slack_user_id == "UNEW3")).one()
        assert session.exec(select(DirectoryImportBatch)).all() == [], "forgotten once reported"
        [saved] = session.exec(select(InboundEvent))
        assert saved.outcome == "handled"


@pytest.mark.parametrize("dies_before", range(1, IMPORT_TRANSACTIONS + 1))
@pytest.mark.usefixtures("small_batches")
def test_an_import_cut_short_between_batches_reports_the_whole_file_once(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch, dies_before: int
) -> None:
    slack.import_directory()
    answered = threading.Event()

    def die(n: int) -> None:
        if n == dies_before:
            dies_once_answered(answered)

    before_each_transaction(monkeypatch, die)
    submit(slack)
    answered.set()
    slack.settle()
    slack.errors.clear()  # the first run's ProcessDied stands in for the process stopping
    assert reports(slack) == []

    slack.clock.advance(EVENT_LEASE)
    assert replayed(slack) == 1
    slack.settle()
    assert_one_true_report(slack)
    assert replayed(slack) == 0


@pytest.mark.usefixtures("small_batches")
def test_an_import_cut_short_before_its_report_reports_the_whole_file_once(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    real, calls = directory_view.owe_import_report, iter([None])
    answered = threading.Event()

    def dies_first(*args: Any, **kwargs: Any) -> None:
        for _ in calls:
            dies_once_answered(answered)
        real(*args, **kwargs)

    monkeypatch.setattr(directory_view, "owe_import_report", dies_first)
    submit(slack)
    answered.set()
    slack.settle()
    slack.errors.clear()
    slack.clock.advance(EVENT_LEASE)
    assert replayed(slack) == 1
    slack.settle()
    assert_one_true_report(slack)


class Stops:
    """Holds the first run before chosen transactions until the test lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *at: int) -> None:
        self.reached = {n: threading.Event() for n in at}
        self.go = {n: threading.Event() for n in at}
        before_each_transaction(monkeypatch, self._stop)

    def _stop(self, n: int) -> None:
        if n in self.reached:
            self.reached[n].set()
            self.go[n].wait(timeout=30)

    def wait_at(self, n: int) -> None:
        assert self.reached[n].wait(timeout=10), f"the import never reached transaction {n}"

    def release(self) -> None:
        for go in self.go.values():
            go.set()


@pytest.mark.usefixtures("small_batches")
def test_a_long_import_keeps_its_claim_so_no_other_copy_starts_it(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    stops = Stops(monkeypatch, 2, 3)
    try:
        submit(slack)
        stops.wait_at(2)
        slack.clock.advance(EVENT_LEASE * 2 / 3)
        stops.go[2].set()  # the first batch, two thirds of a lease after the form was saved
        stops.wait_at(3)
        slack.clock.advance(EVENT_LEASE * 2 / 3)  # past the first lease, within the renewed one
        assert replayed(slack) == 0, "the import is still running: nobody else starts it"
    finally:
        stops.release()
    slack.settle()
    assert_one_true_report(slack)


@pytest.mark.usefixtures("small_batches")
def test_an_import_taken_over_by_another_copy_stops_and_the_report_stays_true(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    slack.import_directory()
    stops = Stops(monkeypatch, 3)
    try:
        submit(slack)
        stops.wait_at(3)  # the first batch is saved; then this copy stalls past its lease
        slack.clock.advance(EVENT_LEASE)
        assert replayed(slack) == 1  # another copy takes the import up and finishes it
        slack.runtime.deliverer.drain()  # not settle(): the stalled copy is still running
        assert_one_true_report(slack)
    finally:
        stops.release()  # the stalled copy wakes up
    slack.settle()
    assert_one_true_report(slack)
    assert "taken over by another copy" in caplog.text


def test_a_replayed_import_refused_before_it_starts_tells_the_coordinator_once(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    real, calls = directory_view.upload_problem, iter([None])

    def dies_first(*args: Any) -> str | None:
        for _ in calls:
            raise ProcessDied  # the form was saved; its answer never went out
        return real(*args)

    monkeypatch.setattr(directory_view, "upload_problem", dies_first)
    file = slack.fake.add_file("people.xlsx", b"PK\x03\x04not a csv", user=COORDINATOR)
    values = {"directory_file": {"csv_file": {"type": "file_input", "files": [file]}}}
    payload = view_submission_payload(
        COORDINATOR, "directory_import", values, title="Import the directory"
    )
    assert slack.sender.interact(payload)[0] == 500, "no answer reached the form"
    slack.settle()
    slack.errors.clear()

    slack.clock.advance(EVENT_LEASE)
    assert replayed(slack) == 1
    slack.settle()
    told = [t for t in slack.fake.seen_by(COORDINATOR) if "people.xlsx" in t]
    assert told == [
        "I couldn't import the directory: people.xlsx is a spreadsheet, not a CSV file. Save it "
        "as 'CSV UTF-8 (Comma delimited)' and upload that. Nothing was imported."
    ]
    slack.clock.advance(EVENT_LEASE)
    assert replayed(slack) == 0
