"""The directory CSV: import (good rows land, bad rows are reported), re-import, export, CLI."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from bot.core.clock import FixedClock
from bot.directory import service as directory
from bot.directory.service import (
    COLUMNS,
    REGIONS,
    DirectoryError,
    ImportReport,
    export_directory,
    import_directory,
    import_directory_file,
)
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import AuditEntry, Person, PersonExpertise, PersonRole, School

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SAMPLE = FIXTURES / "directory_sample.csv"
BAD = FIXTURES / "directory_bad.csv"
REPO = Path(__file__).resolve().parents[3]
HEADER = ",".join(COLUMNS[:10])  # a file written before Teams ids were known


def run_import(sessions: SessionFactory, text: str, clock: FixedClock) -> ImportReport:
    """Import CSV text as of the test clock."""
    return import_directory(sessions, io.StringIO(text), now=clock.now())


def person(session: Session, slack_user_id: str) -> Person:
    """The person with `slack_user_id` (there must be exactly one)."""
    return session.exec(select(Person).where(Person.slack_user_id == slack_user_id)).one()


def roles_of(session: Session, slack_user_id: str) -> list[str]:
    """The person's roles, sorted."""
    found = person(session, slack_user_id)
    return sorted(session.exec(select(PersonRole.role).where(PersonRole.person_id == found.id)))


def expertise_of(session: Session, slack_user_id: str) -> list[str]:
    """The person's expertise slugs, sorted."""
    found = person(session, slack_user_id)
    query = select(PersonExpertise.tag_slug).where(PersonExpertise.person_id == found.id)
    return sorted(session.exec(query))


def school_of(session: Session, slack_user_id: str) -> School | None:
    """The person's school, if any."""
    found = person(session, slack_user_id)
    return session.get(School, found.school_id) if found.school_id else None


def count(session: Session, model: type) -> int:
    """How many rows `model`'s table holds."""
    return session.exec(select(func.count()).select_from(model)).one()


def sample_rows() -> list[dict[str, str]]:
    """The sample directory's rows, as the file has them."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def export_text(sessions: SessionFactory) -> str:
    """The directory exported as CSV text."""
    out = io.StringIO()
    with sessions() as session:
        export_directory(session, out)
    return out.getvalue()


# --- the sample directory --------------------------------------------------------------------
def test_the_sample_directory_is_realistic() -> None:
    rows = sample_rows()
    assert len(rows) >= 45
    assert list(rows[0]) == list(COLUMNS)
    roles = [set(row["roles"].split(";")) for row in rows]
    for role in ("head", "nle", "sle", "specialist", "coordinator"):
        assert sum(role in held for held in roles) >= 2, role
    assert {row["region"] for row in rows if row["region"]} == set(REGIONS)
    assert {row["capacity"] for row in rows} >= {"0", "1", "2", "3"}
    assert all(row["email"].endswith("@example.org") for row in rows if row["email"])


def test_good_rows_land_with_schools_roles_and_expertise(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    rows = sample_rows()
    report = import_directory_file(sessions, SAMPLE, now=clock.now())

    assert report.ok, report.render()
    assert sorted(report.added) == sorted(row["slack_user_id"] for row in rows)
    assert report.updated == report.unchanged == report.rejected == []
    assert report.warnings == []
    named_schools = {row["school_urn"] for row in rows if row["school"]}
    assert report.schools_created == len(named_schools)
    with sessions() as session:
        assert count(session, Person) == len(rows)
        assert count(session, School) == len(named_schools)
        for row in rows:
            found = person(session, row["slack_user_id"])
            assert found.name == row["name"]
            assert found.email == (row["email"] or None)
            assert found.capacity == int(row["capacity"] or 1)
            assert found.created_at == clock.now()
            assert roles_of(session, found.slack_user_id) == sorted(row["roles"].split(";"))
            assert expertise_of(session, found.slack_user_id) == sorted(
                filter(None, row["expertise"].split(";"))
            )
            school = school_of(session, found.slack_user_id)
            if row["school"]:
                assert school is not None
                assert (school.name, school.urn) == (row["school"], row["school_urn"])
                assert (school.phase, school.region) == (row["phase"], row["region"])
            else:
                assert school is None
        added = session.exec(
            select(AuditEntry).where(AuditEntry.action == "directory.person_added")
        ).all()
        assert len(added) == len(rows)


def test_audit_entries_carry_ids_and_no_personal_data(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run_import(
        sessions,
        f"{HEADER}\nU0AUDIT01,Priya Sharma,p.sharma@example.org,sle,Downsview Primary School,"
        "118420,primary,South East,maths,2\n",
        clock,
    )
    run_import(
        sessions,
        f"{HEADER}\nU0AUDIT01,Priya Sharma-Jones,p.sharma@example.org,sle,Downsview Primary "
        "School,118420,primary,South East,maths,2\n",
        clock,
    )
    with sessions() as session:
        entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
        found = person(session, "U0AUDIT01")
    assert [entry.action for entry in entries] == [
        "directory.person_added",
        "directory.person_updated",
    ]
    assert {entry.subject_id for entry in entries} == {str(found.id)}
    assert entries[1].detail["changed"] == ["name"]
    for entry in entries:
        flat = repr(entry.detail)
        assert "Priya" not in flat and "example.org" not in flat and "Downsview" not in flat


# --- bad rows ----------------------------------------------------------------------------------
GOOD_ROW = (
    "U0GOOD001,Tom Hughes,t.hughes@example.org,sle,"
    "Exe Valley Primary School,113356,primary,South West,maths,2"
)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "U0BAD0001,Ann Lee,,headteacher,,,,,,1",
            "unknown role 'headteacher' — use head, nle, sle, specialist, coordinator, "
            "aspiring-nle or aspiring-sle",
        ),
        ("U0BAD0001,Ann Lee,,,,,,,,1", "no roles"),
        (",Ann Lee,,sle,,,,,,1", "missing slack_user_id"),
        ("u0bad0001,Ann Lee,,sle,,,,,,1", "does not look like a Slack user id"),
        ("Ann Lee,U0BAD0001,,sle,,,,,,1", "does not look like a Slack user id"),
        ("U0BAD0001,,,sle,,,,,,1", "missing name"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,21", "capacity must be a whole number from 0 to 20"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,-1", "capacity must be a whole number"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,two", "capacity must be a whole number"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,1.5", "capacity must be a whole number"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,²", "capacity must be a whole number"),
        ("U0BAD0001,Ann Lee,,sle,A School,,middle earth,,,1", "unknown phase 'middle earth'"),
        ("U0BAD0001,Ann Lee,ann.lee.example.org,sle,,,,,,1", "does not look like an email"),
        ("U0BAD0001,Ann Lee,,sle,A School,12345,,,,1", "6- or 7-digit DfE URN"),
        ("U0BAD0001,Ann Lee,,sle,,,,,,1,extra", "has 11 values but the header has 10"),
        ("U0BAD0001,Ann Lee", "2 values where the header has 10 — is a separator missing?"),
        ("U0BAD0001,Ann Lee,,sle,,654321,,,,1", "add the school's name"),
    ],
)
def test_a_bad_row_is_rejected_with_a_reason_and_the_good_rows_land(
    sessions: SessionFactory, clock: FixedClock, row: str, reason: str
) -> None:
    report = run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n{row}\n", clock)

    assert not report.ok
    assert report.added == ["U0GOOD001"]
    assert len(report.rejected) == 1
    rejected = report.rejected[0]
    assert rejected.line == 3
    assert reason in rejected.reason
    assert f"line 3{' (U0BAD0001)' if rejected.slack_user_id else ''}: " in report.render()
    with sessions() as session:
        assert [p.slack_user_id for p in session.exec(select(Person))] == ["U0GOOD001"]


def test_a_row_that_stops_before_its_roles_is_a_column_count_problem(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    rows = "U0BAD0001,Ann Lee,ann.lee@example.org\nU0BAD0002;Bo Li;;sle;;;;;;1\n"
    report = run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n{rows}", clock)

    assert [(r.line, r.slack_user_id, r.reason) for r in report.rejected] == [
        (3, "U0BAD0001", "3 values where the header has 10 — is a separator missing?"),
        (4, None, "1 value where the header has 10 — is a separator missing?"),
    ]
    assert "line 3 (U0BAD0001): 3 values where the header has 10" in report.render()
    assert report.added == ["U0GOOD001"]


def test_a_short_row_rejected_for_its_values_says_it_is_short_first(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    # A missing comma between name and email: every later value is one column early.
    row = "U0BAD0001,Ann Lee ann.lee@example.org,sle,A School,123456,primary,London,maths,1"
    report = run_import(sessions, f"{HEADER}\n{row}\n", clock)

    [rejected] = report.rejected
    assert rejected.reason.startswith(
        "9 values where the header has 10 — is a separator missing?; email 'sle' does not look "
        "like an email address; unknown role 'A School'"
    )


def test_cells_left_off_the_end_of_a_sound_row_read_as_blank(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(sessions, f"{HEADER}\nU0GOOD001,Tom Hughes,,sle\n", clock)

    assert (report.added, report.rejected, report.warnings) == (["U0GOOD001"], [], [])
    with sessions() as session:
        assert person(session, "U0GOOD001").capacity == 1


# --- unknown expertise: reported, the row imported with its known tags -----------------------
def test_an_unknown_tag_is_left_out_with_a_warning_and_the_row_imported(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    row = "U0TAGS001,Ann Lee,,sle,,,,,maths;mathz;underwater basket weaving;SEND,2"
    report = run_import(sessions, f"{HEADER}\n{row}\n", clock)

    assert report.ok
    assert report.added == ["U0TAGS001"] and report.rejected == []
    assert report.warnings == [
        "line 2 (U0TAGS001): left out unknown expertise 'mathz' — did you mean 'maths'?",
        "line 2 (U0TAGS001): left out unknown expertise 'underwater basket weaving' — it is not "
        "in the expertise vocabulary",
    ]
    assert "Warnings:\n  line 2 (U0TAGS001): left out unknown expertise 'mathz'" in (
        report.render()
    )
    with sessions() as session:
        assert expertise_of(session, "U0TAGS001") == ["maths", "send"]
        assert person(session, "U0TAGS001").capacity == 2


def test_an_unknown_tag_on_re_import_leaves_the_person_with_the_known_ones(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run_import(sessions, f"{HEADER}\nU0TAGS001,Ann Lee,,sle,,,,,send;maths,1\n", clock)

    report = run_import(sessions, f"{HEADER}\nU0TAGS001,Ann Lee,,sle,,,,,send;mathz,1\n", clock)

    assert report.updated == ["U0TAGS001"]
    assert report.warnings == [
        "line 2 (U0TAGS001): left out unknown expertise 'mathz' — did you mean 'maths'?"
    ]
    with sessions() as session:
        assert expertise_of(session, "U0TAGS001") == ["send"]


def test_a_row_rejected_for_another_reason_names_its_unknown_tags_too(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    row = "U0BAD0001,Ann Lee,ann.lee.example.org,sle,,,,,maths;mathz,1"
    report = run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n{row}\n", clock)

    [rejected] = report.rejected
    assert "does not look like an email address" in rejected.reason
    assert "unknown expertise 'mathz' — did you mean 'maths'?" in rejected.reason
    assert report.warnings == []
    with sessions() as session:
        assert [p.slack_user_id for p in session.exec(select(Person))] == ["U0GOOD001"]


def test_a_dry_run_reports_an_unknown_tag_as_the_import_would(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = f"{HEADER}\nU0TAGS001,Ann Lee,,sle,,,,,maths;Phonix,1\n"
    checked = import_directory(sessions, io.StringIO(text), now=clock.now(), dry_run=True)

    first_line = checked.render().splitlines()[0]
    assert first_line == (
        "Directory import (dry run: nothing was saved): 1 added, 0 updated, 0 unchanged, "
        "0 rejected."
    )
    assert checked.warnings == [
        "line 2 (U0TAGS001): left out unknown expertise 'Phonix' — did you mean 'phonics'?"
    ]
    with sessions() as session:
        assert count(session, Person) == 0
    imported = run_import(sessions, text, clock)
    assert (imported.added, imported.warnings) == (checked.added, checked.warnings)


def test_a_database_error_on_one_row_rejects_only_that_row(
    sessions: SessionFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = directory._save_batch

    def save_or_fail(session: Session, rows: list[directory.DirectoryRow], **kwargs: Any) -> Any:
        outcome = real_save(session, rows, **kwargs)
        if any(row.slack_user_id == "U0BOOM001" for row in rows):
            session.flush()
            raise OperationalError("INSERT …", {}, Exception("connection lost"))
        return outcome

    monkeypatch.setattr(directory, "_save_batch", save_or_fail)
    text = (
        f"{HEADER}\nU0BOOM001,Ann Lee,,sle,Boom School,222222,primary,London,send,1\n{GOOD_ROW}\n"
    )
    report = run_import(sessions, text, clock)

    assert report.added == ["U0GOOD001"]
    assert [(r.line, r.slack_user_id) for r in report.rejected] == [(2, "U0BOOM001")]
    assert "could not be saved (OperationalError)" in report.rejected[0].reason
    with sessions() as session:
        assert list(session.exec(select(Person.slack_user_id))) == ["U0GOOD001"]
        assert list(session.exec(select(School.urn))) == ["113356"]
        assert count(session, AuditEntry) == 1


def test_a_duplicate_id_is_rejected_naming_the_first_line(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = (
        f"{HEADER}\n{GOOD_ROW}\n"
        "U0OTHER01,Ben Ford,,head,,,,,,\n"
        "U0GOOD001,Tom Hughes Again,,sle,,,,,,1\n"
        "U0GOOD001,Tom Hughes Thrice,,sle,,,,,,1\n"
    )
    report = run_import(sessions, text, clock)

    assert sorted(report.added) == ["U0GOOD001", "U0OTHER01"]
    assert [(r.line, r.slack_user_id) for r in report.rejected] == [
        (4, "U0GOOD001"),
        (5, "U0GOOD001"),
    ]
    assert all("duplicate of line 2" in r.reason for r in report.rejected)
    with sessions() as session:
        assert person(session, "U0GOOD001").name == "Tom Hughes"


def test_every_problem_with_a_row_is_reported_at_once(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(sessions, f"{HEADER}\nU0BAD0001,,,chief,,,,,,99\n", clock)
    reason = report.rejected[0].reason
    assert "missing name" in reason and "unknown role 'chief'" in reason and "capacity" in reason


def test_the_bad_fixture_rejects_one_of_each_kind(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = import_directory_file(sessions, BAD, now=clock.now())

    reasons = {row.line: row.reason for row in report.rejected}
    expected = {
        "unknown role 'headteacher'",
        "1 value where the header has 11 — is a separator missing?",
        "missing slack_user_id",
        "does not look like a Slack user id",
        "missing name",
        "capacity must be a whole number",
        "unknown phase",
        "duplicate of line",
        "does not look like an email",
        "6- or 7-digit DfE URN",
    }
    for fragment in expected:
        assert any(fragment in reason for reason in reasons.values()), fragment
    assert len(reasons) == len(expected)
    assert len(report.added) >= 5
    assert not report.ok
    assert "U07RS5C2LX" in report.added  # an unknown tag is left out, not the person
    assert (
        "line 5 (U07RS5C2LX): left out unknown expertise 'underwater basket weaving' — it is not "
        "in the expertise vocabulary"
    ) in report.warnings
    with sessions() as session:
        assert count(session, Person) == len(report.added)
        assert set(session.exec(select(Person.slack_user_id))) == set(report.added)


# --- the file as a whole -----------------------------------------------------------------------
def test_unknown_columns_are_ignored_with_a_warning(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(sessions, f"{HEADER},Notes\n{GOOD_ROW},prefers Tuesdays\n", clock)
    assert report.ok
    assert report.added == ["U0GOOD001"]
    assert report.warnings == ["ignored unknown column 'Notes'"]
    assert "ignored unknown column 'Notes'" in report.render()


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("name,email,roles", "slack_user_id"),
        ("slack_user_id,email,roles", "name"),
        ("email,school", r"slack_user_id \(or teams_user_id\), name, roles"),
    ],
)
def test_a_missing_required_column_imports_nothing(
    sessions: SessionFactory, clock: FixedClock, header: str, missing: str
) -> None:
    with pytest.raises(DirectoryError, match=missing):
        run_import(sessions, f"{header}\nU0GOOD001,Tom Hughes,sle\n", clock)
    with sessions() as session:
        assert count(session, Person) == count(session, School) == count(session, AuditEntry) == 0


def test_an_empty_file_is_a_directory_error(sessions: SessionFactory, clock: FixedClock) -> None:
    with pytest.raises(DirectoryError, match="empty"):
        run_import(sessions, "", clock)


def test_a_byte_order_mark_is_accepted(
    sessions: SessionFactory, clock: FixedClock, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(f"{HEADER}\r\n{GOOD_ROW}\r\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    report = import_directory_file(sessions, path, now=clock.now())
    assert report.ok and report.added == ["U0GOOD001"] and report.warnings == []

    stream_report = run_import(sessions, f"\ufeff{HEADER}\n{GOOD_ROW}\n", clock)
    assert stream_report.unchanged == ["U0GOOD001"]


def test_a_missing_or_non_utf8_file_is_a_directory_error(
    sessions: SessionFactory, clock: FixedClock, tmp_path: Path
) -> None:
    with pytest.raises(DirectoryError, match="no such file"):
        import_directory_file(sessions, tmp_path / "nope.csv", now=clock.now())
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(f"{HEADER}\nU0GOOD001,Zoë Brontë,,sle,,,,,,1\n".encode("latin-1"))
    with pytest.raises(DirectoryError, match="not UTF-8"):
        import_directory_file(sessions, latin1, now=clock.now())
    with pytest.raises(DirectoryError, match="folder"):
        import_directory_file(sessions, tmp_path, now=clock.now())


def test_blank_lines_and_empty_rows_are_skipped(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(sessions, f"{HEADER}\n\n{GOOD_ROW}\n,,,,,,,,,\n", clock)
    assert report.ok and report.added == ["U0GOOD001"]


def test_trailing_empty_cells_and_unnamed_columns_are_tolerated(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(
        sessions, f"{HEADER},,\n{GOOD_ROW},,\nU0GOOD002,Ann Lee,,sle,,,,,,1,,,\n", clock
    )
    assert report.ok, report.render()
    assert sorted(report.added) == ["U0GOOD001", "U0GOOD002"]
    assert report.warnings == ["ignored 2 columns with no name"]


# --- normalisation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("phase", "region", "stored"),
    [
        ("Primary", "south west", ("primary", "South West")),
        ("all through", "Yorkshire & the Humber", ("all-through", "Yorkshire and the Humber")),
        ("post-16", "EAST OF ENGLAND", ("16-plus", "East of England")),
        ("Special School", "north-east", ("special", "North East")),
        ("16+", "London", ("16-plus", "London")),
        ("NURSERY", "West Midlands", ("nursery", "West Midlands")),
    ],
)
def test_phase_and_region_variants_are_normalised(
    sessions: SessionFactory,
    clock: FixedClock,
    phase: str,
    region: str,
    stored: tuple[str, str],
) -> None:
    report = run_import(
        sessions,
        f'{HEADER}\nU0GOOD001,Tom Hughes,,SLE; NLE,A School,,"{phase}",{region},,\n',
        clock,
    )
    assert report.ok and report.warnings == []
    with sessions() as session:
        school = school_of(session, "U0GOOD001")
        assert school is not None
        assert (school.phase, school.region) == stored
        assert roles_of(session, "U0GOOD001") == ["nle", "sle"]
        assert person(session, "U0GOOD001").capacity == 1


def test_an_unknown_region_is_a_warning_and_stored_as_given(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(
        sessions, f"{HEADER}\nU0GOOD001,Tom Hughes,,sle,A School,,primary,Midlands,,1\n", clock
    )
    assert report.ok and report.added == ["U0GOOD001"]
    assert len(report.warnings) == 1 and "region 'Midlands'" in report.warnings[0]
    with sessions() as session:
        school = school_of(session, "U0GOOD001")
        assert school is not None and school.region == "Midlands"


def test_expertise_labels_and_synonyms_are_normalised_to_slugs(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    from bot.core.vocabulary import default_vocabulary

    vocabulary = default_vocabulary()
    tag = next(tag for tag in vocabulary.tags if tag.synonyms)
    other = next(t for t in vocabulary.tags if t.slug != tag.slug)
    expertise = f"{tag.synonyms[0].upper()};{other.label};{tag.slug}"
    report = run_import(
        sessions, f'{HEADER}\nU0GOOD001,Tom Hughes,,specialist,,,,,"{expertise}",3\n', clock
    )
    assert report.ok, report.render()
    with sessions() as session:
        assert expertise_of(session, "U0GOOD001") == sorted([tag.slug, other.slug])


# --- schools -----------------------------------------------------------------------------------
def test_schools_are_shared_found_by_urn_then_by_name(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = (
        f"{HEADER}\n"
        "U0AAAAAA1,Amy Ash,,head,Hill Top Primary School,,primary,North West,,\n"
        "U0AAAAAA2,Ben Birch,,sle,HILL TOP PRIMARY SCHOOL,,,,maths,1\n"
        "U0AAAAAA3,Cat Cedar,,sle,Hill Top Primary,123456,,,,1\n"
        "U0AAAAAA4,Dan Deal,,sle,Brook Academy,234567,secondary,North West,,1\n"
    )
    report = run_import(sessions, text, clock)
    assert report.ok, report.render()
    assert report.schools_created == 3
    with sessions() as session:
        first, second = school_of(session, "U0AAAAAA1"), school_of(session, "U0AAAAAA2")
        assert first is not None and second is not None and first.id == second.id
        assert (first.phase, first.region) == ("primary", "North West")
        assert count(session, School) == 3

    # A later file gives Hill Top its URN: it is attached to the school, not a new one.
    report = run_import(
        sessions,
        f"{HEADER}\nU0AAAAAA1,Amy Ash,,head,Hill Top Primary School,111111,primary,North West,,\n",
        clock,
    )
    assert report.updated == ["U0AAAAAA1"]
    with sessions() as session:
        assert count(session, School) == 3
        school = school_of(session, "U0AAAAAA2")
        assert school is not None and school.urn == "111111"

    # Found by URN, a school takes its new name from the file; blank cells change nothing.
    report = run_import(
        sessions, f"{HEADER}\nU0AAAAAA4,Dan Deal,,sle,Brook Academy Trust,234567,,,,1\n", clock
    )
    assert report.updated == ["U0AAAAAA4"]
    with sessions() as session:
        renamed = school_of(session, "U0AAAAAA4")
        assert renamed is not None
        assert (renamed.name, renamed.phase) == ("Brook Academy Trust", "secondary")
        assert count(session, School) == 3


def test_a_school_is_found_by_its_name_in_any_case_beyond_a_to_z(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    first = (
        f"{HEADER}\n"
        "U0AAAAAA1,Amy Ash,,head,St Æthelred's Primary,,primary,North West,,\n"
        "U0AAAAAA2,Ben Birch,,head,Straßburg School,,primary,North West,,\n"
        "U0AAAAAA3,Cat Cedar,,sle,STRASSBURG SCHOOL,,,,,1\n"
        "U0AAAAAA5,Eda Elm,,head,İstanbul Academy,,primary,North West,,\n"
    )
    assert run_import(sessions, first, clock).schools_created == 3
    later = (
        f"{HEADER}\nU0AAAAAA4,Dan Deal,,sle,st æthelred's primary,,,,,1\n"
        "U0AAAAAA6,Fay Fir,,sle,İstanbul Academy,,,,,1\n"
    )
    report = run_import(sessions, later, clock)
    assert report.ok, report.render()
    assert report.schools_created == 0
    with sessions() as session:
        assert count(session, School) == 3
        for same in (
            ("U0AAAAAA1", "U0AAAAAA4"),
            ("U0AAAAAA2", "U0AAAAAA3"),
            ("U0AAAAAA5", "U0AAAAAA6"),
        ):
            first_school, second_school = (school_of(session, who) for who in same)
            assert first_school is not None and second_school is not None
            assert first_school.id == second_school.id


def test_a_school_name_shared_by_two_urns_needs_the_urn(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = (
        f"{HEADER}\n"
        "U0AAAAAA1,Amy Ash,,head,St Mary's CE Primary School,100001,primary,London,,\n"
        "U0AAAAAA2,Ben Birch,,head,St Mary's CE Primary School,100002,primary,South West,,\n"
        "U0AAAAAA3,Cat Cedar,,sle,St Mary's CE Primary School,,,,,1\n"
    )
    report = run_import(sessions, text, clock)
    assert sorted(report.added) == ["U0AAAAAA1", "U0AAAAAA2"]
    assert report.rejected[0].line == 4
    assert "more than one school is called" in report.rejected[0].reason


def test_conflicting_school_details_within_a_file_are_warned(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = (
        f"{HEADER}\n"
        "U0AAAAAA1,Amy Ash,,head,Hill Top School,123456,primary,North West,,\n"
        "U0AAAAAA2,Ben Birch,,sle,Hill Top School,123456,secondary,North West,,1\n"
    )
    report = run_import(sessions, text, clock)
    assert report.ok
    assert len(report.warnings) == 1
    assert (
        "line 3 (U0AAAAAA2)" in report.warnings[0] and "line 2 gave 'primary'" in report.warnings[0]
    )


# --- re-import ---------------------------------------------------------------------------------
def test_reimport_updates_people_in_place(sessions: SessionFactory, clock: FixedClock) -> None:
    import_directory_file(sessions, SAMPLE, now=clock.now())
    rows = sample_rows()
    target = next(row for row in rows if "specialist" in row["roles"] and row["expertise"])
    with sessions() as session:
        before = person(session, target["slack_user_id"])
        people_before, schools_before = count(session, Person), count(session, School)
        # Availability is not the directory's business: an import must leave it alone.
        before.available = False
        before.away_until = date(2026, 12, 18)
        session.add(before)
        session.commit()

    clock.advance(days=1)
    changed = {
        **target,
        "name": target["name"] + " Smith",
        "email": "",
        "roles": "sle;coordinator",
        "expertise": "attendance",
        "capacity": "0",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(changed)
    writer.writerow(next(row for row in rows if row is not target))
    report = run_import(sessions, out.getvalue(), clock)

    assert report.ok, report.render()
    assert report.added == []
    assert report.updated == [target["slack_user_id"]]
    assert len(report.unchanged) == 1
    with sessions() as session:
        after = person(session, target["slack_user_id"])
        assert after.id == before.id
        assert (after.name, after.email, after.capacity) == (changed["name"], None, 0)
        assert after.updated_at == clock.now() and after.created_at == before.created_at
        assert (after.available, after.away_until) == (False, date(2026, 12, 18))
        assert roles_of(session, target["slack_user_id"]) == ["coordinator", "sle"]
        assert expertise_of(session, target["slack_user_id"]) == ["attendance"]
        assert count(session, Person) == people_before
        assert count(session, School) == schools_before
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "directory.person_updated")
        ).one()
        assert entry.detail["changed"] == ["capacity", "email", "expertise", "name", "roles"]


def test_columns_missing_from_the_file_are_left_alone(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n", clock)
    report = run_import(sessions, "slack_user_id,name,roles\nU0GOOD001,Tom Hughes,sle\n", clock)
    assert report.unchanged == ["U0GOOD001"]
    with sessions() as session:
        school = school_of(session, "U0GOOD001")
        assert school is not None and school.urn == "113356"
        assert expertise_of(session, "U0GOOD001") == ["maths"]
        assert person(session, "U0GOOD001").capacity == 2


def test_an_erased_person_is_not_re_added(sessions: SessionFactory, clock: FixedClock) -> None:
    run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n", clock)
    with sessions() as session:
        erased = person(session, "U0GOOD001")
        erased.name, erased.email = "erased", None
        erased.erased_at = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)  # 00:30 on 9 June, BST
        session.add(erased)
        session.commit()
    report = run_import(sessions, f"{HEADER}\n{GOOD_ROW}\n", clock)
    assert report.rejected[0].slack_user_id == "U0GOOD001"
    assert "erased on 9 June 2026;" in report.rejected[0].reason
    with sessions() as session:
        assert person(session, "U0GOOD001").name == "erased"


# --- export ------------------------------------------------------------------------------------
def test_export_round_trips(sessions: SessionFactory, clock: FixedClock) -> None:
    import_directory_file(sessions, SAMPLE, now=clock.now())
    exported = export_text(sessions)

    lines = exported.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == len(sample_rows()) + 1
    report = run_import(sessions, exported, clock)
    assert report.ok
    assert (report.added, report.updated) == ([], [])
    assert sorted(report.unchanged) == sorted(row["slack_user_id"] for row in sample_rows())
    assert export_text(sessions) == exported


def test_export_is_sorted_skips_erased_people_and_orders_roles_and_tags(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = (
        f"{HEADER}\n"
        "U0CCCCCC1,Zara Young,,specialist;nle;head,,,,,maths;behaviour;attendance,3\n"
        "U0CCCCCC3,amy ash,,coordinator,,,,,,\n"
        "U0CCCCCC2,Amy Ash,,sle,,,,,,1\n"
        "U0CCCCCC4,Erased Person,,sle,,,,,,1\n"
    )
    run_import(sessions, text, clock)
    with sessions() as session:
        erased = person(session, "U0CCCCCC4")
        erased.erased_at = clock.now()
        session.add(erased)
        session.commit()
        out = io.StringIO()
        assert export_directory(session, out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["slack_user_id"] for row in rows] == ["U0CCCCCC2", "U0CCCCCC3", "U0CCCCCC1"]
    assert rows[2]["roles"] == "head;nle;specialist"
    assert rows[2]["expertise"] == "attendance;behaviour;maths"
    assert rows[1]["capacity"] == "1"


def test_render_lists_counts_rejections_and_warnings() -> None:
    from bot.directory.service import RejectedRow

    report = ImportReport(
        added=["U01"],
        rejected=[
            RejectedRow(7, "U0123", "unknown role 'headteacher'"),
            RejectedRow(9, None, "missing name"),
        ],
        warnings=["ignored unknown column 'notes'"],
    )
    text = report.render()
    assert text.splitlines()[0] == "Directory import: 1 added, 0 updated, 0 unchanged, 2 rejected."
    assert "line 7 (U0123): unknown role 'headteacher'" in text
    assert "line 9: missing name" in text
    assert "ignored unknown column 'notes'" in text
    assert not report.ok and ImportReport(added=["U01"]).ok


# --- the command line --------------------------------------------------------------------------
def run_cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot ARGS` against `db_url`, as an operator would."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DATABASE_URL", "TEST_DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=db_url,
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        LOG_LEVEL="WARNING",
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_imports_and_exports_the_directory(db_url: str, tmp_path: Path) -> None:
    rows = sample_rows()
    result = run_cli(db_url, tmp_path, "directory", "import", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert f"{len(rows)} added, 0 updated, 0 unchanged, 0 rejected" in result.stdout

    result = run_cli(db_url, tmp_path, "directory", "export")
    assert result.returncode == 0, result.stderr
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["slack_user_id"] for row in exported] == [
        row["slack_user_id"]
        for row in sorted(rows, key=lambda r: (r["name"].casefold(), r["name"], r["slack_user_id"]))
    ]

    out = tmp_path / "out.csv"
    result = run_cli(db_url, tmp_path, "directory", "export", str(out))
    assert result.returncode == 0 and f"Exported {len(rows)} people" in result.stdout
    result = run_cli(db_url, tmp_path, "directory", "import", str(out))
    assert result.returncode == 0, result.stderr
    assert f"0 added, 0 updated, {len(rows)} unchanged, 0 rejected" in result.stdout


def test_cli_reports_bad_rows_and_exits_non_zero(db_url: str, tmp_path: Path) -> None:
    result = run_cli(db_url, tmp_path, "directory", "import", str(BAD))
    assert result.returncode == 1
    assert (
        "unknown role 'headteacher' — use head, nle, sle, specialist, coordinator, "
        "aspiring-nle or aspiring-sle"
    ) in (result.stdout)
    assert "line 16: 1 value where the header has 11 — is a separator missing?" in result.stdout
    assert (
        "line 5 (U07RS5C2LX): left out unknown expertise 'underwater basket weaving'"
    ) in result.stdout.split("Warnings:")[1]
    assert result.stderr.strip().splitlines() == [
        "error: 10 rows were rejected (listed above); the other rows were saved"
    ]
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            assert count(session, Person) >= 5
            assert expertise_of(session, "U07RS5C2LX") == ["maths"]
    finally:
        engine.dispose()


def test_cli_imports_a_row_with_an_unknown_tag_and_warns(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "directory.csv"
    path.write_text(
        f"{HEADER}\nU0TAGS001,Ann Lee,,sle,,,,,send;safegaurding,1\n{GOOD_ROW}\n",
        encoding="utf-8",
    )
    checked = run_cli(db_url, tmp_path, "directory", "import", "--dry-run", str(path))
    result = run_cli(db_url, tmp_path, "directory", "import", str(path))

    warning = (
        "  line 2 (U0TAGS001): left out unknown expertise 'safegaurding' — did you mean "
        "'safeguarding'?"
    )
    for done in (checked, result):
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert "2 added, 0 updated, 0 unchanged, 0 rejected" in done.stdout
        assert done.stdout.splitlines()[-2:] == ["Warnings:", warning]
    assert "dry run: nothing was saved" in checked.stdout
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            assert expertise_of(session, "U0TAGS001") == ["send"]
            assert expertise_of(session, "U0GOOD001") == ["maths"]
    finally:
        engine.dispose()


def test_cli_dry_run_with_bad_rows_says_why_it_exits_non_zero(db_url: str, tmp_path: Path) -> None:
    result = run_cli(db_url, tmp_path, "directory", "import", "--dry-run", str(BAD))
    assert result.returncode == 1
    assert "line 3 (U06HJ4W1PA): unknown role 'headteacher'" in result.stdout
    assert "line 16: 1 value where the header has 11" in result.stdout
    assert "line 5 (U07RS5C2LX): left out unknown expertise" in result.stdout
    assert result.stderr.strip().splitlines() == [
        "error: 10 rows would be rejected (listed above); nothing was saved"
    ]


@pytest.mark.parametrize("problem", ["missing", "header"])
def test_cli_fails_in_one_line_when_the_file_cannot_be_imported(
    db_url: str, tmp_path: Path, problem: str
) -> None:
    path = tmp_path / "directory.csv"
    if problem == "header":
        path.write_text("name;roles\nTom;sle\n", encoding="utf-8")
    result = run_cli(db_url, tmp_path, "directory", "import", str(path))
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    if problem == "missing":
        assert lines[0] == f"error: {path}: no such file"
    else:
        assert lines[0].startswith("error: the header is missing required columns slack_user_id")


def test_cli_export_to_an_unwritable_place_fails_in_one_line(db_url: str, tmp_path: Path) -> None:
    result = run_cli(db_url, tmp_path, "directory", "export", str(tmp_path / "no" / "out.csv"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write {tmp_path / 'no' / 'out.csv'}: No such file or directory"
    ]


def test_the_clock_is_the_one_given(sessions: SessionFactory) -> None:
    moment = datetime(2027, 1, 4, 9, 0).astimezone()
    import_directory(sessions, io.StringIO(f"{HEADER}\n{GOOD_ROW}\n"), now=moment)
    with sessions() as session:
        assert person(session, "U0GOOD001").created_at == moment
