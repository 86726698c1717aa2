"""Request flows the chat listeners call: who may see or change a request, and its forms."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.errors import NotAllowed
from bot.core.vocabulary import Vocabulary
from bot.directory.people import school_of
from bot.reach.people import is_user
from bot.requests.intake import get_request, may_change, may_view, request_tags, summarise
from bot.requests.views import Draft, RequestSummary
from storage.models import Person


def draft_for_editing(
    session: Session, vocabulary: Vocabulary, *, actor: str, request_id: int
) -> Draft:
    """The request as a draft for its edit form, if `actor` is its head or a coordinator."""
    request = get_request(session, request_id)
    if not may_change(session, request, actor):
        raise NotAllowed(
            "Only the head who asked for this support, or a coordinator, can edit it.",
            action="request.edit",
            subject_type="request",
            subject_id=request_id,
        )
    requester = session.get(Person, request.requester_id)
    school = school_of(session, requester) if requester else None
    summary = summarise(session, request, vocabulary)
    return Draft(
        title=request.title,
        description=request.description,
        tags=tuple(request_tags(session, request_id)),
        urgency=request.urgency,
        preferred_start=request.preferred_start,
        school_name=summary.school or (school.name if school else ""),
    )


def check_may_add_profile(session: Session, *, actor: str, request_id: int) -> None:
    """Refuse (NotAllowed) unless `actor` is the head who asked: only they add school details."""
    request = get_request(session, request_id)
    requester = session.get(Person, request.requester_id)
    if requester is None or not is_user(requester, actor):
        raise NotAllowed(
            "Only the head who asked can add their school's details.",
            action="person.profile",
            subject_type="request",
            subject_id=request_id,
        )


def request_in_full(
    session: Session, vocabulary: Vocabulary, *, actor: str, request_id: int
) -> RequestSummary:
    """The whole request, for those it is shared with: the head, coordinators, supporters asked."""
    request = get_request(session, request_id)
    if not may_view(session, request, actor):
        raise NotAllowed(
            "The details of a request are shared only with the head, coordinators "
            "and the supporters asked to help.",
            action="request.view",
            subject_type="request",
            subject_id=request_id,
        )
    return summarise(session, request, vocabulary)


def post_of_request(session: Session, request_id: int) -> tuple[str | None, str | None]:
    """The channel and ts of the post a request was captured from (None if not from a post)."""
    request = get_request(session, request_id)
    return request.channel_id, request.message_ts
