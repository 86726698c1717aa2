"""When a head edits or deletes the post (or DM) a request was captured from.

An edit updates the request while nobody has accepted it yet; once a supporter has, the head
is asked first (a button in the thread). A deletion never cancels anything by itself: the head
is asked by DM whether to cancel. Each reaction is owed at most once per edit or deletion, so
a replayed event changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed
from bot.core.messages import Action, Card, Confirm
from bot.outbox.owing import is_owed, owe_post, owe_update
from bot.reach.people import address_of, is_user, user_id_of
from bot.requests.intake import (
    DESCRIPTION_LIMIT,
    EDITABLE,
    LONG_POST_NOTE,
    find_by_source,
    get_request,
    guess_title,
    guess_urgency,
    may_change,
    message_source_key,
    refresh_card,
    request_tags,
    set_tags,
    summarise,
)
from bot.requests.tagging import infer_tags
from bot.requests.views import RequestUpdated
from storage.models import ACCEPTED, Person, SupportRequest

URGENCY_ORDER = ("routine", "soon", "urgent")
UPDATE_ACTION = "request_update_from_post"


@dataclass(frozen=True)
class PostChange:
    """What an edit or deletion of a request's post led to."""

    request_id: int | None
    result: str  # "ignored", "unchanged", "updated", "asked"


def _request_of_post(
    session: Session, channel: str, ts: str, author: str | None
) -> SupportRequest | None:
    """The request captured from this post (locked), if its author is the one who asked."""
    found = find_by_source(session, message_source_key(channel, ts))
    if found is None:
        return None
    request = get_request(session, found.id or 0, for_update=True)
    requester = session.get(Person, request.requester_id)
    if author is not None and (requester is None or not is_user(requester, author)):
        return None
    return request


def _apply_text(session: Session, request: SupportRequest, text: str, now: datetime) -> None:
    """The post's new text becomes the request's title and description (cut to the limit)."""
    request.title = guess_title(text)
    request.description = text[:DESCRIPTION_LIMIT]
    request.updated_at = now


def post_edited(
    session: Session,
    ctx: ServiceContext,
    *,
    channel: str,
    ts: str,
    author: str,
    text: str,
    edited_ts: str,
) -> PostChange:
    """The head edited the post `ts`: update its request while nobody has accepted it, ask the
    head (in the thread) once someone has, ignore it once the request is over."""
    request = _request_of_post(session, channel, ts, author)
    if request is None or not text.strip():
        return PostChange(None, "ignored")
    request_id = request.id or 0
    if text[:DESCRIPTION_LIMIT] == request.description:
        return PostChange(request_id, "unchanged")  # a reply or unfurl, not a new text
    if request.status in EDITABLE:
        _update_open_request(session, ctx, request, text)
        long_key = f"{_key(request_id)}:long:{edited_ts}"
        if len(text) > DESCRIPTION_LIMIT and not is_owed(session, long_key):
            owe_post(
                session,
                now=ctx.now,
                channel=channel,
                thread_ts=ts,
                text=LONG_POST_NOTE,
                dedupe_key=long_key,
            )
        return PostChange(request_id, "updated")
    if request.status != ACCEPTED or is_owed(session, f"{_key(request_id)}:edited:{edited_ts}"):
        return PostChange(request_id, "ignored")
    owe_post(
        session,
        now=ctx.now,
        channel=channel,
        thread_ts=ts,
        text="You've edited your post. Shall I update your request to match?",
        view=update_prompt(request_id, request.assigned_id is not None),
        ref=update_prompt_ref(request_id),
        dedupe_key=f"{_key(request_id)}:edited:{edited_ts}",
    )
    return PostChange(request_id, "asked")


def _key(request_id: int) -> str:
    return f"request:{request_id}:post"


def update_prompt_ref(request_id: int) -> str:
    """The outbox ref of the question asked after an accepted request's post was edited."""
    return f"request:{request_id}:post-edited"


def update_prompt(request_id: int, assigned: bool) -> Card:
    """The question asked in the thread when an accepted request's post is edited."""
    who = " Your supporter will be told." if assigned else ""
    return Card(
        (
            f"You've edited your post. Request #{request_id} is already under way, so I haven't "
            f"changed it. Shall I update it to match your post?{who}",
        ),
        (Action(UPDATE_ACTION, "Update the request", str(request_id), style="primary"),),
    )


def _update_open_request(
    session: Session, ctx: ServiceContext, request: SupportRequest, text: str
) -> None:
    """Apply an edited post to a request nobody has accepted yet.

    Areas of need found in the new text are added (none the head chose are dropped) and the
    urgency only ever goes up. (`bot.routing.flows` then refreshes the open offers' DMs.)"""
    _apply_text(session, request, text, ctx.now)
    guessed = guess_urgency(text)
    if URGENCY_ORDER.index(guessed) > URGENCY_ORDER.index(_known_urgency(request.urgency)):
        request.urgency = guessed
    inferred = [match.slug for match in infer_tags(text, ctx.vocabulary)]
    set_tags(session, request, sorted({*request_tags(session, request.id or 0), *inferred}))
    requester = session.get(Person, request.requester_id)
    audit.record(
        session,
        at=ctx.now,
        actor=user_id_of(requester) if requester else None,
        action="request.updated_from_post",
        subject_type="request",
        subject_id=request.id or 0,
    )
    refresh_card(session, summarise(session, request, ctx.vocabulary), now=ctx.now)


def _known_urgency(urgency: str) -> str:
    return urgency if urgency in URGENCY_ORDER else "routine"


def update_from_post(
    session: Session, ctx: ServiceContext, *, actor: str, request_id: int, text: str
) -> None:
    """The head pressed *Update the request*: the post's current `text` becomes the request's
    title and description, and the supporter (if any) is told. (`bot.routing.flows` then
    refreshes the open offers' DMs.)"""
    request = get_request(session, request_id, for_update=True)
    if not may_change(session, request, actor):
        raise NotAllowed(
            "Only the head who asked for this support, or a coordinator, can update it.",
            action="request.update",
            subject_type="request",
            subject_id=request_id,
        )
    if request.status not in (*EDITABLE, ACCEPTED):
        raise Conflict(f"This request is {request.status}, so it can't be updated now.")
    if not text.strip():
        raise Conflict("I can't find your post any more, so nothing was changed.")
    _apply_text(session, request, text, ctx.now)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="request.updated_from_post",
        subject_type="request",
        subject_id=request_id,
    )
    summary = summarise(session, request, ctx.vocabulary)
    refresh_card(session, summary, now=ctx.now)
    done = f"Done — request #{request_id} now matches your post."
    owe_update(
        session,
        now=ctx.now,
        update_of=update_prompt_ref(request_id),
        text=done,
        view=Card((done,)),
    )
    supporter = session.get(Person, request.assigned_id) if request.assigned_id else None
    if supporter is not None:
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(supporter),
            text=f"The school has updated request #{request_id}.",
            view=RequestUpdated(summary),
        )


def post_deleted(
    session: Session, ctx: ServiceContext, *, channel: str, deleted_ts: str
) -> PostChange:
    """The post a request came from was deleted: ask the head by DM whether to cancel (never
    cancel silently); if someone is already supporting them, say that it carries on."""
    request = _request_of_post(session, channel, deleted_ts, None)
    if request is None:
        return PostChange(None, "ignored")
    request_id = request.id or 0
    key = f"{_key(request_id)}:deleted"
    if is_owed(session, key) or request.status not in (*EDITABLE, ACCEPTED):
        return PostChange(request_id, "ignored")
    requester = session.get(Person, request.requester_id)
    if requester is None:
        return PostChange(request_id, "ignored")
    if request.status == ACCEPTED:
        text = (
            f"Your post asking for support (request #{request_id}) was deleted. The support is "
            "already under way, so nothing has changed; if it's no longer needed, please tell "
            "your supporter and your coordinator."
        )
        view = Card((text,))
    else:
        text = (
            f"Your post asking for support (request #{request_id}) was deleted. Do you want to "
            "cancel the request? If you still need support, there's nothing to do."
        )
        view = Card((text,), (_cancel_action(request_id),))
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(requester),
        text=text,
        view=view,
        dedupe_key=key,
    )
    return PostChange(request_id, "asked")


def _cancel_action(request_id: int) -> Action:
    return Action(
        "request_cancel",
        "Cancel request",
        str(request_id),
        style="danger",
        confirm=Confirm(
            "Cancel this request?",
            "Anyone who has been asked will be told it's no longer needed.",
            "Cancel request",
        ),
    )
