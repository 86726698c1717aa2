"""Submission of the directory import modal: check the file, ack, then fetch and import it and
DM the coordinator the report.

The submission is saved before the ack (`handlers.slack.app`, as events are), so an import cut
short by a stopped process is done by the due work; its report is owed once per submission,
so that replay neither imports nor reports again one that was finished. Each batch renews the
claim on the saved submission and saves its outcome with it, so no second copy starts the
import while this one runs, and a replay reports the whole file, not only what it did itself.
A replay has no form to answer: what the form would have shown comes as a DM instead."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from sqlmodel import Session

from bot.core.errors import NotAllowed
from bot.directory.files import (
    IMPORT_ACTION,
    SlackFile,
    import_key,
    import_report_key,
    import_reported,
    import_uploaded_csv,
    owe_import_report,
    require_coordinator,
    upload_problem,
)
from bot.directory.service import Resumable
from bot.inbound.service import Claim, ClaimLost, keep_claim
from bot.outbox.flows import record_refusal
from bot.outbox.owing import owe_post
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
    inbound_claim,
    is_replay,
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


def on_import(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], context: Mapping[str, Any] | None = None
) -> None:
    """The import form: checked and acknowledged, then the file fetched and imported."""
    user = user_id_of(body)
    file = submitted_file(body)
    if file is None:
        _refuse(ctx, ack, body, context, "Choose a CSV file to import.")
        return
    try:
        look_up(ctx, lambda session: require_coordinator(session, user, action=IMPORT_ACTION))
    except NotAllowed as exc:
        refused, now = exc, ctx.clock.now()
        _refuse(
            ctx,
            ack,
            body,
            context,
            exc.message,
            record=lambda s: record_refusal(s, refused, actor=user, now=now),
            view=notice_view("Not imported", exc.message),
        )
        return
    if problem := upload_problem(file):
        _refuse(ctx, ack, body, context, problem)
        return
    dry_run = only_checking(body)
    ack(response_action="update", view=importing_view(file.name, dry_run=dry_run))
    # After the ack: downloading and importing may take longer than Slack's 3 seconds.
    with friendly_errors(ctx, body):
        _import_and_report(ctx, body, file, dry_run, inbound_claim(context))


def _import_and_report(
    ctx: SlackContext, body: dict[str, Any], file: SlackFile, dry_run: bool, claim: Claim | None
) -> None:
    """Fetch and import the file, then owe its report (once per submission, even replayed)."""
    user = user_id_of(body)
    submission = submission_id(body)
    held = _holding(ctx, claim)
    if submission and look_up(ctx, lambda session: import_reported(session, submission)):
        log.info("import %s was done and reported before; not again", submission)
        return
    try:
        report = import_uploaded_csv(
            ctx.sessions,
            file,
            token=ctx.settings.slack_bot_token or "",
            api_url=ctx.settings.slack_api_url,
            now=ctx.clock.now(),
            vocabulary=ctx.vocabulary,
            actor=user,
            tz=ctx.settings.tz,
            dry_run=dry_run,
            resumable=Resumable(import_key(submission), held) if submission else None,
        )

        def owe_report(session: Session) -> None:
            held(session)
            owe_import_report(
                session,
                report,
                now=ctx.clock.now(),
                actor=user,
                file_name=file.name,
                submission=submission,
            )

        unit_of_work(ctx, owe_report)
    except ClaimLost:
        log.warning("import %s taken over by another copy; left to it", submission)


def _holding(ctx: SlackContext, claim: Claim | None) -> Callable[[Session], None]:
    """What each of the import's transactions does first: renew this process's claim on the
    saved submission (`ClaimLost` once another copy has it); nothing if it was not saved."""
    if claim is None:
        return lambda session: None
    return lambda session: keep_claim(session, claim, now=ctx.clock.now())


def _refuse(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    context: Mapping[str, Any] | None,
    problem: str,
    *,
    record: Callable[[Session], None] | None = None,
    view: dict[str, Any] | None = None,
) -> None:
    """Refuse the form before importing anything: in the form itself (`view`, else the
    problem shown under the file), or, for a replay, whose form nobody is looking at, as
    the submission's one report by DM. `record` (an audit) is saved either way."""
    submission = submission_id(body)
    if not is_replay(context) or submission is None:
        if view is not None:
            ack(response_action="update", view=view)
        else:
            ack(response_action="errors", errors={FILE_BLOCK_ID: problem})
        if record is not None:
            unit_of_work(ctx, record)
        return
    text = f"I couldn't import the directory: {problem} Nothing was imported."

    def tell_once(session: Session) -> None:
        if record is not None:
            record(session)
        key = import_report_key(submission)
        owe_post(session, now=ctx.clock.now(), channel=user_id_of(body), text=text, dedupe_key=key)

    unit_of_work(ctx, tell_once)
    ack()  # once the report is owed: nobody waits on a replay's answer, but Bolt waits for it


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the directory import modal."""
    app.view(IMPORT_CALLBACK_ID)(partial(on_import, ctx))
