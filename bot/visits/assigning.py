"""Open classrooms, a coordinator's hand: assigning a host to a visit nobody has taken.

The host must work at a school that hosts visits and has a place left this half term,
unless the coordinator overrides clearly; either way it is audited. The visit then goes on
as if that host had accepted: they pick the day, both are reminded, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed
from bot.core.text import escape
from bot.directory.people import is_coordinator, person_by_user_id
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_post, owe_update
from bot.reach.people import address_of, user_id_of
from bot.visits.hosting import locked_visit, withdraw_other_offers
from bot.visits.matching import visits_in_half_term
from bot.visits.messages import hosting_card, offer_ref, owe_to
from bot.visits.service import summarise_visit
from storage.models import OfferStatus, Person, School, VisitOffer, VisitRequest, VisitStatus

ASSIGNABLE = (VisitStatus.OFFERED, VisitStatus.UNMATCHED)
OVERRIDE_HINT = "To assign them anyway, add the word override to the command."


@dataclass(frozen=True)
class HostAssigned:
    """What an assignment did, for the coordinator's reply."""

    visit_id: int
    host: str  # the host's user id
    school: str
    overridden: tuple[str, ...]  # the rules the coordinator set aside


def assign_host(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    visit_id: int,
    host_user_id: str,
    override: bool = False,
) -> HostAssigned:
    """A coordinator makes `host_user_id` the host of visit `visit_id` (offered or unmatched).

    Refused (nothing changes) for anyone but a coordinator, a visit that has a host or has
    ended, someone not in the directory or without a school, the visitor themself, and —
    unless `override` — a school that does not host visits or is full this half term.
    """
    check_may_assign_host(session, actor=actor, visit_id=visit_id)
    visit = locked_visit(session, visit_id)
    if visit.status not in ASSIGNABLE:
        raise Conflict(_not_assignable(session, visit))
    host = person_by_user_id(session, host_user_id)
    if host is None or host.erased_at is not None or host.id is None:
        raise Conflict(f"<@{host_user_id}> isn't in the directory.")
    school = session.get(School, host.school_id) if host.school_id else None
    if school is None:
        raise Conflict(f"<@{host_user_id}> has no school in the directory, so can't host.")
    if host.id == visit.requester_id or school.id == visit.school_id:
        raise Conflict("The host must be at another school than the visitor's.")
    broken = _rules_broken(session, ctx, school)
    if broken and not override:
        raise Conflict(f"{escape(school.name)} {' and '.join(broken)}. {OVERRIDE_HINT}")
    _make_host(session, ctx, visit, host, school)
    _invite_assigned_host(session, ctx, visit, host)
    _tell_visitor_and_coordinators(session, ctx, visit, actor, host_user_id, school, broken)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.host_assigned",
        subject_type="visit",
        subject_id=visit_id,
        host_id=host.id,
        host_school_id=school.id,
        overridden=list(broken),
    )
    return HostAssigned(visit_id, host_user_id, school.name, tuple(broken))


def check_may_assign_host(session: Session, *, actor: str, visit_id: int) -> None:
    """NotAllowed for anyone but a coordinator (checked before any host is looked up)."""
    if not is_coordinator(session, actor):
        raise NotAllowed(
            "Only coordinators can assign a host to a visit.",
            action="visit.assign",
            subject_type="visit",
            subject_id=visit_id,
        )


def _not_assignable(session: Session, visit: VisitRequest) -> str:
    if visit.host_id is not None:
        host = session.get(Person, visit.host_id)
        who = f"<@{user_id_of(host)}>" if host else "someone"
        return f"Visit #{visit.id} already has a host ({who}), so there's nothing to assign."
    return f"Visit #{visit.id} is {visit.status}, so it can't be given a host now."


def _rules_broken(session: Session, ctx: ServiceContext, school: School) -> list[str]:
    """The hosting rules assigning a host at `school` would set aside, in words."""
    broken = []
    if not school.hosts_visits:
        broken.append("doesn't host visits in the directory")
    half = ctx.calendar.half_term_of(ctx.calendar.local(ctx.now).date())
    booked = visits_in_half_term(session, school.id or 0, half)
    if booked >= school.visits_per_half_term:
        broken.append(
            f"already has {booked} visit{'' if booked == 1 else 's'} in {half.label}, its "
            f"limit of {school.visits_per_half_term} per half term"
        )
    return broken


def _make_host(
    session: Session, ctx: ServiceContext, visit: VisitRequest, host: Person, school: School
) -> None:
    """The visit is accepted for `host`; every other open invitation is withdrawn."""
    visit.status, visit.host_id, visit.host_school_id = VisitStatus.ACCEPTED, host.id, school.id
    visit.accepted_at = visit.updated_at = ctx.now
    session.add(visit)
    withdraw_other_offers(
        session, ctx, visit.id or 0, host_school=school.name, keep_host_id=host.id
    )
    session.flush()


def _invite_assigned_host(
    session: Session, ctx: ServiceContext, visit: VisitRequest, host: Person
) -> None:
    """The host's invitation, marked accepted, with *Pick a date*: their open invitation's
    DM changes in place; someone never asked (or who had declined) gets a new DM, under the
    invitation's ref, so that the day they pick updates it as for any host."""
    offer = session.exec(
        select(VisitOffer).where(VisitOffer.visit_id == visit.id, VisitOffer.host_id == host.id)
    ).first()
    was_open = offer is not None and offer.status == OfferStatus.OPEN
    if offer is None:
        offer = VisitOffer(
            visit_id=visit.id or 0,
            host_id=host.id or 0,
            reasons="assigned by a coordinator",
            created_at=ctx.now,
        )
    offer.status, offer.responded_at = OfferStatus.ACCEPTED, ctx.now
    session.add(offer)
    session.flush()
    summary = summarise_visit(session, visit, ctx.vocabulary)
    text = "A coordinator has asked you to host this visit."
    if was_open:
        owe_update(
            session,
            now=ctx.now,
            update_of=offer_ref(offer.id or 0),
            text=text,
            view=hosting_card(summary),
        )
    else:
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(host),
            text=text,
            view=hosting_card(summary),
            ref=offer_ref(offer.id or 0),
        )


def _tell_visitor_and_coordinators(
    session: Session,
    ctx: ServiceContext,
    visit: VisitRequest,
    actor: str,
    host: str,
    school: School,
    broken: list[str],
) -> None:
    summary = summarise_visit(session, visit, ctx.vocabulary)
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f"Good news: the coordinators have arranged for <@{host}> at {escape(school.name)} "
            f"to host your visit to see *{summary.areas_text()}* (visit #{visit.id}). They'll "
            "pick a school day, and I'll tell you which."
        ),
        cancellable=visit.id,
    )
    anyway = f" (set aside: {escape(school.name)} {' and '.join(broken)})" if broken else ""
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=(
            f":school: Visit #{visit.id} ({summary.areas_text()}): <@{actor}> assigned <@{host}> "
            f"at {escape(school.name)} to host{anyway}."
        ),
    )
