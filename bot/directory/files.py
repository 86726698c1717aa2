"""The directory CSV as a file in Slack: exporting it into a coordinator's DM, and fetching,
checking and importing a CSV a coordinator uploaded. Only coordinators may do either.

Uploading a file is not a chat message, so it does not go through the outbox; the report of
an import is one, and does.
"""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core import audit
from bot.core.errors import NotAllowed, UserFacingError
from bot.core.vocabulary import Vocabulary
from bot.directory.people import is_coordinator
from bot.directory.service import (
    DirectoryError,
    ImportReport,
    Resumable,
    export_directory,
    forget_import_progress,
    import_directory,
)
from bot.directory.views import export_comment, report_message
from bot.outbox.owing import is_owed, owe_post
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)

# Puts a file into a person's DM with the bot: (user, content, filename, comment) -> channel.
# It raises `ExportFailed` when the platform refuses the file.
FileUploader = Callable[[str, bytes, str, str], str]

IMPORT_ACTION = "directory.import"
EXPORT_ACTION = "directory.export"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
DOWNLOAD_TIMEOUT = 20.0
# Where Slack (and GovSlack) serve private files; the bot token is sent nowhere else.
SLACK_FILE_DOMAINS = ("slack.com", "slack-gov.com")
CSV_MIMETYPES = {"text/csv", "application/csv", "text/comma-separated-values", "text/plain"}
_REFUSALS = {
    IMPORT_ACTION: "Only coordinators can import the directory. If someone's details are "
    "wrong, ask a coordinator to change them.",
    EXPORT_ACTION: "Only coordinators can export the directory. If you need a copy, ask a "
    "coordinator.",
}


class UnusableFile(UserFacingError):
    """The uploaded file cannot be imported (too big, not CSV, not UTF-8, a bad header, or
    Slack would not hand it over); nothing was imported."""


class ExportFailed(UserFacingError):
    """Slack would not take the exported file; nothing was sent."""


@dataclass(frozen=True)
class SlackFile:
    """The parts of a Slack file object an import needs."""

    id: str
    name: str
    size: int | None
    mimetype: str
    filetype: str
    url: str

    @classmethod
    def from_payload(cls, raw: Any) -> SlackFile | None:
        """The file from a `file_input` state entry's `files[0]`; None if it is not one."""
        if not isinstance(raw, Mapping):
            return None
        url = raw.get("url_private_download") or raw.get("url_private")
        if not isinstance(url, str) or not url:
            return None
        size = raw.get("size")
        return cls(
            id=str(raw.get("id") or ""),
            name=str(raw.get("name") or raw.get("title") or "the file"),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            mimetype=str(raw.get("mimetype") or ""),
            filetype=str(raw.get("filetype") or ""),
            url=url,
        )


@dataclass(frozen=True)
class DirectoryExport:
    """An export sent: how many people, under what file name, into which DM channel."""

    count: int
    filename: str
    channel: str


def require_coordinator(session: Session, slack_user_id: str, *, action: str) -> None:
    """Raise `NotAllowed` (audited at the edge) unless the Slack user is a coordinator."""
    if not is_coordinator(session, slack_user_id):
        raise NotAllowed(_REFUSALS[action], action=action, subject_type="directory", subject_id="-")


# --- export --------------------------------------------------------------------------------
def export_csv(session: Session) -> tuple[bytes, int]:
    """The directory CSV exactly as `python -m bot directory export` writes it, and the count."""
    buffer = io.StringIO(newline="")
    count = export_directory(session, buffer)
    return buffer.getvalue().encode("utf-8"), count


def export_filename(now: datetime, tz: ZoneInfo) -> str:
    """The exported file's name, e.g. `directory-2026-11-23.csv`."""
    return f"directory-{now.astimezone(tz):%Y-%m-%d}.csv"


def send_directory_export(
    sessions: SessionFactory, upload: FileUploader, *, user: str, now: datetime, tz: ZoneInfo
) -> DirectoryExport:
    """Upload the directory CSV into the coordinator's DM with the bot, and audit it.

    Raises `NotAllowed` for anyone else; `upload` raises `ExportFailed` when the platform
    refuses the file.
    """
    with sessions() as session:
        require_coordinator(session, user, action=EXPORT_ACTION)
        content, count = export_csv(session)
    filename = export_filename(now, tz)
    channel = upload(user, content, filename, export_comment(count, now, tz))
    with transaction(sessions) as session:
        audit.record(
            session,
            at=now,
            actor=user,
            action="directory.exported",
            subject_type="directory",
            subject_id="-",
            count=count,
        )
    return DirectoryExport(count=count, filename=filename, channel=channel)


# --- import --------------------------------------------------------------------------------
def upload_problem(file: SlackFile) -> str | None:
    """Why an uploaded file can't be imported, judged before downloading it; None if it may."""
    name = file.name.lower()
    if name.endswith((".xlsx", ".xls", ".ods", ".numbers")):
        return (
            f"{file.name} is a spreadsheet, not a CSV file. Save it as 'CSV UTF-8 "
            "(Comma delimited)' and upload that."
        )
    looks_csv = (
        name.endswith(".csv") or file.filetype.lower() == "csv" or file.mimetype in CSV_MIMETYPES
    )
    if not looks_csv:
        return f"{file.name} is not a CSV file. Upload the directory saved as CSV UTF-8."
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        return (
            f"{file.name} is {_megabytes(file.size)}; the most I can import at once is "
            f"{_megabytes(MAX_UPLOAD_BYTES)}. Split it into smaller files."
        )
    return None


def is_slack_file_url(url: str, api_url: str) -> bool:
    """True when `url` is where Slack serves files: https on Slack's own domains, or the same
    place as `SLACK_API_URL` (a proxy, or the fake in tests). The bot token goes nowhere else."""
    parts, api = urlsplit(url), urlsplit(api_url)
    if (parts.scheme, parts.netloc) == (api.scheme, api.netloc):
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and any(
        host == domain or host.endswith("." + domain) for domain in SLACK_FILE_DOMAINS
    )


def fetch_csv(file: SlackFile, *, token: str, api_url: str) -> str:
    """Download an uploaded file with the bot token and return it as CSV text.

    Raises `UnusableFile` when it is too big, not text, not UTF-8, or Slack won't hand it over.
    """
    if not is_slack_file_url(file.url, api_url):
        log.warning("refused to fetch file %s from an address that is not Slack's", file.id)
        raise UnusableFile(f"I couldn't fetch {file.name}: it isn't stored in Slack.")
    request = urllib.request.Request(file.url, method="GET")
    # Unredirected: if Slack redirects (to a login page), the token is not sent on.
    request.add_unredirected_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
            content_type = str(response.headers.get("Content-Type") or "").lower()
            data = response.read(MAX_UPLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        log.warning("download of file %s failed: HTTP %s", file.id, exc.code)
        raise UnusableFile(
            f"I couldn't download {file.name} from Slack (HTTP {exc.code}). "
            "Please try again; if it keeps failing, the app may need the files:read scope."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        log.warning("download of file %s failed: %s", file.id, type(exc).__name__)
        raise UnusableFile(
            f"I couldn't download {file.name} from Slack. Please try again in a minute."
        ) from None
    if content_type.startswith("text/html"):
        # Slack's known answer to a token that may not read the file: a sign-in page.
        log.warning("download of file %s returned a web page, not the file", file.id)
        raise UnusableFile(
            f"Slack sent a sign-in page instead of {file.name}. The app needs the files:read "
            "scope: ask whoever manages the Slack app to reinstall it."
        )
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnusableFile(
            f"{file.name} is bigger than {_megabytes(MAX_UPLOAD_BYTES)}, the most I can import "
            "at once. Split it into smaller files."
        )
    return decode_csv(data, file.name)


def decode_csv(data: bytes, name: str) -> str:
    """Uploaded bytes as text: UTF-8 (a BOM is fine); raises `UnusableFile` otherwise."""
    if data.startswith(b"PK\x03\x04") or b"\x00" in data:
        raise UnusableFile(
            f"{name} is not a CSV file (it looks like a spreadsheet or other binary file). "
            "Save it as 'CSV UTF-8 (Comma delimited)' and upload that."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnusableFile(
            f"{name} is not UTF-8 text (byte {data[exc.start]:#04x} at position {exc.start}). "
            "In your spreadsheet choose Save As → 'CSV UTF-8 (Comma delimited)' and upload it "
            "again."
        ) from None


def import_uploaded_csv(
    sessions: SessionFactory,
    file: SlackFile,
    *,
    token: str,
    api_url: str,
    now: datetime,
    vocabulary: Vocabulary,
    actor: str,
    tz: ZoneInfo,
    dry_run: bool = False,
    resumable: Resumable | None = None,
) -> ImportReport:
    """Fetch an uploaded CSV and import it as `actor` (or with `dry_run`, only report what
    would change; dates local to `tz`); a bad row never stops the good ones. With
    `resumable`, one cut short and done again reports the whole file.

    Raises `UnusableFile` (and imports nothing) when the file as a whole can't be used.
    """
    with sessions() as session:
        require_coordinator(session, actor, action=IMPORT_ACTION)
    try:
        text = fetch_csv(file, token=token, api_url=api_url)
        return import_directory(
            sessions,
            io.StringIO(text, newline=""),
            now=now,
            vocabulary=vocabulary,
            actor=actor,
            dry_run=dry_run,
            resumable=resumable,
            tz=tz,
        )
    except UnusableFile as exc:
        raise UnusableFile(f"{exc.message} Nothing was imported.") from None
    except DirectoryError as exc:
        raise UnusableFile(f"I couldn't import {file.name}: {exc}. Nothing was imported.") from None


def import_key(submission: str) -> str:
    """The key the import submitted as `submission` saves its progress under."""
    return f"directory-import:{submission}"


def import_report_key(submission: str) -> str:
    """The dedupe key of the report of the import submitted as `submission`."""
    return f"{import_key(submission)}:report"


def import_reported(session: Session, submission: str) -> bool:
    """Whether the import submitted as `submission` was done and reported already (its
    process stopped before it could record that: the due work must not do it again)."""
    return is_owed(session, import_report_key(submission))


def owe_import_report(
    session: Session,
    report: ImportReport,
    *,
    now: datetime,
    actor: str,
    file_name: str,
    submission: str | None = None,
) -> None:
    """Owe the coordinator their import report by DM, and audit the import as a whole; once
    per `submission` (the form's, when it was saved to be done again if cut short), whose
    saved progress is then dropped."""
    message = report_message(report, file_name)
    key = import_report_key(submission) if submission else None
    if submission:
        forget_import_progress(session, import_key(submission))
    owe_post(session, now=now, channel=actor, text=message.summary, view=message, dedupe_key=key)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="directory.checked" if report.dry_run else "directory.imported",
        subject_type="directory",
        subject_id="-",
        added=len(report.added),
        updated=len(report.updated),
        unchanged=len(report.unchanged),
        rejected=len(report.rejected),
    )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
