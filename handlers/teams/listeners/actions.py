"""Card buttons (`Action.Execute`, an `adaptiveCard/action` invoke): accept or decline an
offer, release a deployment (or, for a coordinator, end it), send out, edit or cancel a
request, give a newcomer's school details, answer or snooze a check-in; and when check-ins
come (`checkins`), the steps of a deployment (`lifecycle`), open classrooms (`visits`), team
deployments (`teamwork`) and the coordinators' audit trail (`audit`).

Each button's `data` carries the same action id and value as its Slack twin, and runs the same
core function, so the database decides exactly as for a Slack click ("the first Accept wins").
The change is committed before the invoke is answered; the answer is a short message the
clicker sees at once (or, for a form built from the database, the form itself in place of
the card, and once it is saved, what was saved), while every card the change touches
(every offer of the request, for everyone, on either platform) is updated through the
outbox. A refusal (taken already, not yours…) is answered with its friendly words and
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from microsoft_teams.api.activities.invoke.adaptive_card import AdaptiveCardInvokeActivity
from microsoft_teams.api.models.adaptive_card import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
)
from microsoft_teams.api.models.invoke_response import AdaptiveCardInvokeResponse
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.checkins.service import (
    COMPLETED,
    NEEDS_ATTENTION,
    ON_TRACK,
    SNOOZED,
    answer_checkin,
    answered_words,
)
from bot.core.errors import NotAllowed, UserFacingError
from bot.deployments.ending import end_support
from bot.deployments.views import END_SUPPORT
from bot.outbox.flows import record_refusal
from bot.requests.intake import SHOW_REQUEST, cancel_request, show_request
from bot.routing.service import accept_offer, confirm_request, decline_offer, release_deployment
from handlers.teams.cards import Element, mention_names, teams_text
from handlers.teams.context import TeamsContext, unit_of_work
from handlers.teams.listeners.audit import AUDIT_STEPS
from handlers.teams.listeners.checkins import CHECKIN_STEPS
from handlers.teams.listeners.common import BUSY, actor_of, name_of, remember
from handlers.teams.listeners.forms import edit_description, save_school_details
from handlers.teams.listeners.home import FIND_STEPS
from handlers.teams.listeners.lifecycle import STEPS as LIFECYCLE_STEPS
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.teamwork import TEAM_STEPS
from handlers.teams.listeners.values import id_of
from handlers.teams.listeners.visits import VISIT_STEPS
from handlers.teams.sender import BARE_MENTION, mentioned_names

log = logging.getLogger(__name__)

# Only a button this version does not know (from an old card, or forged) gets this.
NOT_ON_TEAMS = (
    "Sorry, that button doesn't work in Teams yet (or it's from an old card). "
    "You can do it in Slack, or ask your coordinator."
)

Work = Callable[[Session, TeamsContext, str, int, dict[str, Any]], str]


def _accept(session: Session, ctx: TeamsContext, actor: str, offer_id: int, _: Any) -> str:
    accept_offer(session, ctx.services.context(), actor=actor, offer_id=offer_id)
    return "Thank you: it's yours. I've told the school and the coordinators."


def _decline(session: Session, ctx: TeamsContext, actor: str, offer_id: int, data: Any) -> str:
    reason = str(data.get("reason") or "").strip() or None
    decline_offer(session, ctx.services.context(), actor=actor, offer_id=offer_id, reason=reason)
    return "Thanks for letting me know. I'll offer it to someone else."


def _release(session: Session, ctx: TeamsContext, actor: str, deployment: int, _: Any) -> str:
    release_deployment(session, ctx.services.context(), actor=actor, deployment_id=deployment)
    return "Thanks for letting me know. I'm finding someone else for the school."


def _end(session: Session, ctx: TeamsContext, actor: str, deployment: int, data: Any) -> str:
    reason = str(data.get("reason") or "")
    return end_support(
        session, ctx.services.context(), actor=actor, deployment_id=deployment, reason=reason
    )


def _confirm(session: Session, ctx: TeamsContext, actor: str, request_id: int, _: Any) -> str:
    confirm_request(session, ctx.services.context(), actor=actor, request_id=request_id)
    return "I'm offering it to the best-matched system leaders now."


def _cancel(session: Session, ctx: TeamsContext, actor: str, request_id: int, _: Any) -> str:
    now = ctx.services.clock.now()
    cancel_request(session, ctx.services.vocabulary, now=now, actor=actor, request_id=request_id)
    return "Your request has been cancelled."


def _show(session: Session, ctx: TeamsContext, actor: str, request_id: int, _: Any) -> str:
    now = ctx.services.clock.now()
    show_request(session, ctx.services.vocabulary, now=now, actor=actor, request_id=request_id)
    return "Here's your request as I understood it: check it on the card, then send it out."


def _answer(outcome: str) -> Work:
    def answer(session: Session, ctx: TeamsContext, actor: str, checkin: int, data: Any) -> str:
        note = str(data.get("note") or "") or None
        services = ctx.services.context()
        answered = answer_checkin(
            session, services, actor=actor, checkin_id=checkin, outcome=outcome, note=note
        )
        return answered_words(services, answered)

    return answer


ACTIONS: dict[str, Work] = {
    "offer_accept": _accept,
    "offer_decline": _decline,
    "deployment_release": _release,
    END_SUPPORT: _end,
    "request_confirm": _confirm,
    "request_cancel": _cancel,
    SHOW_REQUEST: _show,
    "request_edit": edit_description,
    "request_profile": save_school_details,
    "checkin_on_track": _answer(ON_TRACK),
    "checkin_needs_attention": _answer(NEEDS_ATTENTION),
    "checkin_completed": _answer(COMPLETED),
    "checkin_snooze": _answer(SNOOZED),
}


# Buttons whose value is more than an id ("12:visit"); each parses its own value.
STEPS: dict[str, Step] = {
    **LIFECYCLE_STEPS,
    **VISIT_STEPS,
    **TEAM_STEPS,
    **AUDIT_STEPS,
    **CHECKIN_STEPS,
    **FIND_STEPS,
}


def _message(
    text: str, names: Mapping[str, str] | None = None
) -> AdaptiveCardActionMessageResponse:
    """A short message in Teams Markdown, like every text the bot shows (`teams_text`);
    a bare mention `<@ID>` shows `names[ID]`."""
    with mention_names(names or {}):
        return AdaptiveCardActionMessageResponse(value=teams_text(text))


def _reply(result: str | Element, names: Mapping[str, str]) -> Any:
    """A short message, or a card in place of the one clicked (a form, or what was saved)."""
    if isinstance(result, str):
        return _message(result, names)
    return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(result))


async def _refusal(ctx: TeamsContext, text: str) -> Any:
    """A refusal's friendly words, anyone it mentions by id named."""
    if not BARE_MENTION.search(text):
        return _message(text)
    sessions = ctx.services.sessions

    def names() -> dict[str, str]:
        with sessions() as session:
            return mentioned_names(session, text)

    return _message(text, await run_in_threadpool(names))


def _work_for(action: str, value: str) -> Step | None:
    """The step a button runs, or None for one this version doesn't know."""
    if action in STEPS:
        return STEPS[action]
    work, target_id = ACTIONS.get(action), id_of(value)
    if work is None or target_id is None:
        return None
    return lambda session, ctx, actor, _raw, data: work(session, ctx, actor, target_id, data)


async def on_card_action(ctx: TeamsContext, activity: AdaptiveCardInvokeActivity) -> Any:
    """Run the button's action for whoever pressed it; answer with what happened."""
    data = dict(activity.value.action.data or {})
    value = str(data.get("value") or "")
    work = _work_for(str(data.get("action") or ""), value)
    actor = actor_of(activity)
    if work is None or not actor:
        return _message(NOT_ON_TEAMS)

    data["actor_name"] = name_of(activity)  # from Teams, never from the card
    data["card_id"] = str(activity.reply_to_id or "")  # the message the card is in

    def act(session: Session) -> tuple[str | Element, dict[str, str]]:
        remember(session, activity, ctx)
        result = work(session, ctx, actor, value, data)
        return result, mentioned_names(session, result) if isinstance(result, str) else {}

    try:
        result, names = await unit_of_work(ctx, act)
    except UserFacingError as exc:
        log.info("Teams action %s by %s refused: %s", data["action"], actor, type(exc).__name__)
        if isinstance(exc, NotAllowed):  # audited apart: the refused change was rolled back
            refused, now = exc, ctx.services.clock.now()
            await unit_of_work(ctx, lambda s: record_refusal(s, refused, actor=actor, now=now))
        return await _refusal(ctx, exc.message)
    except OperationalError:
        log.exception("database busy or unavailable")
        return _message(BUSY)
    except Exception:  # a bug: a kind answer, not a 500 (the log filter withholds details)
        log.exception("Teams action %s on %s by %s failed", data["action"], value, actor)
        return _message(BUSY)
    log.info("Teams action %s on %s by %s", data["action"], value, actor)
    return _reply(result, names)


def register(app: App, ctx: TeamsContext) -> None:
    """Listen to every `Action.Execute` button the bot's cards carry."""

    @app.on_card_action_execute
    async def card_action(
        activity_ctx: ActivityContext[AdaptiveCardInvokeActivity],
    ) -> AdaptiveCardInvokeResponse:
        return await on_card_action(ctx, activity_ctx.activity)
