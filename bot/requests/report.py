"""Plain listings of requests for the CLI and coordinators (no Slack)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlmodel import Session, col, select

from bot.reach.people import user_id_of
from storage.models import Offer, Person, RequestTag, School, SupportRequest


def list_requests(session: Session, *, status: str | None = None) -> list[dict[str, Any]]:
    """Every request (optionally of one status), newest first, as plain dicts.

    People appear as Slack user ids; `assigned_to` is None until a supporter accepts.
    """
    query = select(SupportRequest).order_by(col(SupportRequest.id).desc())
    if status:
        query = query.where(SupportRequest.status == status)
    requests = list(session.exec(query))
    ids = [r.id for r in requests]
    if not ids:
        return []
    people = {p.id: user_id_of(p) for p in session.exec(select(Person))}
    schools = {s.id: s.name for s in session.exec(select(School))}
    tags: dict[int, list[str]] = defaultdict(list)
    for link in session.exec(
        select(RequestTag)
        .where(col(RequestTag.request_id).in_(ids))
        .order_by(col(RequestTag.tag_slug))
    ):
        tags[link.request_id].append(link.tag_slug)
    offers: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for offer in session.exec(
        select(Offer).where(col(Offer.request_id).in_(ids)).order_by(col(Offer.id))
    ):
        offers[offer.request_id].append(
            {
                "supporter": people.get(offer.supporter_id),
                "status": offer.status,
                "round": offer.round,
            }
        )
    return [
        {
            "id": r.id,
            "status": r.status,
            "requester": people.get(r.requester_id),
            "school": schools.get(r.school_id) if r.school_id else None,
            "tags": tags[r.id or 0],
            "urgency": r.urgency,
            "title": r.title,
            "source": r.source,
            "created_at": r.created_at.isoformat(),
            "offers": offers[r.id or 0],
            "assigned_to": people.get(r.assigned_id) if r.assigned_id else None,
        }
        for r in requests
    ]
