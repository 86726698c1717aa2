"""Buttons and menus on check-in DMs: answer, note modals, snooze, cadence, pause, resume."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.checkins.service import (
    LESS_OFTEN_DAYS,
    ON_TRACK,
    SNOOZED,
    answer_checkin,
    answered_words,
    change_cadence,
    check_may_answer,
    pause_checkins,
    resume_checkins,
)
from bot.core.errors import NotFound
from handlers.slack.blocks.checkins import attention_modal, completed_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)


def _checkin_id(body: dict[str, Any]) -> int:
    value = int_value(action_value(body).partition(":")[0])
    if value is None:
        raise NotFound("That button doesn't point at a check-in I know.")
    return value


def _run(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], work: Any, *, reply: bool = False
) -> Any:
    """One unit of work (once more if a double click raced it), owing the reply it returns if
    asked, then the ack (only now: a 200 is a promise), then delivery of what it owed."""

    def work_and_reply(session: Session) -> Any:
        result = work(session)
        if reply:
            tell(ctx, body, result, session=session)
        return result

    return unit_of_work(ctx, work_and_reply, then_ack=ack, retry_on_conflict=True)


def _answer(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], outcome: str, *, reply: bool = False
) -> None:
    """Record the answer; if `reply`, tell the person the core's words for it (a snooze says
    when the next check-in comes, as Teams does), else the updated DM says it all."""
    checkin_id = _checkin_id(body)

    def answer(session: Session) -> str:
        services = ctx.context()
        answered = answer_checkin(
            session, services, actor=user_id_of(body), checkin_id=checkin_id, outcome=outcome
        )
        return answered_words(services, answered)

    _run(ctx, ack, body, answer, reply=reply)


def on_track(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*On track*: the check-in answered; acknowledged once saved."""
    with friendly_errors(ctx, body, ack):
        _answer(ctx, ack, body, ON_TRACK)


def on_snooze(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Snooze a week*: the check-in snoozed, and when the next comes said; acknowledged once
    saved."""
    with friendly_errors(ctx, body, ack):
        _answer(ctx, ack, body, SNOOZED, reply=True)


def _open_note(ctx: SlackContext, body: dict[str, Any], client: WebClient, view: Any) -> None:
    checkin_id = _checkin_id(body)
    unit_of_work(
        ctx,
        lambda session: check_may_answer(
            session, ctx.context(), actor=user_id_of(body), checkin_id=checkin_id
        ),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view(checkin_id))


def on_needs_attention(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient
) -> None:
    """*Needs attention*: open the note form."""
    ack()  # opening a form changes nothing, and the trigger lasts three seconds
    with friendly_errors(ctx, body):
        _open_note(ctx, body, client, attention_modal)


def on_completed(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Completed*: open the impact-note form."""
    ack()
    with friendly_errors(ctx, body):
        _open_note(ctx, body, client, completed_modal)


def on_cadence(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The cadence menu: check in every N days, or pause; acknowledged once saved."""
    with friendly_errors(ctx, body, ack):
        checkin_id = _checkin_id(body)
        choice = action_value(body).partition(":")[2]
        actor = user_id_of(body)
        if choice == "pause":
            _run(
                ctx,
                ack,
                body,
                lambda session: pause_checkins(
                    session, ctx.context(), actor=actor, checkin_id=checkin_id
                ),
                reply=True,
            )
            return
        days = int_value(choice)
        if days is None:
            raise NotFound("I don't know that choice.")
        _run(
            ctx,
            ack,
            body,
            lambda session: change_cadence(
                session, ctx.context(), actor=actor, checkin_id=checkin_id, days=days
            ),
            reply=True,
        )


def on_less_often(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Less often*: check in every LESS_OFTEN_DAYS days; acknowledged once saved."""
    _change_checkins(ctx, ack, body, partial(change_cadence, days=LESS_OFTEN_DAYS))


def on_stop(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Stop check-ins*: pause them; acknowledged once saved."""
    _change_checkins(ctx, ack, body, pause_checkins)


def on_resume(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Resume check-ins*; acknowledged once saved."""
    _change_checkins(ctx, ack, body, resume_checkins)


def _change_checkins(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], change: Callable[..., Any]
) -> None:
    """Apply one change to the clicked check-in's deployment, then acknowledge and reply."""
    with friendly_errors(ctx, body, ack):
        checkin_id = _checkin_id(body)
        actor = user_id_of(body)
        _run(
            ctx,
            ack,
            body,
            lambda session: change(session, ctx.context(), actor=actor, checkin_id=checkin_id),
            reply=True,
        )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the check-in DM's buttons and menus."""
    app.action("checkin_on_track")(partial(on_track, ctx))
    app.action("checkin_snooze")(partial(on_snooze, ctx))
    app.action("checkin_needs_attention")(partial(on_needs_attention, ctx))
    app.action("checkin_completed")(partial(on_completed, ctx))
    app.action("checkin_cadence")(partial(on_cadence, ctx))
    app.action("checkin_less_often")(partial(on_less_often, ctx))
    app.action("checkin_stop")(partial(on_stop, ctx))
    app.action("checkin_resume")(partial(on_resume, ctx))
