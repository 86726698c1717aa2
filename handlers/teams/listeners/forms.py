"""The inline forms on Teams cards (Teams has no modals here): a newcomer's school details and
a request's edited description. Each runs the same core flow as its Slack modal; a problem
with what was typed is raised as `InvalidInput`, answered in words, and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session

from bot.requests.flows import check_may_add_profile, draft_for_editing
from bot.requests.intake import save_profile, validate
from bot.routing.flows import edit_request_and_refresh_offers
from handlers.teams.context import TeamsContext


def _field(data: dict[str, Any], name: str) -> str:
    return str(data.get(name) or "").strip()


def save_school_details(
    session: Session, ctx: TeamsContext, actor: str, request_id: int, data: dict[str, Any]
) -> str:
    """*Save school details*: the head who asked becomes a head of that school in the
    directory, and their waiting requests go ahead (Slack's profile modal)."""
    check_may_add_profile(session, actor=actor, request_id=request_id)
    save_profile(
        session,
        ctx.services.vocabulary,
        now=ctx.services.clock.now(),
        user=actor,
        user_name=_field(data, "actor_name") or actor,
        school_name=_field(data, "school"),
        phase=_field(data, "phase") or None,
        region=_field(data, "region") or None,
        urn=_field(data, "urn") or None,
    )
    return "Thank you: I've noted your school. Check your request and press Find support."


def edit_description(
    session: Session, ctx: TeamsContext, actor: str, request_id: int, data: dict[str, Any]
) -> str:
    """*Edit* → *Save*: the request with its new description (Slack's edit modal, the other
    fields as they were), its open offers refreshed to match."""
    services = ctx.services
    draft = draft_for_editing(session, services.vocabulary, actor=actor, request_id=request_id)
    draft = validate(
        replace(draft, description=_field(data, "description")),
        services.vocabulary,
        today=services.clock.now().astimezone(services.settings.tz).date(),
        need_profile=False,
    )
    edit_request_and_refresh_offers(
        session,
        services.context(),
        actor=actor,
        request_id=request_id,
        draft=draft,
        keep_description=False,
    )
    return "Thank you: your request has been updated."
