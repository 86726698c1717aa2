"""Flows across requests and routing: a request edited from its post also refreshes the DMs
of its open offers, so supporters see it as it now is."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.context import ServiceContext
from bot.requests.post_changes import PostChange, post_edited, update_from_post
from bot.routing.service import refresh_open_offers


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
