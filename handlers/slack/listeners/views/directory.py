"""Submission of the directory import modal: check the file, ack, then fetch and import it and
DM the coordinator the report.

The submission is saved before the ack (`handlers.slack.app`, as events are), so an import cut
short by a stopped process is done by the due work; its report is owed once per submission,
so that replay neither imports nor reports again one that was finished."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import NotAllowed
from bot.directory.files import (
    IMPORT_ACTION,
    SlackFile,
    import_reported,
    import_uploaded_csv,
    owe_import_report,
    require_coordinator,
    upload_problem,
)
from bot.outbox.flows import record_refusal
from handlers.slack.blocks.directory import (
    DRY_RUN_ACTION_ID,
    DRY_RUN_BLOCK_ID,
    FILE_ACTION_ID,
    FILE_BLOCK_ID,
    IMPORT_CALLBACK_ID,
    importing_view,
    notice_view,
)
from handlers.slack.context import SlackContext, look_up, unit_of_work
from handlers.slack.listeners.common import (
    friendly_errors,
    submission_id,
    user_id_of,
)

log = logging.getLogger(__name__)


def submitted_file(body: dict[str, Any]) -> SlackFile | None:
    """The file chosen in the modal's file input, if any."""
    found: Any = body
    for key in ("view", "state", "values", FILE_BLOCK_ID, FILE_ACTION_ID, "files"):
        found = found.get(key) if isinstance(found, dict) else None
    return SlackFile.from_payload(found[0]) if isinstance(found, list) and found else None


def only_checking(body: dict[str, Any]) -> bool:
    """Whether the coordinator ticked "Only check the file" (a dry run)."""
    found: Any = body
    for key in ("view", "state", "values", DRY_RUN_BLOCK_ID, DRY_RUN_ACTION_ID):
        found = found.get(key) if isinstance(found, dict) else None
    chosen = found.get("selected_options") if isinstance(found, dict) else None
    return isinstance(chosen, list) and any(
        isinstance(option, dict) and option.get("value") == DRY_RUN_ACTION_ID for option in chosen
    )


def on_import(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The import form: checked and acknowledged, then the file fetched and imported."""
    user = user_id_of(body)
    file = submitted_file(body)
    if file is None:
        ack(response_action="errors", errors={FILE_BLOCK_ID: "Choose a CSV file to import."})
        return
    try:
        look_up(ctx, lambda session: require_coordinator(session, user, action=IMPORT_ACTION))
    except NotAllowed as exc:
        ack(response_action="update", view=notice_view("Not imported", exc.message))
        refused, now = exc, ctx.clock.now()
        unit_of_work(ctx, lambda s: record_refusal(s, refused, actor=user, now=now))
        return
    if problem := upload_problem(file):
        ack(response_action="errors", errors={FILE_BLOCK_ID: problem})
        return
    dry_run = only_checking(body)
    ack(response_action="update", view=importing_view(file.name, dry_run=dry_run))

    # After the ack: downloading and importing may take longer than Slack's 3 seconds.
    submission = submission_id(body)
    with friendly_errors(ctx, body):
        if submission and look_up(ctx, lambda session: import_reported(session, submission)):
            log.info("import %s was done and reported before; not again", submission)
            return
        report = import_uploaded_csv(
            ctx.sessions,
            file,
            token=ctx.settings.slack_bot_token or "",
            api_url=ctx.settings.slack_api_url,
            now=ctx.clock.now(),
            vocabulary=ctx.vocabulary,
            actor=user,
            dry_run=dry_run,
        )
        unit_of_work(
            ctx,
            lambda session: owe_import_report(
                session,
                report,
                now=ctx.clock.now(),
                actor=user,
                file_name=file.name,
                submission=submission,
            ),
        )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the directory import modal."""
    app.view(IMPORT_CALLBACK_ID)(partial(on_import, ctx))
