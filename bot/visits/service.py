"""Open classrooms, the rules: asking to visit, offering to host schools, the first accept
winning, booking a school day within the half term's capacity, and "was it useful?".

Every function takes a session and the services' context, changes state in the caller's
transaction, owes its messages there (the outbox) and records what happened in the audit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import InvalidInput, NotAllowed
from bot.core.vocabulary import Vocabulary
from bot.directory.people import person_by_user_id
from bot.outbox.owing import owe_post
from bot.reach.people import address_of, user_id_of
from bot.requests.tagging import infer_tags
from bot.visits.matching import HostCandidate, find_hosts
from bot.visits.messages import (
    offer_card,
    offer_ref,
    owe_to,
    tell_coordinators_no_host,
)
from bot.visits.views import DESCRIPTION_LIMIT, VisitDraft, VisitSummary
from storage.models import (
    Person,
    School,
    VisitOffer,
    VisitRequest,
    VisitStatus,
    VisitTag,
)

_ONE_DAY = timedelta(days=1)
NOT_IN_DIRECTORY = (
    "Only people in the directory can ask to visit another school. "
    "Please ask your coordinator to add you."
)


def visit_draft(text: str, vocabulary: Vocabulary) -> VisitDraft:
    """The visit form pre-filled from free text, areas inferred as for requests."""
    text = text.strip()[:DESCRIPTION_LIMIT]
    return VisitDraft(description=text, tags=tuple(m.slug for m in infer_tags(text, vocabulary)))


def summarise_visit(session: Session, visit: VisitRequest, vocabulary: Vocabulary) -> VisitSummary:
    """The visit as the people involved see it."""
    visitor = session.get(Person, visit.requester_id)
    host = session.get(Person, visit.host_id) if visit.host_id else None
    school = session.get(School, visit.school_id) if visit.school_id else None
    host_school = session.get(School, visit.host_school_id) if visit.host_school_id else None
    slugs = session.exec(select(VisitTag.tag_slug).where(VisitTag.visit_id == visit.id)).all()
    return VisitSummary(
        id=visit.id or 0,
        visitor=user_id_of(visitor) if visitor else "",
        visitor_name=visitor.name if visitor else "",
        visitor_school=school.name if school else None,
        description=visit.description,
        areas=tuple(vocabulary.label(s) for s in sorted(slugs)),
        status=visit.status,
        host=user_id_of(host) if host else None,
        host_school=host_school.name if host_school else None,
        visit_date=visit.visit_date,
    )


# --- asking ----------------------------------------------------------------------------------
def _checked_draft(draft: VisitDraft, vocabulary: Vocabulary) -> VisitDraft:
    description = draft.description.strip()
    errors: dict[str, str] = {}
    if not description:
        errors["description"] = "Please say what you would like to see."
    elif len(description) > DESCRIPTION_LIMIT:
        errors["description"] = f"Please keep it under {DESCRIPTION_LIMIT:,} characters."
    tags = tuple(t for t in draft.tags if t in vocabulary) or tuple(
        m.slug for m in infer_tags(description, vocabulary)
    )
    if not errors and not tags:
        errors["areas"] = "Which area of practice would you like to see? Pick one or more."
    if errors:
        raise InvalidInput(errors)
    return VisitDraft(description=description, tags=tags)


def ask_to_visit(
    session: Session, ctx: ServiceContext, *, actor: str, draft: VisitDraft, source_key: str
) -> VisitSummary:
    """Record a request to visit and offer it to host schools; a resubmitted form (the same
    `source_key`) finds the request it made the first time."""
    person = person_by_user_id(session, actor)
    if person is None or person.erased_at is not None or person.id is None:
        raise NotAllowed(
            NOT_IN_DIRECTORY, action="visit.request", subject_type="person", subject_id=actor
        )
    draft = _checked_draft(draft, ctx.vocabulary)
    existing = session.exec(
        select(VisitRequest).where(VisitRequest.source_key == source_key)
    ).first()
    if existing is not None:
        return summarise_visit(session, existing, ctx.vocabulary)
    visit = VisitRequest(
        requester_id=person.id,
        school_id=person.school_id,
        description=draft.description,
        source_key=source_key,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(visit)
    session.flush()
    for slug in draft.tags:
        session.add(VisitTag(visit_id=visit.id or 0, tag_slug=slug))
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.requested",
        subject_type="visit",
        subject_id=visit.id or 0,
        tags=list(draft.tags),
    )
    _offer_to_hosts(session, ctx, visit, person, draft.tags)
    return summarise_visit(session, visit, ctx.vocabulary)


def _offer_to_hosts(
    session: Session,
    ctx: ServiceContext,
    visit: VisitRequest,
    visitor: Person,
    tags: tuple[str, ...],
) -> None:
    today = ctx.calendar.local(ctx.now).date()
    hosts = find_hosts(
        session,
        tags,
        visitor=visitor,
        half=ctx.calendar.half_term_of(today),
        schools_wanted=ctx.settings.offer_count,
    )
    summary = summarise_visit(session, visit, ctx.vocabulary)
    if not hosts:
        _unmatched(
            session,
            ctx,
            visit,
            summary,
            reason="no school that hosts visits has staff with that expertise",
        )
        return
    for host in hosts:
        _invite(session, ctx, summary, host)
    schools = len({h.school.id for h in hosts})
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f"Thank you — your request to visit and see *{summary.areas_text()}* "
            f"(visit #{visit.id}) has gone to {_plural(len(hosts), 'colleague')} at "
            f"{_plural(schools, 'school')} that host visits. I'll tell you here when one accepts."
        ),
        cancellable=visit.id,
    )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.offered",
        subject_type="visit",
        subject_id=visit.id or 0,
        host_ids=[h.person.id for h in hosts],
    )


def _invite(
    session: Session, ctx: ServiceContext, summary: VisitSummary, host: HostCandidate
) -> None:
    """Offer the visit to one host, by DM with *Host this visit* and *Not this time*."""
    reasons = _reasons(host, ctx.vocabulary)
    offer = VisitOffer(
        visit_id=summary.id,
        host_id=host.person.id or 0,
        reasons=reasons,
        created_at=ctx.now,
        expires_at=invitation_expiry(ctx),
    )
    session.add(offer)
    session.flush()
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(host.person),
        text="Could your school host a visit?",
        view=offer_card(summary, offer.id or 0, reasons),
        ref=offer_ref(offer.id or 0),
    )


def invitation_expiry(ctx: ServiceContext) -> datetime:
    """When an invitation made now lapses: VISIT_OFFER_TIMEOUT_DAYS school days of working
    hours later (as offers of requests lapse after OFFER_TIMEOUT_HOURS)."""
    opens, closes = ctx.settings.working_hours
    day = datetime.combine(date.min, closes) - datetime.combine(date.min, opens)
    hours = ctx.settings.visit_offer_timeout_days * day / timedelta(hours=1)
    return ctx.calendar.add_working_hours(ctx.now, hours)


def _reasons(host: HostCandidate, vocabulary: Vocabulary) -> str:
    labels = ", ".join(vocabulary.label(t) for t in host.tags)
    return f"{host.school.name} hosts visits, and you know {labels}"


def _unmatched(
    session: Session,
    ctx: ServiceContext,
    visit: VisitRequest,
    summary: VisitSummary,
    *,
    reason: str,
) -> None:
    visit.status = VisitStatus.UNMATCHED
    visit.updated_at = ctx.now
    session.add(visit)
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f"Sorry — I couldn't find a school to host your visit to see *{summary.areas_text()}* "
            f"(visit #{visit.id}) yet: {reason}. The coordinators have been told and may find one."
        ),
    )
    tell_coordinators_no_host(
        session,
        ctx,
        visit_id=visit.id or 0,
        what=(
            f":school: Visit #{visit.id} ({summary.areas_text()}) from {summary.visitor_text()} "
            f"found no host: {reason}."
        ),
    )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.unmatched",
        subject_type="visit",
        subject_id=visit.id or 0,
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
