"""Submissions of the lifecycle's forms: the first visit, the agreement, a visit log, the
closing record, and a coordinator's *End this support*, *End a support…* and *Check-ins for
a support…*. Each is saved (once) before it is acknowledged; a problem with what was typed
goes back to the form beside the field."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from sqlmodel import Session

from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from bot.deployments.checkin_control import change_checkins
from bot.deployments.ending import end_support
from bot.deployments.service import (
    book_first_visit,
    draft_agreement,
    log_visit,
    parse_objectives,
    record_impact,
)
from bot.deployments.views import CHECKIN_CHANGES
from handlers.slack.blocks.deployments import (
    AGREEMENT_FORM,
    CHECKINS_FORM,
    END_ANY_FORM,
    END_FORM,
    IMPACT_FORM,
    LOG_FORM,
    VISIT_FORM,
)
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import int_value, tell, user_id_of, view_metadata, view_values
from handlers.slack.listeners.events.home import refresh_home
from handlers.slack.listeners.views.requests import message_view


def _days(raw: Any, field: str = "days") -> float | None:
    """A number of days from a number input ("1.5"); InvalidInput if it is not one."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput({field: "Please give a number of days, such as 1 or 0.5."}) from None


def _form_key(body: dict[str, Any]) -> str | None:
    """The submitted view's id: the same on a double submit of one form."""
    view = body.get("view")
    view_id = view.get("id") if isinstance(view, dict) else None
    return f"slack:{view_id}" if isinstance(view_id, str) and view_id else None


def _submit(
    ctx: SlackContext,
    ack: Ack,
    body: dict[str, Any],
    work: Callable[[Session, int], str],
    deployment_id: int | None = None,
) -> bool:
    """Save the form with its reply (once, if a double submit raced it), then acknowledge;
    whether it was saved. The deployment is the form's own (its metadata) unless given."""
    if deployment_id is None:
        deployment_id = int_value(str(view_metadata(body).get("deployment_id", "")))
    if deployment_id is None:
        ack(
            response_action="update",
            view=message_view("Not saved", "I couldn't tell which support this was."),
        )
        return False
    try:
        unit_of_work(
            ctx,
            lambda session: tell(ctx, body, work(session, deployment_id), session=session),
            then_ack=ack,
            retry_on_conflict=True,
        )
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
    except UserFacingError as exc:
        ack(response_action="update", view=message_view("Not saved", exc.message))
        if isinstance(exc, NotAllowed):
            tell(ctx, body, exc.message, refused=exc)
    else:
        return True
    return False


def on_visit(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The first-visit form."""
    on = view_values(body).get("visit_on")
    _submit(
        ctx,
        ack,
        body,
        lambda s, deployment_id: book_first_visit(
            s, ctx.context(), actor=user_id_of(body), deployment_id=deployment_id, on=on
        ),
    )


def on_agreement(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The agreement form (the supporter's)."""
    values = view_values(body)
    try:
        days = _days(values.get("days"))
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    _submit(
        ctx,
        ack,
        body,
        lambda s, deployment_id: draft_agreement(
            s,
            ctx.context(),
            actor=user_id_of(body),
            deployment_id=deployment_id,
            objectives=parse_objectives(str(values.get("objectives") or "")),
            expected_impact=str(values.get("impact") or ""),
            days_committed=days,
            review_on=values.get("review_on"),
        ),
    )


def on_log(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The visit-log form: days given and a note."""
    values = view_values(body)
    checkin_id = int_value(str(view_metadata(body).get("checkin_id") or ""))
    try:
        days = _days(values.get("days"))
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    _submit(
        ctx,
        ack,
        body,
        lambda s, deployment_id: log_visit(
            s,
            ctx.context(),
            actor=user_id_of(body),
            deployment_id=deployment_id,
            days=days,
            note=str(values.get("note") or ""),
            visited_on=values.get("visited_on"),
            checkin_id=checkin_id,
            form_key=_form_key(body),
        ),
    )


def _by_objective(values: dict[str, Any], prefix: str) -> dict[int, str]:
    found = {}
    for block_id, value in values.items():
        kind, _, raw_id = block_id.partition(":")
        objective_id = int_value(raw_id)
        if kind == prefix and objective_id is not None and isinstance(value, str) and value:
            found[objective_id] = value
    return found


def on_impact(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The closing form: ratings and comments per objective, and an overall comment."""
    values = view_values(body)
    _submit(
        ctx,
        ack,
        body,
        lambda s, deployment_id: record_impact(
            s,
            ctx.context(),
            actor=user_id_of(body),
            deployment_id=deployment_id,
            ratings=_by_objective(values, "rating"),
            comments=_by_objective(values, "comment"),
            overall=str(values.get("overall") or ""),
        ),
    )


def on_end(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A coordinator's *End this support* form: ended (once) before the ack, then their Home
    tab shows it."""
    reason = str(view_values(body).get("reason") or "")
    user = user_id_of(body)
    ended = _submit(
        ctx,
        ack,
        body,
        lambda s, deployment_id: end_support(
            s, ctx.context(), actor=user, deployment_id=deployment_id, reason=reason
        ),
    )
    if ended:
        refresh_home(ctx, user)


def on_end_any(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A coordinator's *End a support…* form: the support chosen from the menu ended (once)
    before the ack, as *End this support* ends it, then their Home tab shows it."""
    values = view_values(body)
    deployment_id = int_value(str(values.get("support") or ""))
    if deployment_id is None:
        ack(response_action="errors", errors={"support": "Please choose the support to end."})
        return
    reason = str(values.get("reason") or "")
    user = user_id_of(body)
    ended = _submit(
        ctx,
        ack,
        body,
        lambda s, chosen: end_support(
            s, ctx.context(), actor=user, deployment_id=chosen, reason=reason
        ),
        deployment_id=deployment_id,
    )
    if ended:
        refresh_home(ctx, user)


def on_checkins(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A coordinator's *Check-ins for a support…* form: the support chosen from the menu has its
    check-ins paused, resumed or snoozed (once) before the ack; then they are told what
    happened. A missing or forged choice goes back to the form, changing nothing."""
    values = view_values(body)
    deployment_id = int_value(str(values.get("support") or ""))
    change = values.get("change")
    errors = {}
    if deployment_id is None:
        errors["support"] = "Please choose the support."
    if change not in CHECKIN_CHANGES:
        errors["change"] = "Please choose what should happen to its check-ins."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    user = user_id_of(body)
    _submit(
        ctx,
        ack,
        body,
        lambda s, chosen: change_checkins(
            s, ctx.context(), actor=user, deployment_id=chosen, change=str(change)
        ),
        deployment_id=deployment_id,
    )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the lifecycle's forms."""
    app.view(VISIT_FORM)(partial(on_visit, ctx))
    app.view(AGREEMENT_FORM)(partial(on_agreement, ctx))
    app.view(LOG_FORM)(partial(on_log, ctx))
    app.view(IMPACT_FORM)(partial(on_impact, ctx))
    app.view(END_FORM)(partial(on_end, ctx))
    app.view(END_ANY_FORM)(partial(on_end_any, ctx))
    app.view(CHECKINS_FORM)(partial(on_checkins, ctx))
