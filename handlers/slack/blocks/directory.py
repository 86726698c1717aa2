"""Block Kit for the directory in Slack: the import modal, its "importing…" view, the report
DM and the words that go with an exported file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.directory.views import (
    ImportReportMessage,
    export_comment,
    import_summary,
    report_footnote,
    report_message,
    report_pieces,
)
from handlers.slack.blocks import (
    MODAL_TITLE_LIMIT,
    SECTION_TEXT_LIMIT,
    Block,
    context,
    escape,
    plain,
    section,
)

__all__ = ["export_comment", "import_summary"]

if TYPE_CHECKING:
    from bot.directory.service import ImportReport

IMPORT_CALLBACK_ID = "directory_import"
FILE_BLOCK_ID = "directory_file"
FILE_ACTION_ID = "csv_file"
DRY_RUN_BLOCK_ID = "directory_dry_run"
DRY_RUN_ACTION_ID = "dry_run"
# Code blocks of the report shown at most; the message keeps well inside Slack's limits.
MAX_REPORT_SECTIONS = 10
_CODE_FENCE = "```"


def import_modal(max_megabytes: int) -> dict[str, Any]:
    """The modal a coordinator uploads a directory CSV into."""
    return {
        "type": "modal",
        "callback_id": IMPORT_CALLBACK_ID,
        "title": plain("Import the directory", MODAL_TITLE_LIMIT),
        "submit": plain("Import", MODAL_TITLE_LIMIT),
        "close": plain("Cancel", MODAL_TITLE_LIMIT),
        "blocks": [
            section(
                "Upload the directory as a CSV file: UTF-8, comma-separated, with a header row, "
                f"at most {max_megabytes} MB. People are added or updated by `slack_user_id` "
                "(or `teams_user_id` for people on Teams); "
                "a bad row never stops the good ones, and I'll DM you a report."
            ),
            {
                "type": "input",
                "block_id": FILE_BLOCK_ID,
                "label": plain("Directory CSV file"),
                "element": {
                    "type": "file_input",
                    "action_id": FILE_ACTION_ID,
                    "filetypes": ["csv"],
                    "max_files": 1,
                },
            },
            {
                "type": "input",
                "block_id": DRY_RUN_BLOCK_ID,
                "optional": True,
                "label": plain("Check first?"),
                "element": {
                    "type": "checkboxes",
                    "action_id": DRY_RUN_ACTION_ID,
                    "options": [
                        {
                            "text": plain("Only check the file: report what would change"),
                            "description": plain("Nothing is saved."),
                            "value": DRY_RUN_ACTION_ID,
                        }
                    ],
                },
            },
            context(
                "Columns: `slack_user_id`, `name`, `email`, `roles`, `school`, `school_urn`, "
                "`phase`, `region`, `expertise`, `capacity`, `teams_user_id`, "
                "`preferred_platform`, `trust`, `available_from`. `/support directory export` "
                "sends you the current directory to edit."
            ),
        ],
    }


def notice_view(title: str, text: str) -> dict[str, Any]:
    """A small modal that replaces the import form with a few words."""
    return {
        "type": "modal",
        "title": plain(title, MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "blocks": [section(text)],
    }


def importing_view(file_name: str, *, dry_run: bool = False) -> dict[str, Any]:
    """What the modal shows once the file is accepted: the import runs after it closes."""
    if dry_run:
        return notice_view(
            "Checking…",
            f"Checking *{escape(file_name)}*; nothing will be saved. I'll DM you what an import "
            "would change.",
        )
    return notice_view(
        "Importing…", f"Importing *{escape(file_name)}*. I'll DM you the report when it's done."
    )


def import_report_message(report: ImportReport, file_name: str) -> tuple[str, list[Block]]:
    """The report DM's text and blocks, straight from an import's report."""
    message = report_message(report, file_name)
    return message.summary, import_report_blocks(message)


def import_report_blocks(message: ImportReportMessage) -> list[Block]:
    """The report DM: the summary, then the full report in code blocks, cut with a note if long."""
    body = escape(message.report).replace(_CODE_FENCE, "'''")
    size = SECTION_TEXT_LIMIT - 2 * len(_CODE_FENCE) - 10
    pieces, hidden = report_pieces(body, size, MAX_REPORT_SECTIONS)
    blocks: list[Block] = [section(message.summary)]
    blocks += [section(f"{_CODE_FENCE}{piece}{_CODE_FENCE}") for piece in pieces]
    if footnote := report_footnote(message, hidden):
        blocks.append(context(footnote))
    return blocks
