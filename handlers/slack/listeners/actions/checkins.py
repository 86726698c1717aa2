"""Buttons and menus on check-in DMs: answer, note modals, snooze, cadence, pause, resume."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.checkins.service import (
    LESS_OFTEN_DAYS,
    ON_TRACK,
    SNOOZED,
    answer_checkin,
    change_cadence,
    check_may_answer,
    pause_checkins,
    resume_checkins,
)
from bot.core.errors import NotFound
from bot.entry.runtime import Runtime
from handlers.slack.blocks.checkins import attention_modal, completed_modal
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)
from storage.db import run_once


def _checkin_id(body: dict[str, Any]) -> int:
    value = int_value(action_value(body).partition(":")[0])
    if value is None:
        raise NotFound("That button doesn't point at a check-in I know.")
    return value


def _run(
    runtime: Runtime, ack: Ack, body: dict[str, Any], work: Any, *, reply: bool = False
) -> Any:
    """One transaction (once more if a double click raced it), owing the reply it returns if
    asked, then the ack (only now: a 200 is a promise), then delivery of what it owed."""

    def work_and_reply(session: Session) -> Any:
        result = work(session)
        if reply:
            tell(runtime, body, result, session=session)
        return result

    result = run_once(runtime.sessions, work_and_reply)
    ack()
    runtime.deliverer.kick()
    return result


def register(app: App, runtime: Runtime) -> None:
    """Listen to the check-in DM's buttons and menus."""

    def answer(ack: Ack, body: dict[str, Any], outcome: str) -> None:
        checkin_id = _checkin_id(body)
        _run(
            runtime,
            ack,
            body,
            lambda session: answer_checkin(
                session,
                runtime.context(),
                actor=user_id_of(body),
                checkin_id=checkin_id,
                outcome=outcome,
            ),
        )

    @app.action("checkin_on_track")
    def on_track(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            answer(ack, body, ON_TRACK)

    @app.action("checkin_snooze")
    def on_snooze(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            answer(ack, body, SNOOZED)

    def open_note(body: dict[str, Any], client: WebClient, view: Any) -> None:
        checkin_id = _checkin_id(body)
        with runtime.sessions() as session:
            check_may_answer(
                session, runtime.context(), actor=user_id_of(body), checkin_id=checkin_id
            )
        client.views_open(trigger_id=body["trigger_id"], view=view(checkin_id))

    @app.action("checkin_needs_attention")
    def on_needs_attention(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()  # opening a form changes nothing, and the trigger lasts three seconds
        with friendly_errors(runtime, body):
            open_note(body, client, attention_modal)

    @app.action("checkin_completed")
    def on_completed(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            open_note(body, client, completed_modal)

    @app.action("checkin_cadence")
    def on_cadence(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            checkin_id = _checkin_id(body)
            choice = action_value(body).partition(":")[2]
            actor = user_id_of(body)
            if choice == "pause":
                _run(
                    runtime,
                    ack,
                    body,
                    lambda session: pause_checkins(
                        session, runtime.context(), actor=actor, checkin_id=checkin_id
                    ),
                    reply=True,
                )
                return
            days = int_value(choice)
            if days is None:
                raise NotFound("I don't know that choice.")
            _run(
                runtime,
                ack,
                body,
                lambda session: change_cadence(
                    session, runtime.context(), actor=actor, checkin_id=checkin_id, days=days
                ),
                reply=True,
            )

    @app.action("checkin_less_often")
    def on_less_often(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            checkin_id = _checkin_id(body)
            _run(
                runtime,
                ack,
                body,
                lambda session: change_cadence(
                    session,
                    runtime.context(),
                    actor=user_id_of(body),
                    checkin_id=checkin_id,
                    days=LESS_OFTEN_DAYS,
                ),
                reply=True,
            )

    @app.action("checkin_stop")
    def on_stop(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            checkin_id = _checkin_id(body)
            _run(
                runtime,
                ack,
                body,
                lambda session: pause_checkins(
                    session, runtime.context(), actor=user_id_of(body), checkin_id=checkin_id
                ),
                reply=True,
            )

    @app.action("checkin_resume")
    def on_resume(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            checkin_id = _checkin_id(body)
            _run(
                runtime,
                ack,
                body,
                lambda session: resume_checkins(
                    session, runtime.context(), actor=user_id_of(body), checkin_id=checkin_id
                ),
                reply=True,
            )
