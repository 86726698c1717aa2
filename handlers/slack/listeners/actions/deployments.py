"""Buttons of the deployment lifecycle (in DMs and on App Home): open the first-visit,
agreement, visit-log and closing forms and a coordinator's *End this support*, *End a
support…* and *Check-ins for a support…* forms; confirm the agreement; answer the review;
skip a step; get the one-page summary."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotFound
from bot.deployments import checkin_control
from bot.deployments import views as ids
from bot.deployments.ending import NOT_A_COORDINATOR, may_end
from bot.deployments.finding import check_may_find
from bot.deployments.record import send_summary
from bot.deployments.service import (
    agreement_form,
    answer_review,
    confirm_agreement,
    impact_form,
    involvement,
    skip_step,
)
from handlers.slack.blocks.deployments import (
    agreement_modal,
    checkins_modal,
    end_any_modal,
    end_modal,
    impact_modal,
    log_modal,
    visit_modal,
)
from handlers.slack.context import SlackContext, look_up, unit_of_work
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)
from handlers.slack.listeners.events.home import refresh_if_from_home
from storage.models import END_REASON_LIMIT


def _target(body: dict[str, Any]) -> tuple[int, str]:
    """The deployment id a button points at, and what follows it in the value."""
    head, _, rest = action_value(body).partition(":")
    deployment_id = int_value(head)
    if deployment_id is None:
        raise NotFound("That button doesn't point at a support I know.")
    return deployment_id, rest


def _change(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    work: Callable[[Session, int, str], str],
) -> None:
    """One change (retried once if a double click raced it), its reply owed with it, then
    the ack (a 200 is a promise), then the Home tab refreshed if that is where it was."""
    with friendly_errors(ctx, body, ack):
        deployment_id, rest = _target(body)

        def change_and_reply(session: Session) -> None:
            tell(ctx, body, work(session, deployment_id, rest), session=session)

        unit_of_work(ctx, change_and_reply, then_ack=ack, retry_on_conflict=True)
    refresh_if_from_home(ctx, body)


def _open(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    form: Callable[[Session, int, str], dict[str, Any]],
) -> None:
    """Open a form built from the database (after checking who may fill it in)."""
    ack()  # opening a form changes nothing, and the trigger lasts three seconds
    with friendly_errors(ctx, body):
        deployment_id, rest = _target(body)
        view = unit_of_work(ctx, lambda session: form(session, deployment_id, rest))
        client.views_open(trigger_id=body["trigger_id"], view=view)


def on_book_visit(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Book first visit*: the date form (the head or the supporter)."""

    def form(session: Session, deployment_id: int, _: str) -> dict[str, Any]:
        involvement(
            session,
            ctx.context(),
            actor=user_id_of(body),
            deployment_id=deployment_id,
            action="visit.book",
        )
        return visit_modal(deployment_id)

    _open(ctx, ack, body, client, form)


def on_agreement(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Draft the agreement*: the form, holding any earlier draft (the supporter only)."""

    def form(session: Session, deployment_id: int, _: str) -> dict[str, Any]:
        actor = user_id_of(body)
        return agreement_modal(
            agreement_form(session, ctx.context(), actor=actor, deployment_id=deployment_id)
        )

    _open(ctx, ack, body, client, form)


def on_log_visit(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Log a visit* (App Home, or a check-in DM whose value names the check-in)."""

    def form(session: Session, deployment_id: int, rest: str) -> dict[str, Any]:
        part = involvement(
            session,
            ctx.context(),
            actor=user_id_of(body),
            deployment_id=deployment_id,
            action="visit.log",
        )
        return log_modal(deployment_id, int_value(rest), supporter=part.role == "supporter")

    _open(ctx, ack, body, client, form)


def on_impact(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Rate progress* / *Add your comments*: the closing form."""

    def form(session: Session, deployment_id: int, _: str) -> dict[str, Any]:
        actor = user_id_of(body)
        return impact_modal(
            impact_form(session, ctx.context(), actor=actor, deployment_id=deployment_id)
        )

    _open(ctx, ack, body, client, form)


def on_end(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*End this support* (a coordinator, on App Home): the form asking why."""

    def form(session: Session, deployment_id: int, _: str) -> dict[str, Any]:
        may_end(session, actor=user_id_of(body), deployment_id=deployment_id)
        return end_modal(deployment_id, END_REASON_LIMIT)

    _open(ctx, ack, body, client, form)


def on_find_to_end(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*End a support…* (a coordinator, on App Home): the form to find any active support and
    say why it is ending."""
    _open_finder(ctx, ack, body, client, end_any_modal(END_REASON_LIMIT), NOT_A_COORDINATOR)


def on_find_for_checkins(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient
) -> None:
    """*Check-ins for a support…* (a coordinator, on App Home): the form to find any active
    support and pause, resume or snooze its check-ins."""
    _open_finder(ctx, ack, body, client, checkins_modal(), checkin_control.NOT_A_COORDINATOR)


def _open_finder(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    view: dict[str, Any],
    refusal: str,
) -> None:
    """Open a coordinator's form that finds any active support; anyone else hears `refusal`
    (audited)."""
    ack()  # opening a form changes nothing, and the trigger lasts three seconds
    with friendly_errors(ctx, body):
        look_up(
            ctx, lambda session: check_may_find(session, actor=user_id_of(body), refusal=refusal)
        )
        client.views_open(trigger_id=body["trigger_id"], view=view)


def on_confirm(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Confirm agreement* (the head); acknowledged once saved."""
    actor = user_id_of(body)
    _change(
        ctx,
        ack,
        body,
        client,
        lambda s, deployment_id, _: confirm_agreement(
            s, ctx.context(), actor=actor, deployment_id=deployment_id
        ),
    )


def on_review(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Continue* / *Adjust* / *Close* at the mid-point review; acknowledged once saved."""
    actor = user_id_of(body)
    _change(
        ctx,
        ack,
        body,
        client,
        lambda s, deployment_id, decision: answer_review(
            s, ctx.context(), actor=actor, deployment_id=deployment_id, decision=decision
        ),
    )


def on_skip(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Skip* a step (first visit, agreement, review, closing record); audited."""
    actor = user_id_of(body)
    _change(
        ctx,
        ack,
        body,
        client,
        lambda s, deployment_id, step: skip_step(
            s, ctx.context(), actor=actor, deployment_id=deployment_id, step=step
        ),
    )


def on_summary(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Summary*: the one-page HTML summary, sent as a file in the person's DM."""
    actor = user_id_of(body)
    _change(
        ctx,
        ack,
        body,
        client,
        lambda s, deployment_id, _: send_summary(
            s, ctx.context(), actor=actor, deployment_id=deployment_id
        ),
    )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the lifecycle's buttons."""
    app.action(ids.BOOK_VISIT)(partial(on_book_visit, ctx))
    app.action(ids.DRAFT_AGREEMENT)(partial(on_agreement, ctx))
    app.action(ids.LOG_VISIT)(partial(on_log_visit, ctx))
    app.action(ids.IMPACT)(partial(on_impact, ctx))
    app.action(ids.END_SUPPORT)(partial(on_end, ctx))
    app.action(ids.FIND_TO_END)(partial(on_find_to_end, ctx))
    app.action(ids.FIND_FOR_CHECKINS)(partial(on_find_for_checkins, ctx))
    app.action(ids.CONFIRM_AGREEMENT)(partial(on_confirm, ctx))
    app.action(re.compile(f"^{ids.REVIEW}_(continue|adjust|close)$"))(partial(on_review, ctx))
    app.action(re.compile(f"^{ids.SKIP}_(visit|agreement|review|impact)$"))(partial(on_skip, ctx))
    app.action(ids.SUMMARY)(partial(on_summary, ctx))
