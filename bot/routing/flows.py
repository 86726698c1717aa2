"""Routing flows the listeners call: checks and views around offers, and flows across
requests and routing (an edited request refreshes the DMs of its open offers)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core.context import ServiceContext
from bot.core.errors import NotAllowed, NotFound
from bot.directory.people import is_coordinator, person_by_user_id
from bot.requests.intake import Outcome, edit_request, get_request, summarise
from bot.requests.post_changes import PostChange, post_edited, update_from_post
from bot.requests.views import Draft, RequestSummary
from bot.routing.service import confirm_request, offer_for_supporter, refresh_open_offers
from storage.models import OPEN, Offer


def offered_request_in_full(
    session: Session, ctx: ServiceContext, *, actor: str, offer_id: int
) -> tuple[RequestSummary, bool]:
    """The request behind `actor`'s offer in full, and whether its school may be shown.

    The school stays hidden until they accept, as in the offer DM itself (unless the settings
    show it before acceptance).
    """
    _, request, supporter = offer_for_supporter(session, offer_id, actor)
    summary = summarise(session, request, ctx.vocabulary)
    show_school = ctx.settings.show_school_before_accept or request.assigned_id == supporter.id
    return summary, show_school


def check_may_assign(session: Session, *, actor: str, request_id: int) -> None:
    """Refuse (NotAllowed) unless `actor` is a coordinator, who alone assign requests."""
    if not is_coordinator(session, actor):
        raise NotAllowed(
            "Only coordinators can assign requests.",
            action="request.assign",
            subject_type="request",
            subject_id=request_id,
        )


def edit_request_and_refresh_offers(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    request_id: int,
    draft: Draft,
    keep_description: bool,
) -> None:
    """Edit a request from its form, and owe every open offer's DM an update to match."""
    edit_request(
        session,
        ctx.vocabulary,
        now=ctx.now,
        actor=actor,
        request_id=request_id,
        draft=draft,
        keep_description=keep_description,
    )
    refresh_open_offers(session, ctx, request_id)


def find_support_if_new(
    session: Session, ctx: ServiceContext, *, actor: str, outcome: Outcome
) -> None:
    """Offer a just-submitted request to the best-matched supporters, unless it was already
    submitted (a resubmitted form finds the request it made the first time) or already sent
    out (the head pressed *Find support* between the form's acknowledgement and this)."""
    if not outcome.created:
        return
    if get_request(session, outcome.summary.id, for_update=True).status != OPEN:
        return
    confirm_request(session, ctx, actor=actor, request_id=outcome.summary.id)


def apply_post_edit(
    session: Session,
    ctx: ServiceContext,
    *,
    channel: str,
    ts: str,
    author: str,
    text: str,
    edited_ts: str,
) -> PostChange:
    """A head edited the post of a request: see `post_edited`; an updated request's open
    offers are refreshed in the same transaction."""
    change = post_edited(
        session, ctx, channel=channel, ts=ts, author=author, text=text, edited_ts=edited_ts
    )
    if change.result == "updated" and change.request_id is not None:
        refresh_open_offers(session, ctx, change.request_id)
    return change


def update_request_from_post(
    session: Session, ctx: ServiceContext, *, actor: str, request_id: int, text: str
) -> None:
    """The head pressed *Update the request*: see `update_from_post`; the request's open
    offers are refreshed in the same transaction."""
    update_from_post(session, ctx, actor=actor, request_id=request_id, text=text)
    refresh_open_offers(session, ctx, request_id)


def offer_held_for(session: Session, *, actor: str, request_id: int) -> int:
    """The id of the newest offer of request `request_id` made to `actor` (NotFound if none):
    where a chat names the request rather than the offer, as Teams' `suggest N` does."""
    person = person_by_user_id(session, actor)
    offer_id = (
        session.exec(
            select(Offer.id)
            .where(Offer.request_id == request_id, Offer.supporter_id == person.id)
            .order_by(col(Offer.id).desc())
        ).first()
        if person is not None
        else None
    )
    if offer_id is None:
        raise NotFound(f"Request #{request_id} wasn't offered to you, so I can't pass it on.")
    return offer_id
