"""An import that may be cut short (`Resumable`): each batch's outcome is saved with the
batch, so doing it again after a crash at any point reports what a single run would have."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.core.clock import FixedClock
from bot.directory import service
from bot.directory.service import (
    IMPORT_PROGRESS_MEMORY,
    Resumable,
    forget_import_progress,
    forget_old_import_progress,
    import_directory,
)
from storage.db import SessionFactory, transaction
from storage.models import DirectoryImportBatch

KNOWN = (
    "slack_user_id,name,roles,school,school_urn,phase\n"
    "UOLD1,Olu Old,head,Mere Green Primary School,103413,primary\n"
    "UOLD2,Ola Old,sle,Mere Green Primary School,103413,primary\n"
)
# Batches of two: [UOLD1, UNEW1], [UURN1, UNEW2], [UOLD2, UNEW3]; line 4 is rejected unread.
FILE = (
    "slack_user_id,name,roles,school,school_urn,phase\n"
    "UOLD1,Olu Older,head,Mere Green Primary School,103413,primary\n"
    "UNEW1,Nia One,sle,Oak Hill Primary School,103500,secondary\n"
    "UBAD1,Bea Bad,headteacher,,,\n"
    "UURN1,Uma Urn,sle,,999999,\n"
    "UNEW2,Nia Two,sle,Oak Hill Primary School,103500,primary\n"
    "UOLD2,Ola Old,sle,Mere Green Primary School,103413,primary\n"
    "UNEW3,Nia Three,nle,Birch Primary School,103600,primary\n"
)
TRANSACTIONS = 4  # the vocabulary, then three batches


class Crash(Exception):
    """Stands in for the process stopping."""


def crashing_at(n: int) -> Resumable:
    """The import's progress, with the process stopping as its `n`th transaction begins."""
    count = iter(range(1, 100))

    def hold(session: Session) -> None:
        if next(count) == n:
            raise Crash

    return Resumable("import-1", hold)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)


@pytest.mark.parametrize("crash_at", range(1, TRANSACTIONS + 1))
def test_an_import_done_again_after_a_crash_reports_what_one_run_would(
    sessions: SessionFactory, clock: FixedClock, crash_at: int
) -> None:
    import_directory(sessions, io.StringIO(KNOWN), now=clock.now())
    with pytest.raises(Crash):
        import_directory(
            sessions, io.StringIO(FILE), now=clock.now(), resumable=crashing_at(crash_at)
        )

    report = import_directory(
        sessions, io.StringIO(FILE), now=clock.now(), resumable=Resumable("import-1")
    )

    assert (report.added, report.updated, report.unchanged) == (
        ["UNEW1", "UNEW2", "UNEW3"],
        ["UOLD1"],
        ["UOLD2"],
    )
    assert [(row.line, row.slack_user_id) for row in report.rejected] == [
        (4, "UBAD1"),
        (5, "UURN1"),
    ]
    assert report.schools_created == 2
    # Line 6 gives Oak Hill's phase as line 3 did not, whichever run saved line 3.
    assert any("line 6 (UNEW2): gives the school's phase" in w for w in report.warnings)


def test_saved_outcomes_of_another_file_are_not_reused(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with pytest.raises(Crash):
        import_directory(sessions, io.StringIO(FILE), now=clock.now(), resumable=crashing_at(3))
    other = FILE.replace("Nia Three", "Nia Thompson")
    report = import_directory(
        sessions, io.StringIO(other), now=clock.now(), resumable=Resumable("import-1")
    )
    # The first batch was saved by the crashed run: its rows are now as the file says.
    assert report.unchanged == ["UOLD1", "UNEW1"], "not the other file's saved outcomes"


def test_saved_progress_is_forgotten_when_reported_or_after_a_day(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    for key in ("reported", "given-up"):
        import_directory(sessions, io.StringIO(FILE), now=clock.now(), resumable=Resumable(key))
    with transaction(sessions) as session:
        forget_import_progress(session, "reported")
    assert _saved_keys(sessions) == {"given-up"}
    assert forget_old_import_progress(sessions, now=clock.now() + timedelta(hours=23)) == 0
    assert forget_old_import_progress(sessions, now=clock.now() + IMPORT_PROGRESS_MEMORY * 1.1) == 3
    assert _saved_keys(sessions) == set()


def _saved_keys(sessions: SessionFactory) -> set[str]:
    with sessions() as session:
        return set(session.exec(select(DirectoryImportBatch.import_key)))
