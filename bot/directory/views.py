"""What the directory's messages say: platform-neutral, for an adapter to render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.messages import message_view
from bot.core.text import chunk_text, escape

if TYPE_CHECKING:
    from bot.directory.service import ImportReport


@message_view("directory.import_report")
@dataclass(frozen=True)
class ImportReportMessage:
    """The import report DM: a one-line summary, then the full report as preformatted text."""

    summary: str
    report: str
    rejected: bool  # some rows were rejected: say how to fix them
    dry_run: bool = False  # only checked: nothing was saved


def report_message(report: ImportReport, file_name: str) -> ImportReportMessage:
    """The import report DM for `report` of `file_name`."""
    return ImportReportMessage(
        import_summary(report, file_name),
        report.render(),
        bool(report.rejected),
        dry_run=report.dry_run,
    )


def report_pieces(report: str, size: int, most: int) -> tuple[list[str], int]:
    """The report in at most `most` pieces of `size` characters each, and about how many of
    its lines are left out (0 when it all fits)."""
    pieces = chunk_text(report, size)
    hidden = sum(piece.count("\n") + 1 for piece in pieces[most:])
    return pieces[:most], hidden


def report_footnote(message: ImportReportMessage, hidden: int) -> str | None:
    """The line under the report: how to see what was left out, else what to do next."""
    if hidden:
        return (
            f"About {hidden} more lines of the report are not shown. Fix the rows above and "
            "import again, or run `python -m bot directory import FILE.csv` for everything."
        )
    if message.dry_run:
        return "Nothing was saved. Import the file to make these changes."
    if message.rejected:
        return "Fix the rejected rows and import the file again; the other rows are saved."
    return None


def import_summary(report: ImportReport, file_name: str) -> str:
    """One line: what the import did, for the notification and the top of the report."""
    icon = ":warning:" if report.rejected else ":white_check_mark:"
    what = "Directory check (nothing saved) of" if report.dry_run else "Directory import from"
    return (
        f"{icon} {what} {escape(file_name)}: {len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.rejected)} rejected."
    )


def export_comment(count: int, at: datetime, tz: ZoneInfo) -> str:
    """The words posted with an exported directory file."""
    local = at.astimezone(tz)
    people = f"{count} {'person' if count == 1 else 'people'}"
    return (
        f"The directory as of {local.day} {local:%B %Y, %H:%M}: {people}. Edit it in a "
        "spreadsheet, save as CSV UTF-8, then `/support directory import` to load the changes."
    )
