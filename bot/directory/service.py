"""The directory CSV of CONTRACT.md: import people (a bad row never aborts the good ones)
and export them again in the same format.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import io
import logging
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import String, Table, bindparam, delete, func, insert, null, or_, union_all, update
from sqlalchemy import column as sql_column
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot.core.clock import LONDON, date_words
from bot.core.teams_settings import is_guid
from bot.core.vocabulary import Vocabulary, default_vocabulary, sync_vocabulary
from storage.db import SessionFactory, transaction
from storage.folding import casefolded
from storage.models import (
    PHASES,
    REGIONS,
    ROLES,
    AuditEntry,
    DirectoryImportBatch,
    Person,
    PersonExpertise,
    PersonRole,
    Platform,
    School,
)

log = logging.getLogger(__name__)

COLUMNS = (
    "slack_user_id",
    "name",
    "email",
    "roles",
    "school",
    "school_urn",
    "phase",
    "region",
    "expertise",
    "capacity",
    "teams_user_id",
    "preferred_platform",
    "trust",
    "available_from",
    "hosts_visits",
    "visits_per_half_term",
)
# `roles` is required too: a row without a role cannot be imported, so a file without the
# column could import nobody. A person is keyed by either id column (at least one is needed).
REQUIRED_COLUMNS = ("name", "roles")
ID_COLUMNS = ("slack_user_id", "teams_user_id")
MAX_CAPACITY = 20
MAX_VISITS_PER_HALF_TERM = 30
_YES = ("yes", "y", "true", "1")
_NO = ("no", "n", "false", "0")
BATCH_SIZE = 500  # rows saved per transaction
# The saved batches of an import whose report was never owed (it was given up) are forgotten
# after this; an import is done again within minutes.
IMPORT_PROGRESS_MEMORY = timedelta(days=1)
DEFAULT_CAPACITY = 1


_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_PLATFORMS = tuple(Platform)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_URN = re.compile(r"[0-9]{6,7}")

_PHASE_VARIANTS = {
    "nursery": "nursery",
    "early-years": "nursery",
    "eyfs": "nursery",
    "primary": "primary",
    "infant": "primary",
    "junior": "primary",
    "secondary": "secondary",
    "all-through": "all-through",
    "allthrough": "all-through",
    "through": "all-through",
    "special": "special",
    "16-plus": "16-plus",
    "16+": "16-plus",
    "post-16": "16-plus",
    "post16": "16-plus",
    "16-19": "16-plus",
    "sixth-form": "16-plus",
    "sixth-form-college": "16-plus",
    "further-education": "16-plus",
    "fe": "16-plus",
}


def _region_key(raw: str) -> str:
    return " ".join(raw.replace("-", " ").replace("&", " and ").split()).casefold()


_REGION_VARIANTS = {
    **{_region_key(region): region for region in REGIONS},
    "yorkshire and humber": "Yorkshire and the Humber",
    "yorkshire": "Yorkshire and the Humber",
    "east": "East of England",
    "eastern": "East of England",
    "greater london": "London",
}


class DirectoryError(ValueError):
    """The file as a whole cannot be imported (missing, not UTF-8, a bad header)."""


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, and why."""

    line: int
    slack_user_id: str | None
    reason: str

    def render(self) -> str:
        """One line, e.g. "line 7 (U0123): unknown role 'headteacher' — use …"."""
        who = f" ({self.slack_user_id})" if self.slack_user_id else ""
        return f"line {self.line}{who}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: Slack user ids added, updated and unchanged, rows rejected."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    schools_created: int = 0
    dry_run: bool = False  # nothing was saved: the report says what an import would do

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejected

    def render(self) -> str:
        """A readable, multi-line report for the command line."""
        lines = [
            (
                "Directory import (dry run: nothing was saved): "
                if self.dry_run
                else "Directory import: "
            )
            + f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.rejected)} rejected"
            + (f"; {_plural(self.schools_created, 'new school')}." if self.schools_created else ".")
        ]
        for label, ids in (("Added", self.added), ("Updated", self.updated)):
            if ids:
                lines += textwrap.wrap(
                    f"{label}: {', '.join(ids)}", width=100, subsequent_indent="  "
                )
        if self.rejected:
            lines.append(
                "Rejected rows (these would not be saved):"
                if self.dry_run
                else "Rejected rows (nothing was saved for these; the other rows were):"
            )
            lines += [f"  {row.render()}" for row in self.rejected]
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  {warning}" for warning in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True)
class DirectoryRow:
    """One valid row, normalised. Optional columns missing from the file are left alone."""

    line: int
    slack_user_id: str | None
    name: str
    roles: tuple[str, ...]
    columns: frozenset[str]
    teams_user_id: str | None = None
    preferred_platform: Platform | None = None
    email: str | None = None
    school: str | None = None
    school_urn: str | None = None
    phase: str | None = None
    region: str | None = None
    expertise: tuple[str, ...] = ()
    capacity: int = DEFAULT_CAPACITY
    trust: str | None = None
    available_from: date | None = None
    warnings: tuple[str, ...] = ()
    # Open classrooms, for the row's school: None leaves the school's setting as it is.
    hosts_visits: bool | None = None
    visits_per_half_term: int | None = None

    def has(self, column: str) -> bool:
        """True when the file has `column`."""
        return column in self.columns

    @property
    def key(self) -> str:
        """The id the report names the row's person by: Slack's, else Teams'."""
        return self.slack_user_id or self.teams_user_id or ""


@dataclass(frozen=True)
class Resumable:
    """How an import that may be cut short and done again (a Slack import replayed by the due
    work) keeps its place: each batch's outcome is saved under `key` in the batch's own
    transaction, so doing it again skips what was saved and still reports the whole file.

    `hold` runs first in each of those transactions; it raises to stop the import when
    another copy of the bot has taken it over, so two copies never save one import at once.
    """

    key: str
    hold: Callable[[Session], None] = lambda session: None


class _RowRejected(Exception):
    """Raised inside a row's transaction to roll it back and reject the row."""


# --- import --------------------------------------------------------------------------------
def import_directory_file(
    sessions: SessionFactory,
    path: str | Path,
    *,
    now: datetime,
    vocabulary: Vocabulary | None = None,
    actor: str | None = None,
    dry_run: bool = False,
    tz: ZoneInfo = LONDON,
) -> ImportReport:
    """Import the directory CSV at `path` (dates in its report local to `tz`); raises
    `DirectoryError` if it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            text = stream.read()
    except FileNotFoundError:
        raise DirectoryError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DirectoryError(f"{path} is a folder, not a CSV file") from None
    except PermissionError:
        raise DirectoryError(f"{path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise DirectoryError(
            f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at position "
            f"{exc.start}); save it as 'CSV UTF-8' and try again"
        ) from None
    except OSError as exc:
        raise DirectoryError(f"{path} could not be read: {exc.strerror or exc}") from None
    return import_directory(
        sessions,
        io.StringIO(text, newline=""),
        now=now,
        vocabulary=vocabulary,
        actor=actor,
        dry_run=dry_run,
        tz=tz,
    )


def import_directory(
    sessions: SessionFactory,
    stream: TextIO,
    *,
    now: datetime,
    vocabulary: Vocabulary | None = None,
    actor: str | None = None,
    dry_run: bool = False,
    resumable: Resumable | None = None,
    tz: ZoneInfo = LONDON,
) -> ImportReport:
    """Add or update people from directory CSV text, `BATCH_SIZE` rows per transaction
    (dates in the report local to `tz`).

    A row that is rejected, or that the database refuses, never stops the good ones. With
    `dry_run`, the same report of what would change, and nothing saved. With `resumable`,
    an import cut short and done again reports what both runs did (see `Resumable`).

    Raises `DirectoryError` (and saves nothing) when the header lacks a required column.
    """
    vocabulary = vocabulary or default_vocabulary()
    report = ImportReport()
    text = stream.read()
    header, records = _read_csv(text)
    columns = _check_header(header, report)

    rows: list[DirectoryRow] = []
    first_seen: dict[str, int] = {}
    for line, values in records:
        if not any(value.strip() for value in values):
            continue  # spreadsheets often add rows of empty cells at the end
        row = _parse_row(line, header, values, columns, vocabulary, first_seen)
        if isinstance(row, RejectedRow):
            report.rejected.append(row)
        else:
            rows.append(row)

    progress = None if dry_run or resumable is None else _Progress(resumable, text, now)
    with _batches(sessions, dry_run=dry_run, progress=progress) as batches:
        # The tags must exist before anyone can be given them.
        with batches() as session:
            sync_vocabulary(session, vocabulary)
            saved = progress.saved_before(session) if progress else {}
        school_values: dict[tuple[int, str], tuple[str, int]] = {}
        for start in range(0, len(rows), BATCH_SIZE):
            batch = rows[start : start + BATCH_SIZE]
            outcomes = {row.line: saved[row.line] for row in batch if row.line in saved}
            if pending := [row for row in batch if row.line not in saved]:
                outcomes |= _import_batch(
                    batches, pending, now=now, tz=tz, actor=actor, progress=progress
                )
            for row in batch:
                _report_row(row, outcomes[row.line], report, school_values)
    report.rejected.sort(key=lambda rejected: rejected.line)
    report.dry_run = dry_run
    return report


_Batches = Callable[[], AbstractContextManager[Session]]


@contextmanager
def _batches(
    sessions: SessionFactory, *, dry_run: bool, progress: _Progress | None
) -> Iterator[_Batches]:
    """Where each batch is saved: a transaction of its own (held first, if the import is
    resumable), or for a dry run a savepoint inside one transaction that is rolled back at
    the end, so later batches see earlier ones (a school added on line 3 is found on line
    900) and nothing is kept."""
    if not dry_run:
        yield lambda: _held_transaction(sessions, progress)
        return
    with sessions() as session:
        try:
            yield lambda: _savepoint(session)
        finally:
            session.rollback()


@contextmanager
def _held_transaction(sessions: SessionFactory, progress: _Progress | None) -> Iterator[Session]:
    with transaction(sessions) as session:
        if progress is not None:
            progress.resumable.hold(session)
        yield session


@contextmanager
def _savepoint(session: Session) -> Iterator[Session]:
    with session.begin_nested():
        yield session


def _read_csv(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (starting line number, values) for each record."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DirectoryError(
            "the file is empty; expected a header row: " + ",".join(COLUMNS)
        ) from None
    except csv.Error as exc:
        raise DirectoryError(f"the header row is not valid CSV: {exc}") from None

    def records() -> Iterator[tuple[int, list[str]]]:
        previous = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DirectoryError(f"line {previous + 1} is not valid CSV: {exc}") from None
            yield previous + 1, values
            previous = reader.line_num

    return header, records()


def _check_header(header: list[str], report: ImportReport) -> frozenset[str]:
    """The known columns of `header`; raises `DirectoryError` if a required one is missing."""
    names = [_column_name(name) for name in header]
    duplicates = sorted({name for name in names if name and names.count(name) > 1})
    if duplicates:
        raise DirectoryError(f"the header names {_quoted_list(duplicates)} more than once")
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if not any(name in names for name in ID_COLUMNS):
        missing.insert(0, "slack_user_id (or teams_user_id)")
    if missing:
        hint = ""
        if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
            hint = " — the file looks semicolon- or tab-separated; it must be comma-separated"
        raise DirectoryError(
            f"the header is missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{hint}; expected: {','.join(COLUMNS)}"
        )
    for name, raw in zip(names, header, strict=True):
        if name and name not in COLUMNS:
            report.warnings.append(f"ignored unknown column {raw.strip()!r}")
    if unnamed := names.count(""):
        report.warnings.append(f"ignored {_plural(unnamed, 'column')} with no name")
    return frozenset(name for name in names if name in COLUMNS)


@functools.lru_cache(maxsize=256)  # called for every cell of every row
def _column_name(raw: str) -> str:
    return re.sub(r"[\s-]+", "_", raw.strip().lower())


def _parse_row(
    line: int,
    header: list[str],
    values: list[str],
    columns: frozenset[str],
    vocabulary: Vocabulary,
    first_seen: dict[str, int],
) -> DirectoryRow | RejectedRow:
    """Validate and normalise one record; every problem with it is reported at once.

    An unknown expertise tag only warns: the row is imported with its known tags."""
    cells = _cells_of(header, values)
    too_few = _too_few_values(header, values)
    if too_few and _stops_before_a_needed_column(header, len(values)):
        # Its id, name or roles would be "missing": the shortfall is what to report.
        key = _valid_key(cells.get("slack_user_id", ""), cells.get("teams_user_id", "").lower())
        return RejectedRow(line, key, too_few)
    problems: list[str] = [too_many] if (too_many := _too_many_values(header, values)) else []
    warnings: list[str] = []
    slack_user_id, teams_user_id, preferred = _parse_ids(cells, line, first_seen, problems)
    name, email = _parse_name_and_email(cells, problems)
    roles = _parse_roles(cells.get("roles", ""), problems)
    expertise, unknown_tags = _parse_expertise(cells.get("expertise", ""), vocabulary)

    capacity = _parse_capacity(cells.get("capacity", ""), problems)
    where = f"line {line} ({slack_user_id or teams_user_id})"
    school = _parse_school(cells, where, problems, warnings)
    available_from = _parse_date("available_from", cells.get("available_from", ""), problems)
    named = bool(school["school"] or school["school_urn"])
    hosting = _parse_hosting(cells, where, named, problems, warnings)
    if problems:
        # Rejected anyway: name the unknown tags too, so one fix mends the row; a short row's
        # problems may come from values shifted by a missing separator, so that comes first.
        reason = "; ".join(([too_few] if too_few else []) + problems + unknown_tags)
        return RejectedRow(line, _valid_key(slack_user_id, teams_user_id), reason)
    warnings += [f"{where}: left out {unknown}" for unknown in unknown_tags]
    return DirectoryRow(
        line=line,
        slack_user_id=slack_user_id or None,
        teams_user_id=teams_user_id or None,
        preferred_platform=preferred,
        name=name,
        roles=roles,
        columns=columns,
        email=email,
        expertise=expertise,
        capacity=capacity,
        available_from=available_from,
        warnings=tuple(warnings),
        school=school["school"],
        school_urn=school["school_urn"],
        phase=school["phase"],
        region=school["region"],
        trust=school["trust"],
        **hosting,
    )


def _parse_name_and_email(cells: dict[str, str], problems: list[str]) -> tuple[str, str | None]:
    """The row's name (required, spaces tidied) and email (optional, checked)."""
    name = " ".join(cells.get("name", "").split())
    if not name:
        problems.append("missing name")
    email = cells.get("email") or None
    if email and not _EMAIL.fullmatch(email):
        problems.append(f"email {email!r} does not look like an email address")
    return name, email


def _too_many_values(header: list[str], values: list[str]) -> str | None:
    """What to say of a row with values beyond the header's columns (blank ones are fine)."""
    if not any(value.strip() for value in values[len(header) :]):
        return None
    return (
        f"has {len(values)} values but the header has {len(header)} columns "
        "(a comma inside a name needs the value in double quotes)"
    )


def _too_few_values(header: list[str], values: list[str]) -> str | None:
    """What to say of a row with fewer values than the header (a missing separator moves every
    later value a column early); None if it has them all. Cells left off the end of a row
    are otherwise read as blank."""
    if len(values) >= len(header):
        return None
    return (
        f"{_plural(len(values), 'value')} where the header has {len(header)} "
        "— is a separator missing?"
    )


def _stops_before_a_needed_column(header: list[str], count: int) -> bool:
    """True when a row of `count` values has none for its name, its roles or any id column."""
    left_off = {_column_name(name) for name in header[count:]}
    named = {_column_name(name) for name in header}
    return any(column in left_off for column in REQUIRED_COLUMNS) or all(
        column in left_off for column in ID_COLUMNS if column in named
    )


def _parse_school(
    cells: dict[str, str], where: str, problems: list[str], warnings: list[str]
) -> dict[str, str | None]:
    """The row's school: its name and URN, and its phase, region and trust."""
    urn = cells.get("school_urn") or None
    if urn and not _URN.fullmatch(urn):
        problems.append(f"school_urn {urn!r} must be the school's 6- or 7-digit DfE URN")
    school = " ".join(cells.get("school", "").split()) or None
    phase, region = _parse_phase_and_region(
        cells, where, named_school=bool(school or urn), problems=problems, warnings=warnings
    )
    trust = _parse_trust(cells, where, named_school=bool(school or urn), warnings=warnings)
    return {"school": school, "school_urn": urn, "phase": phase, "region": region, "trust": trust}


def _cells_of(header: list[str], values: list[str]) -> dict[str, str]:
    """The known columns' values of one record, stripped."""
    return {
        name: value.strip()
        for name, value in zip((_column_name(h) for h in header), values, strict=False)
        if name in COLUMNS
    }


def _parse_ids(
    cells: dict[str, str], line: int, first_seen: dict[str, int], problems: list[str]
) -> tuple[str, str, Platform | None]:
    """The row's Slack id, Teams id (lower case) and preferred platform, checked."""
    slack_user_id = cells.get("slack_user_id", "")
    teams_user_id = cells.get("teams_user_id", "").lower()
    _check_ids(slack_user_id, teams_user_id, line, first_seen, problems)
    preferred = _parse_platform(cells.get("preferred_platform", ""), cells, problems)
    return slack_user_id, teams_user_id, preferred


def _valid_key(slack_user_id: str, teams_user_id: str) -> str | None:
    """The id a rejected row is reported under, if it has a well-formed one."""
    if slack_user_id and _SLACK_USER_ID.fullmatch(slack_user_id):
        return slack_user_id
    return teams_user_id if teams_user_id and is_guid(teams_user_id) else None


def _check_ids(
    slack_user_id: str,
    teams_user_id: str,
    line: int,
    first_seen: dict[str, int],
    problems: list[str],
) -> None:
    """A row needs a Slack user id, a Teams user id (Entra object id) or both, each valid and
    not repeated from an earlier line."""
    if not slack_user_id and not teams_user_id:
        problems.append("missing slack_user_id (or teams_user_id for someone on Teams)")
        return
    if slack_user_id:
        _check_slack_user_id(slack_user_id, line, first_seen, problems)
    if not teams_user_id:
        return
    if not is_guid(teams_user_id):
        problems.append(
            f"teams_user_id {teams_user_id!r} does not look like a Microsoft Entra object id "
            "(a GUID such as 6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f)"
        )
    elif teams_user_id in first_seen:
        problems.append(
            f"duplicate of line {first_seen[teams_user_id]}: each person may appear only once"
        )
    else:
        first_seen[teams_user_id] = line


def _parse_platform(raw: str, cells: dict[str, str], problems: list[str]) -> Platform | None:
    """The preferred platform: blank, `slack` or `teams`, and only one the row has an id on."""
    value = raw.strip().lower()
    if not value:
        return None
    if value not in _PLATFORMS:
        problems.append(f"preferred_platform {raw!r} must be slack or teams (or blank)")
        return None
    if not cells.get(f"{value}_user_id"):
        problems.append(f"preferred_platform {value} needs the person's {value}_user_id")
    return Platform(value)


def _check_slack_user_id(
    slack_user_id: str, line: int, first_seen: dict[str, int], problems: list[str]
) -> None:
    """Report a malformed or repeated Slack user id; remember where each was seen."""
    if not _SLACK_USER_ID.fullmatch(slack_user_id):
        problems.append(
            f"slack_user_id {slack_user_id!r} does not look like a Slack user id "
            "(U or W then capital letters and digits, e.g. U01ABCDEF)"
        )
    elif slack_user_id in first_seen:
        problems.append(
            f"duplicate of line {first_seen[slack_user_id]}: each person may appear only once"
        )
    else:
        first_seen[slack_user_id] = line


def _parse_capacity(raw: str, problems: list[str]) -> int:
    if not raw:
        return DEFAULT_CAPACITY
    if re.fullmatch(r"[0-9]+", raw) and int(raw) <= MAX_CAPACITY:
        return int(raw)
    problems.append(f"capacity must be a whole number from 0 to {MAX_CAPACITY}, not {raw!r}")
    return DEFAULT_CAPACITY


def _parse_phase_and_region(
    cells: dict[str, str],
    where: str,
    *,
    named_school: bool,
    problems: list[str],
    warnings: list[str],
) -> tuple[str | None, str | None]:
    """The school's phase and region; both are ignored (with a warning) if no school is named."""
    phase = None
    if raw := cells.get("phase"):
        phase = normalise_phase(raw)
        if phase is None:
            problems.append(f"unknown phase {raw!r} — use {_or_list(PHASES)}")

    region = None
    if raw := cells.get("region"):
        region = normalise_region(raw)
        if region is None:
            region = " ".join(raw.split())
            warnings.append(
                f"{where}: region {region!r} is not one of England's "
                f"nine regions ({', '.join(REGIONS)}); stored as given"
            )
    if (phase or region) and not named_school:
        warnings.append(
            f"{where}: phase and region belong to the school, and this row names none; ignored"
        )
        return None, None
    return phase, region


def _parse_trust(
    cells: dict[str, str], where: str, *, named_school: bool, warnings: list[str]
) -> str | None:
    """The school's multi-academy trust; ignored (with a warning) if no school is named."""
    trust = " ".join(cells.get("trust", "").split()) or None
    if trust and not named_school:
        warnings.append(f"{where}: trust belongs to the school, and this row names none; ignored")
        return None
    return trust


def _parse_date(column: str, raw: str, problems: list[str]) -> date | None:
    """A date written 2027-01-04 or 04/01/2027 (day first, as in England); blank is None."""
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    problems.append(f"{column} must be a date like 2027-01-04 or 04/01/2027, not {raw!r}")
    return None


def _parse_hosting(
    cells: dict[str, str], where: str, named_school: bool, problems: list[str], warnings: list[str]
) -> dict[str, Any]:
    """The school's `hosts_visits` (yes/no) and `visits_per_half_term`; blank cells leave the
    school as it is, and both are ignored (with a warning) if no school is named."""
    found: dict[str, Any] = {}
    if raw := cells.get("hosts_visits"):
        if raw.lower() in _YES + _NO:
            found["hosts_visits"] = raw.lower() in _YES
        else:
            problems.append(f"hosts_visits must be yes or no, not {raw!r}")
    if raw := cells.get("visits_per_half_term"):
        if re.fullmatch(r"[0-9]+", raw) and int(raw) <= MAX_VISITS_PER_HALF_TERM:
            found["visits_per_half_term"] = int(raw)
        else:
            problems.append(
                "visits_per_half_term must be a whole number from 0 to "
                f"{MAX_VISITS_PER_HALF_TERM}, not {raw!r}"
            )
    if found and not named_school:
        warnings.append(
            f"{where}: visit hosting belongs to the school, and this row names none; ignored"
        )
        return {}
    return found


def _split(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(";") if part.strip()]


def _parse_roles(raw: str, problems: list[str]) -> tuple[str, ...]:
    roles: list[str] = []
    unknown: list[str] = []
    for part in _split(raw):
        role = part.lower()
        if role in ROLES:
            if role not in roles:
                roles.append(role)
        else:
            unknown.append(part)
    if unknown:
        problems.append(
            f"unknown role{'s' if len(unknown) > 1 else ''} {_quoted_list(unknown)} "
            f"— use {_or_list(ROLES)}"
        )
    elif not roles:
        problems.append(f"no roles — give at least one of {_or_list(ROLES)}")
    return tuple(sorted(roles, key=ROLES.index))


def _parse_expertise(raw: str, vocabulary: Vocabulary) -> tuple[tuple[str, ...], list[str]]:
    """The known tags' slugs, and a note on each unknown tag, e.g. "unknown expertise 'mathz'
    — did you mean 'maths'?" (CONTRACT.md: unknown ones are reported, not the row rejected)."""
    slugs: list[str] = []
    unknown: list[str] = []
    for part in _split(raw):
        slug = vocabulary.normalise(part)
        if slug is None:
            unknown.append(f"unknown expertise {part!r}{_suggestion(part, vocabulary)}")
        elif slug not in slugs:
            slugs.append(slug)
    return tuple(sorted(slugs)), unknown


def _suggestion(term: str, vocabulary: Vocabulary) -> str:
    close = difflib.get_close_matches(term.strip().lower(), vocabulary.slugs, n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else " — it is not in the expertise vocabulary"


def normalise_phase(raw: str) -> str | None:
    """The phase slug for `raw` ("Primary", "all through", "post-16"…), or None."""
    key = re.sub(r"[\s_]+", "-", raw.strip().lower())
    return _PHASE_VARIANTS.get(key.removesuffix("-school").removesuffix("-phase"))


def normalise_region(raw: str) -> str | None:
    """The DfE name of the region `raw` names ("south west", "Yorkshire & Humber"…), or None."""
    return _REGION_VARIANTS.get(_region_key(raw))


def _import_batch(
    batches: _Batches,
    rows: list[DirectoryRow],
    *,
    now: datetime,
    tz: ZoneInfo,
    actor: str | None,
    progress: _Progress | None,
) -> dict[int, _Saved | str]:
    """Save `rows` in one transaction (with their outcomes, if resumable); if that fails, save
    them one by one so only bad rows fail. Returns each row's outcome by line."""
    try:
        with batches() as session:
            results = _save_batch(session, rows, now=now, tz=tz, actor=actor)
            if progress is not None:
                progress.record(session, rows, results)
    except SQLAlchemyError as exc:
        if len(rows) > 1:
            outcomes: dict[int, _Saved | str] = {}
            for row in rows:
                outcomes |= _import_batch(
                    batches, [row], now=now, tz=tz, actor=actor, progress=progress
                )
            return outcomes
        [row] = rows
        log.warning(
            "directory import: line %d (%s) not saved: %s",
            row.line,
            row.key,
            type(exc).__name__,
            exc_info=True,
        )
        results = [f"could not be saved ({type(exc).__name__}); try importing the file again"]
    return {row.line: result for row, result in zip(rows, results, strict=True)}


def _report_row(
    row: DirectoryRow,
    result: _Saved | str,
    report: ImportReport,
    seen: dict[tuple[int, str], tuple[str, int]],
) -> None:
    """Add one row's outcome (or rejection) and its warnings to the report."""
    if isinstance(result, str):
        report.rejected.append(RejectedRow(row.line, row.key, result))
        return
    getattr(report, result.outcome).append(row.key)
    report.schools_created += result.school_created
    report.warnings.extend(row.warnings)
    for (school_id, attribute), value in result.school_values.items():
        earlier = seen.get((school_id, attribute))
        if earlier and earlier[0] != value:
            report.warnings.append(
                f"line {row.line} ({row.key}): gives the school's {attribute} as "
                f"{value!r} but line {earlier[1]} gave {earlier[0]!r}; kept {value!r}"
            )
        seen[(school_id, attribute)] = (value, row.line)


@dataclass
class _Saved:
    """What saving one row did: "added", "updated" or "unchanged", and to its school."""

    outcome: str
    school_created: bool = False
    school_values: dict[tuple[int, str], str] = field(default_factory=dict)


class _Progress:
    """The saved outcomes of a resumable import's batches (see `Resumable`)."""

    def __init__(self, resumable: Resumable, text: str, now: datetime) -> None:
        self.resumable, self.now = resumable, now
        self.digest = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def saved_before(self, session: Session) -> dict[int, _Saved | str]:
        """Each line's outcome saved by an earlier run of this import of this file."""
        saved: dict[int, _Saved | str] = {}
        for results in session.exec(
            select(DirectoryImportBatch.results).where(
                DirectoryImportBatch.import_key == self.resumable.key,
                DirectoryImportBatch.file_digest == self.digest,
            )
        ):
            saved |= {line: _from_json(outcome) for line, outcome in results}
        if saved:
            log.info("directory import %s: %d lines done before", self.resumable.key, len(saved))
        return saved

    def record(
        self, session: Session, rows: list[DirectoryRow], results: list[_Saved | str]
    ) -> None:
        """Save the batch's outcomes in its own transaction."""
        session.add(
            DirectoryImportBatch(
                import_key=self.resumable.key,
                file_digest=self.digest,
                results=[
                    [row.line, _to_json(result)] for row, result in zip(rows, results, strict=True)
                ],
                saved_at=self.now,
            )
        )


def _to_json(result: _Saved | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"rejected": result}
    values = [[school_id, key, value] for (school_id, key), value in result.school_values.items()]
    return {"outcome": result.outcome, "school_created": result.school_created, "school": values}


def _from_json(saved: dict[str, Any]) -> _Saved | str:
    if "rejected" in saved:
        return str(saved["rejected"])
    values = {(int(school_id), key): value for school_id, key, value in saved["school"]}
    return _Saved(saved["outcome"], bool(saved["school_created"]), values)


def forget_import_progress(session: Session, key: str) -> None:
    """Drop the saved batches of the import `key` (its report is owed: nothing is done again)."""
    session.execute(delete(DirectoryImportBatch).where(col(DirectoryImportBatch.import_key) == key))


def forget_old_import_progress(sessions: SessionFactory, *, now: datetime) -> int:
    """Drop saved batches older than `IMPORT_PROGRESS_MEMORY` (imports given up); how many."""
    with transaction(sessions) as session:
        result = session.execute(
            delete(DirectoryImportBatch).where(
                col(DirectoryImportBatch.saved_at) < now - IMPORT_PROGRESS_MEMORY
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result is a CursorResult


@dataclass
class _Plan:
    """One accepted row of a batch on its way to the database."""

    row: DirectoryRow
    person: Person | None
    school: School | None = None
    school_created: bool = False
    changed: list[str] = field(default_factory=list)
    outcome: str = "unchanged"
    school_id: int | None = None
    update: dict[str, Any] = field(default_factory=dict)
    person_id: int | None = None
    new_person: dict[str, Any] | None = None  # a person to add, as a plain row


def _save_batch(
    session: Session, rows: list[DirectoryRow], *, now: datetime, tz: ZoneInfo, actor: str | None
) -> list[_Saved | str]:
    """Apply `rows` in order with a fixed number of statements; a str is a row's rejection."""
    with session.no_autoflush:  # ids are given just before the one flush at commit
        known = _Known(session, rows)
        plans: dict[int, _Plan] = {}
        results: list[_Saved | str] = []
        for index, row in enumerate(rows):
            try:
                plans[index] = _plan_school(known, row, tz)
            except _RowRejected as exc:
                results.append(str(exc))
                continue
            results.append(_Saved("unchanged"))
        _give_ids(session, known.created)
        for plan in plans.values():
            _apply_person(session, known, plan, now=now)
        if updates := [plan.update for plan in plans.values() if plan.update]:
            session.execute(update(Person), updates)  # one executemany for the batch
        _add_people(session, [plan for plan in plans.values() if plan.new_person is not None])
        entries = [_finish_person(known, plan, now=now, actor=actor) for plan in plans.values()]
        _insert_rows(session, AuditEntry, [entry for entry in entries if entry is not None])
        _insert_rows(session, PersonRole, known.new_roles)
        _insert_rows(session, PersonExpertise, known.new_expertise)
        for index, plan in plans.items():
            results[index] = _Saved(plan.outcome, plan.school_created, _school_values(plan))
        return results


def _insert_rows(session: Session, table: type, rows: list[dict[str, Any]]) -> None:
    """Insert plain rows: building ORM objects for thousands of people, links and audit
    entries cost more than everything else in an import.

    On PostgreSQL one statement takes every row as one array a column (`unnest`), where an
    executemany runs the INSERT once a row on the server; SQLite's executemany is cheap."""
    if not rows:
        return
    core: Table = table.__table__  # type: ignore[attr-defined]  # SQLModel sets it on tables
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(core), rows)
        return
    columns = [core.c[name] for name in rows[0]]
    arrays: dict[str, list[Any]] = {}
    for n, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[column.name] for row in rows]
        arrays[f"c{n}"] = [process(v) for v in values] if process else values
    casts = ", ".join(
        f"CAST(:c{n} AS {column.type.compile(dialect=dialect)}[])"
        for n, column in enumerate(columns)
    )
    names = ", ".join(column.name for column in columns)
    session.execute(sql(f"INSERT INTO {core.name} ({names}) SELECT * FROM unnest({casts})"), arrays)


def _add_people(session: Session, plans: list[_Plan]) -> None:
    """Insert the batch's new people with ids reserved up front (for their links and audit)."""
    for plan, person_id in zip(plans, _reserve_ids(session, "person", len(plans)), strict=True):
        assert plan.new_person is not None
        plan.person_id = plan.new_person["id"] = person_id
    _insert_rows(session, Person, [plan.new_person for plan in plans if plan.new_person])


def _reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """`count` new ids of `table`, reserved in one statement."""
    if not count:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.execute(
                sql(
                    f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": count},
            ).scalars()
        )
    # SQLite: the transaction holds the write lock, so nobody else takes these.
    first = session.execute(sql(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one()
    return list(range(first, first + count))


def _give_ids(session: Session, rows: list[Any]) -> None:
    """Reserve ids for new rows in one statement and insert them in one batch.

    (Without ids, SQLAlchemy inserts rows one at a time to read each generated id back.)
    """
    if not rows:
        return
    ids = _reserve_ids(session, type(rows[0]).__tablename__, len(rows))
    for row, row_id in zip(rows, ids, strict=True):
        row.id = row_id
    session.add_all(rows)
    session.flush()  # in table order: the ORM does not order tables without relationships


class _Known:
    """The batch's people (with roles and expertise) and the schools it names, loaded at once."""

    def __init__(self, session: Session, rows: list[DirectoryRow]) -> None:
        self.session = session
        slack_ids = [row.slack_user_id for row in rows if row.slack_user_id]
        teams_ids = [row.teams_user_id for row in rows if row.teams_user_id]
        people = session.exec(
            select(Person).where(
                or_(
                    col(Person.slack_user_id).in_(slack_ids),
                    col(Person.teams_user_id).in_(teams_ids),
                )
            )
        ).all()
        self.by_slack = {person.slack_user_id: person for person in people if person.slack_user_id}
        self.by_teams = {person.teams_user_id: person for person in people if person.teams_user_id}
        person_ids = [person.id for person in people]
        self.roles: dict[int | None, dict[str, Any]] = {}
        for role in session.exec(
            select(PersonRole).where(col(PersonRole.person_id).in_(person_ids))
        ):
            self.roles.setdefault(role.person_id, {})[role.role] = role
        self.expertise: dict[int | None, dict[str, Any]] = {}
        for tag in session.exec(
            select(PersonExpertise).where(col(PersonExpertise.person_id).in_(person_ids))
        ):
            self.expertise.setdefault(tag.person_id, {})[tag.tag_slug] = tag
        urns = sorted({row.school_urn for row in rows if row.school_urn})
        names = sorted({row.school for row in rows if row.school})
        schools, self.folded = _schools_and_folds(session, urns, names)
        self.by_urn: dict[str, School] = {}
        self.by_name: dict[str, list[School]] = {}
        self.created: list[School] = []
        # Roles and expertise to add, as plain rows inserted together once people have ids.
        self.new_roles: list[dict[str, Any]] = []
        self.new_expertise: list[dict[str, Any]] = []
        for school in schools:
            self.index(school)

    def person(self, row: DirectoryRow) -> Person | None:
        """The person the row is about, found by either id; rejects ids of two people."""
        by_slack = self.by_slack.get(row.slack_user_id or "")
        by_teams = self.by_teams.get(row.teams_user_id or "")
        if by_slack is not None and by_teams is not None and by_slack is not by_teams:
            raise _RowRejected(
                f"slack_user_id {row.slack_user_id} and teams_user_id {row.teams_user_id} "
                "belong to two different people in the directory"
            )
        return by_slack or by_teams

    def index(self, school: School) -> None:
        """Make `school` findable by its URN and name."""
        if school.urn:
            self.by_urn[school.urn] = school
        self.by_name.setdefault(self.folded[school.name], []).append(school)

    def unindex(self, school: School) -> None:
        """Forget `school` under its current URN and name (before they change)."""
        if school.urn and self.by_urn.get(school.urn) is school:
            del self.by_urn[school.urn]
        named = self.by_name.get(self.folded[school.name], [])
        if school in named:
            named.remove(school)

    def named(self, name: str) -> list[School]:
        """Schools called `name` (ignoring case, as `find_or_create_school`), oldest first."""
        schools = self.by_name.get(self.folded[name], [])
        return sorted(schools, key=lambda school: (school.id is None, school.id or 0))


def _schools_and_folds(
    session: Session, urns: list[str], names: list[str]
) -> tuple[list[School], dict[str, str]]:
    """The schools with one of `urns` or one of `names` (case aside), oldest first, and each
    of those names and theirs casefolded as the database folds them, in one statement.

    Schools are told apart by the database's fold, not Python's: on PostgreSQL a few letters
    fold otherwise (storage.folding), and the import must group names as
    `find_or_create_school` finds them, or one name would be one school here and two there.
    SQLite's fold is Python's own `casefold()`, so there the names are folded here.
    """
    if session.get_bind().dialect.name != "postgresql":
        folds = {name: name.casefold() for name in names}
        found = session.exec(
            select(School)
            .where(
                or_(
                    col(School.urn).in_(urns),
                    casefolded(col(School.name)).in_(sorted(set(folds.values()))),
                )
            )
            .order_by(col(School.id))
        ).all()
        folds.update((school.name, school.name.casefold()) for school in found)
        return list(found), folds
    return _schools_and_postgresql_folds(session, urns, names)


def _schools_and_postgresql_folds(
    session: Session, urns: list[str], names: list[str]
) -> tuple[list[School], dict[str, str]]:
    """`_schools_and_folds` on PostgreSQL: the names go as one array (`unnest`), so the
    statement is compiled once, whatever the names."""
    written = (
        func.unnest(bindparam("written", value=names, type_=ARRAY(String)))
        .table_valued("name")
        .alias("written")
    )
    folded = casefolded(col(School.name)).label("folded")
    schools = select(School, folded, null().label("written")).where(
        or_(
            col(School.urn).in_(urns),
            casefolded(col(School.name)).in_(select(casefolded(written.c.name))),
        )
    )
    # The names' own rows: no school (NULL in each of its columns), the name and its fold.
    nothing = [null().label(column.name) for column in School.__table__.columns]  # type: ignore[attr-defined]  # a table model
    as_written = select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
        *nothing, casefolded(written.c.name).label("folded"), written.c.name.label("written")
    )
    found: Any = select(School, sql_column("folded"), sql_column("written")).from_statement(
        union_all(schools, as_written)
    )
    by_id: dict[int | None, School] = {}
    folds: dict[str, str] = {}
    for school, fold, name in session.exec(found):
        if school is not None:
            by_id[school.id] = school
            folds[school.name] = fold
        if name is not None:
            folds[name] = fold
    return sorted(by_id.values(), key=lambda school: school.id or 0), folds


def _plan_school(known: _Known, row: DirectoryRow, tz: ZoneInfo) -> _Plan:
    """Reject an erased person (saying on which day, local to `tz`); find, create or update
    the row's school."""
    person = known.person(row)
    if person is not None and person.erased_at is not None:
        raise _RowRejected(
            f"this person's data was erased on {date_words(person.erased_at.astimezone(tz))}; "
            "they are not re-added from a file"
        )
    plan = _Plan(row, person)
    if row.has("school") or row.has("school_urn"):
        plan.school, plan.school_created, school_changed = _resolve_school(known, row)
        if plan.school is not None and (school_changed or plan.school_created):
            plan.changed.append("school")
    return plan


def _resolve_school(known: _Known, row: DirectoryRow) -> tuple[School | None, bool, bool]:
    """The row's school (found by URN, else by name, else created): (school, created, changed)."""
    if not row.school and not row.school_urn:
        return None, False, False
    school: School | None = None
    if row.school_urn:
        school = known.by_urn.get(row.school_urn)
        if school is None and row.school:
            # A school first imported without its URN gains it now.
            school = next((s for s in known.named(row.school) if s.urn is None), None)
        if school is None and not row.school:
            raise _RowRejected(
                f"school_urn {row.school_urn} is not a school we know yet; "
                "add the school's name so it can be created"
            )
    else:
        assert row.school is not None
        matches = known.named(row.school)
        if len(matches) > 1:
            raise _RowRejected(f"more than one school is called {row.school!r}; add its school_urn")
        school = matches[0] if matches else None

    if school is None:
        school = School(
            name=row.school or "",
            urn=row.school_urn,
            phase=row.phase,
            region=row.region,
            trust=row.trust,
        )
        _set_hosting(school, row)
        known.session.add(school)
        known.index(school)
        known.created.append(school)
        return school, True, False

    wanted = {
        "name": row.school,
        "urn": row.school_urn,
        "phase": row.phase,
        "region": row.region,
        "trust": row.trust,
    }
    # Blank cells leave the school as it is: other rows may describe it fully.
    changes = {
        key: value for key, value in wanted.items() if value and getattr(school, key) != value
    }
    changes.update(_hosting_changes(school, row))
    if changes:
        known.unindex(school)
        for attribute, value in changes.items():
            setattr(school, attribute, value)
        known.index(school)
        known.session.add(school)
    return school, False, bool(changes)


def _hosting_changes(school: School, row: DirectoryRow) -> dict[str, Any]:
    """The open-classroom settings the row changes on its school (blank cells change none)."""
    wanted = {"hosts_visits": row.hosts_visits, "visits_per_half_term": row.visits_per_half_term}
    return {
        key: value
        for key, value in wanted.items()
        if value is not None and getattr(school, key) != value
    }


def _set_hosting(school: School, row: DirectoryRow) -> None:
    for attribute, value in _hosting_changes(school, row).items():
        setattr(school, attribute, value)


def _apply_person(session: Session, known: _Known, plan: _Plan, *, now: datetime) -> None:
    """Add the row's person, or bring their name, school, email and capacity up to date."""
    row, person = plan.row, plan.person
    school_id = person.school_id if person else None
    if row.has("school") or row.has("school_urn"):
        school_id = plan.school.id if plan.school else None
    plan.school_id = school_id
    if person is None:
        plan.new_person = {
            "slack_user_id": row.slack_user_id,
            "teams_user_id": row.teams_user_id,
            "preferred_platform": row.preferred_platform,
            "name": row.name,
            "email": row.email,
            "school_id": school_id,
            "capacity": row.capacity if row.has("capacity") else DEFAULT_CAPACITY,
            "available": True,
            "available_from": row.available_from,
            "created_at": now,
            "updated_at": now,
        }
        plan.outcome = "added"
        return
    assert person.id is not None
    plan.person_id = person.id
    wanted: dict[str, Any] = {
        "name": row.name,
        "school_id": school_id,
        # A blank id leaves the person's id as it is: an import never takes an id away.
        "slack_user_id": row.slack_user_id or person.slack_user_id,
        "teams_user_id": row.teams_user_id or person.teams_user_id,
        "preferred_platform": (
            row.preferred_platform if row.has("preferred_platform") else person.preferred_platform
        ),
    }
    if row.has("email"):
        wanted["email"] = row.email
    if row.has("capacity"):
        wanted["capacity"] = row.capacity
    if row.has("available_from"):
        wanted["available_from"] = row.available_from
    for attribute, value in wanted.items():
        if getattr(person, attribute) != value:
            plan.changed.append("school" if attribute == "school_id" else attribute)
    if _replace_links(
        session, known.roles.get(person.id, {}), row.roles, known.new_roles, _role(person.id)
    ):
        plan.changed.append("roles")
    if row.has("expertise") and _replace_links(
        session,
        known.expertise.get(person.id, {}),
        row.expertise,
        known.new_expertise,
        _tag(person.id),
    ):
        plan.changed.append("expertise")
    if plan.changed:
        # Every row of a file sets the same columns, so the batch's updates share one statement.
        plan.update = {"id": person.id, **wanted, "updated_at": now}
        plan.outcome = "updated"


def _finish_person(
    known: _Known, plan: _Plan, *, now: datetime, actor: str | None
) -> dict[str, Any] | None:
    """A new person's roles and expertise; the audit row of an added or updated person."""
    person_id, row = plan.person_id, plan.row
    assert person_id is not None
    school_id = plan.school_id
    if plan.outcome == "added":
        known.new_roles.extend(_role(person_id)(role) for role in sorted(set(row.roles)))
        slugs = sorted(set(row.expertise)) if row.has("expertise") else []
        known.new_expertise.extend(_tag(person_id)(slug) for slug in slugs)
        detail: dict[str, Any] = {}
    elif plan.outcome == "updated":
        detail = {"changed": sorted(set(plan.changed))}
    else:
        return None
    return {
        "at": now,
        "actor": actor,
        "action": f"directory.person_{plan.outcome}",
        "subject_type": "person",
        "subject_id": str(person_id),
        "detail": {"line": row.line, **detail, "school_id": school_id},
    }


def _role(person_id: int) -> Callable[[str], dict[str, Any]]:
    return lambda role: {"person_id": person_id, "role": role}


def _tag(person_id: int) -> Callable[[str], dict[str, Any]]:
    return lambda slug: {"person_id": person_id, "tag_slug": slug}


def _replace_links(
    session: Session,
    current: dict[str, Any],
    wanted: Iterable[str],
    added: list[dict[str, Any]],
    make: Callable[[str], dict[str, Any]],
) -> bool:
    """Make a person's links (roles or expertise) exactly `wanted`, the new ones appended to
    `added` as rows; True if anything changed."""
    keep = set(wanted)
    for key, link in current.items():
        if key not in keep:
            session.delete(link)
    added.extend(make(key) for key in sorted(keep - set(current)))
    return keep != set(current)


def _school_values(plan: _Plan) -> dict[tuple[int, str], str]:
    """The school attributes this row sets, keyed by (school id, attribute)."""
    school, row = plan.school, plan.row
    if school is None:
        return {}
    assert school.id is not None
    return {
        (school.id, attribute): value
        for attribute, value in (
            ("name", row.school),
            ("phase", row.phase),
            ("region", row.region),
            ("trust", row.trust),
            ("hosts_visits", _yes_no(row.hosts_visits)),
            ("visits_per_half_term", _number(row.visits_per_half_term)),
        )
        if value
    }


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


def _number(value: int | None) -> str | None:
    return None if value is None else str(value)


# --- export --------------------------------------------------------------------------------
def export_directory(session: Session, stream: TextIO) -> int:
    """Write everyone not erased as directory CSV, sorted by name; return how many."""
    people = sorted(
        session.exec(select(Person).where(col(Person.erased_at).is_(None))).all(),
        key=lambda p: (p.name.casefold(), p.name, p.slack_user_id or "", p.teams_user_id or ""),
    )
    schools = {school.id: school for school in session.exec(select(School))}
    roles: dict[int, list[str]] = {}
    for link in session.exec(select(PersonRole)):
        roles.setdefault(link.person_id, []).append(link.role)
    expertise: dict[int, list[str]] = {}
    for tag in session.exec(select(PersonExpertise)):
        expertise.setdefault(tag.person_id, []).append(tag.tag_slug)

    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for person in people:
        assert person.id is not None
        school = schools.get(person.school_id) if person.school_id else None
        writer.writerow(
            [
                person.slack_user_id or "",
                person.name,
                person.email or "",
                ";".join(sorted(roles.get(person.id, []), key=_role_order)),
                school.name if school else "",
                (school.urn or "") if school else "",
                (school.phase or "") if school else "",
                (school.region or "") if school else "",
                ";".join(sorted(expertise.get(person.id, []))),
                person.capacity,
                person.teams_user_id or "",
                person.preferred_platform or "",
                (school.trust or "") if school else "",
                person.available_from.isoformat() if person.available_from else "",
                *_hosting_cells(school),
            ]
        )
    return len(people)


def _hosting_cells(school: School | None) -> list[str]:
    """A school's open-classroom columns; blank for no school, so re-importing changes none."""
    if school is None:
        return ["", ""]
    return ["yes" if school.hosts_visits else "no", str(school.visits_per_half_term)]


# --- wording -------------------------------------------------------------------------------
def _role_order(role: str) -> tuple[int, str]:
    return (ROLES.index(role) if role in ROLES else len(ROLES), role)


def _or_list(items: Iterable[str]) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def _quoted_list(items: Iterable[str]) -> str:
    return ", ".join(repr(item) for item in items)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
