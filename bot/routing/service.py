"""Routing: offer a confirmed request to the best-matched supporters; the first accept wins.

The ranking itself is pure (`bot.routing.matching`); this module loads candidates from the
directory, records offers, and makes acceptance atomic in the database: a conditional
UPDATE of the request from `offered` to `accepted` decides the winner, so any number of
simultaneous clicks, in any number of processes, produce exactly one deployment.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, update
from sqlmodel import Session, col, select

from bot.checkins.service import cancel_future_checkins, schedule_for_new_deployment
from bot.core import audit
from bot.core.clock import as_utc
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.messages import Card
from bot.core.settings import Settings
from bot.core.text import escape
from bot.core.vocabulary import Vocabulary
from bot.directory.people import is_coordinator, person_by_user_id, roles_of
from bot.members.service import load_of, loads
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_post, owe_update
from bot.reach.people import address_of, is_user, mention, platform_for, user_id_of
from bot.requests.intake import get_request, post_ref, refresh_card, request_tags, summarise
from bot.requests.views import CoordinatorAlert, OfferClosed, RequestSummary
from bot.routing.matching import (
    NO_RULES,
    Candidate,
    Match,
    MatchRules,
    Need,
    rule_exclusion_reason,
    rules_objection,
)
from bot.routing.ranking_sql import rank_in_sql
from bot.routing.views import Accepted, AssignedNotice, OfferInvitation, supporter_line
from bot.teamwork.flows import invite_shadow
from storage.claims import claim_rows
from storage.models import (
    ACCEPTED,
    EXPIRED,
    OFFERED,
    OPEN,
    SUPPORTER_ROLES,
    Deployment,
    DeploymentStatus,
    Offer,
    OfferStatus,
    Person,
    PersonExpertise,
    PersonRole,
    Platform,
    RequestStatus,
    School,
    SupportRequest,
)

NOBODY_MATCHES = "no available supporter matches"
# Supporters looked at to explain why nobody could be offered a request.
_EXPLAINED = 200


@dataclass
class RoutingOutcome:
    """What a routing step did."""

    request_id: int
    offered: list[str] = field(default_factory=list)  # Slack ids of supporters offered
    escalated: bool = False
    message: str = ""


# --- candidates ------------------------------------------------------------------------------
def load_candidates(session: Session) -> list[Candidate]:
    """Everyone with a supporter role as ranking sees them: the whole-directory reference
    that the SQL ranking (`bot.routing.ranking_sql`) is tested against."""
    supporter_ids = set(
        session.exec(
            select(col(PersonRole.person_id)).where(col(PersonRole.role).in_(SUPPORTER_ROLES))
        )
    )
    if not supporter_ids:
        return []
    people = session.exec(
        select(Person).where(col(Person.id).in_(supporter_ids), col(Person.erased_at).is_(None))
    ).all()
    roles: dict[int, set[str]] = defaultdict(set)
    for role in session.exec(
        select(PersonRole).where(col(PersonRole.person_id).in_(supporter_ids))
    ):
        roles[role.person_id].add(role.role)
    tags: dict[int, set[str]] = defaultdict(set)
    for link in session.exec(
        select(PersonExpertise).where(col(PersonExpertise.person_id).in_(supporter_ids))
    ):
        tags[link.person_id].add(link.tag_slug)
    active = loads(session)  # deployments led, and those joined as a colleague
    last = dict(
        session.exec(
            select(Deployment.supporter_id, func.max(Deployment.started_at)).group_by(
                col(Deployment.supporter_id)
            )
        ).all()
    )
    schools = {s.id: s for s in session.exec(select(School))}
    candidates = []
    for person in people:
        school = schools.get(person.school_id)
        candidates.append(
            Candidate(
                person_id=person.id or 0,
                user_id=user_id_of(person),
                address=address_of(person),
                name=person.name,
                roles=frozenset(roles[person.id or 0]),
                tags=frozenset(tags[person.id or 0]),
                school_id=person.school_id,
                phase=school.phase if school else None,
                region=school.region if school else None,
                capacity=person.capacity,
                active_deployments=int(active.get(person.id or 0, 0)),
                last_deployed_at=_aware(last.get(person.id or 0)),
                available=person.available,
                trust=school.trust if school else None,
                available_from=person.available_from,
            )
        )
    return candidates


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def need_of(
    session: Session,
    request: SupportRequest,
    *,
    rules: MatchRules = MatchRules(),
    today: date | None = None,
) -> Need:
    """The request as matching sees it, excluding everyone already asked and everyone who
    has supported it before (assigned by hand, then released or reassigned away)."""
    school = session.get(School, request.school_id) if request.school_id else None
    asked = set(session.exec(select(Offer.supporter_id).where(Offer.request_id == request.id)))
    asked |= set(
        session.exec(select(Deployment.supporter_id).where(Deployment.request_id == request.id))
    )
    return Need(
        request_id=request.id or 0,
        tags=frozenset(request_tags(session, request.id or 0)),
        school_id=request.school_id,
        phase=school.phase if school else None,
        region=school.region if school else None,
        excluded_person_ids=frozenset(asked),
        requester_person_id=request.requester_id,
        trust=school.trust if school else None,
        today=today,
        rules=rules,
    )


def rules_of(settings: Settings) -> MatchRules:
    """The hub's matching rules from `EXCLUDE_SAME_TRUST`, `PHASE_MATCH` and `REGION_MATCH`."""
    return MatchRules(
        exclude_same_trust=settings.exclude_same_trust,
        require_phase=settings.phase_match == "require",
        require_region=settings.region_match == "require",
    )


def rank_for(
    session: Session,
    request: SupportRequest,
    vocabulary: Vocabulary,
    *,
    limit: int | None = None,
    only_person_id: int | None = None,
    ctx: ServiceContext | None = None,
) -> list[Match]:
    """The best `limit` candidates for a request right now (all when None), ranked in SQL,
    under the hub's rules and availability dates as of `ctx` (the default rules without it)."""
    labels = {tag.slug: tag.label for tag in vocabulary.tags}
    need = (
        need_of(session, request)
        if ctx is None
        else need_of(session, request, rules=rules_of(ctx.settings), today=_today(ctx))
    )
    return rank_in_sql(session, need, limit=limit, tag_labels=labels, only_person_id=only_person_id)


def _today(ctx: ServiceContext) -> date:
    return ctx.now.astimezone(ctx.settings.tz).date()


def why_nobody_matches(session: Session, ctx: ServiceContext, request: SupportRequest) -> str:
    """Why no supporter can be offered a request, for the coordinators' alert: the hub's
    rules and availability dates that left out people who would otherwise fit, counted."""
    strict = need_of(session, request, rules=rules_of(ctx.settings), today=_today(ctx))
    relaxed = replace(strict, rules=NO_RULES, today=None)
    left_out = rank_in_sql(session, relaxed, limit=_EXPLAINED, tag_labels={})
    reasons = Counter(
        reason
        for match in left_out
        if (reason := rule_exclusion_reason(strict, match.candidate)) is not None
    )
    if not reasons:
        return NOBODY_MATCHES
    counted = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
    return f"{NOBODY_MATCHES}; left out: {counted}"


# --- offering --------------------------------------------------------------------------------
def confirm_request(
    session: Session, ctx: ServiceContext, *, actor: str, request_id: int
) -> RoutingOutcome:
    """The head (or a coordinator) confirms a captured request: offer it now."""
    request = get_request(session, request_id, for_update=True)
    person = person_by_user_id(session, actor)
    if not (person and person.id == request.requester_id) and not is_coordinator(session, actor):
        raise NotAllowed(
            "Only the head who asked for this support, or a coordinator, can send it out.",
            action="request.confirm",
            subject_type="request",
            subject_id=request_id,
        )
    if request.status != OPEN:
        raise Conflict(_already(request.status))
    if request.awaiting_profile:
        raise Conflict("Please add your school's details first (the button above).")
    if not request_tags(session, request_id):
        raise Conflict("Please choose at least one area of need first (press Edit).")
    return offer_next_round(session, ctx, request, actor=actor)


def _already(status: RequestStatus) -> str:
    return {
        OFFERED: "I'm already finding support for this request.",
        ACCEPTED: "This request has already been accepted.",
    }.get(status, f"This request is {status}, so it can't be sent out now.")


def offer_next_round(
    session: Session, ctx: ServiceContext, request: SupportRequest, *, actor: str | None
) -> RoutingOutcome:
    """Offer the request to the next best `OFFER_COUNT` candidates, or escalate."""
    outcome = RoutingOutcome(request_id=request.id or 0)
    if request.offer_round >= ctx.settings.max_offer_rounds:
        return _escalate(session, ctx, request, outcome, reason="no one accepted in time")
    matches = rank_for(session, request, ctx.vocabulary, limit=ctx.settings.offer_count, ctx=ctx)
    if not matches:
        reason = why_nobody_matches(session, ctx, request)
        return _escalate(session, ctx, request, outcome, reason=reason)
    request.offer_round += 1
    request.status = OFFERED
    request.offered_at = request.offered_at or ctx.now
    request.updated_at = ctx.now
    expires = ctx.calendar.add_working_hours(ctx.now, ctx.settings.offer_timeout_hours)
    summary = summarise(session, request, ctx.vocabulary)
    for match in matches:
        offer = Offer(
            request_id=request.id or 0,
            supporter_id=match.candidate.person_id,
            round=request.offer_round,
            score=float(len(match.covered_tags)),
            reasons=match.reasons,
            created_at=ctx.now,
            expires_at=expires,
        )
        session.add(offer)
        session.flush()
        owe_post(
            session,
            now=ctx.now,
            channel=match.candidate.address or match.candidate.user_id,
            text=f"Can you help a school with {_labels_of(summary)}?",
            view=_offer_view(summary, offer, ctx),
            ref=f"offer:{offer.id}",
        )
        outcome.offered.append(match.candidate.user_id)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="request.offered",
        subject_type="request",
        subject_id=request.id or 0,
        round=request.offer_round,
        supporters=[m.candidate.person_id for m in matches],
    )
    refresh_card(session, summarise(session, request, ctx.vocabulary), now=ctx.now)
    outcome.message = f"Offered to {len(matches)} supporter(s)."
    return outcome


def _escalate(
    session: Session,
    ctx: ServiceContext,
    request: SupportRequest,
    outcome: RoutingOutcome,
    *,
    reason: str,
) -> RoutingOutcome:
    """Nobody (more) to offer: tell the head honestly and alert coordinators to assign by hand."""
    first_time = request.escalated_at is None
    request.escalated_at = ctx.now
    request.updated_at = ctx.now
    request.status = EXPIRED  # nobody took it: coordinators assign by hand from here
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="request.escalated",
        subject_type="request",
        subject_id=request.id or 0,
        reason=reason,
    )
    summary = summarise(session, request, ctx.vocabulary)
    refresh_card(session, summary, now=ctx.now)
    if first_time:
        _reply_in_thread(
            session,
            ctx,
            request,
            "I haven't found an available system leader for this yet, so I've asked the "
            "coordinators to find someone by hand. You'll hear here as soon as someone is "
            "lined up.",
        )
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"Request #{summary.id} needs someone assigned by hand ({reason}).",
        view=CoordinatorAlert(summary, reason=reason),
        ref=f"request:{summary.id}:alert:{ctx.now.timestamp():.0f}",
    )
    outcome.escalated = True
    outcome.message = "Nobody matched; coordinators alerted."
    return outcome


def _supporter_line(supporter: Person) -> str:
    """The head's thread reply naming their supporter, and where to reach them."""
    on_teams = platform_for(supporter) == Platform.TEAMS
    return supporter_line(mention(supporter), supporter.email, on_teams=on_teams)


def _reply_in_thread(
    session: Session, ctx: ServiceContext, request: SupportRequest, text: str
) -> None:
    """Owe a reply in the request's thread (or a DM to the head when it has none)."""
    view = Card((escape(text) if "<@" not in text else text,))
    if request.thread_channel_id and request.thread_ts:
        owe_post(
            session,
            now=ctx.now,
            channel=request.thread_channel_id,
            thread_ts=request.thread_ts,
            text=text,
            view=view,
        )
    elif request.thread_channel_id:
        owe_post(
            session,
            now=ctx.now,
            channel=request.thread_channel_id,
            thread_of=post_ref(request.id or 0),
            text=text,
            view=view,
        )
    else:
        requester = session.get(Person, request.requester_id)
        if requester is not None:
            owe_post(session, now=ctx.now, channel=address_of(requester), text=text, view=view)


def refresh_open_offers(session: Session, ctx: ServiceContext, request_id: int) -> int:
    """After an edit, owe an update of every open offer's DM so supporters see it as it is."""
    request = get_request(session, request_id)
    summary = summarise(session, request, ctx.vocabulary)
    offers = session.exec(
        select(Offer).where(Offer.request_id == request_id, Offer.status == OfferStatus.OPEN)
    ).all()
    for offer in offers:
        owe_update(
            session,
            now=ctx.now,
            update_of=f"offer:{offer.id}",
            text=f"Updated by the school: can you help with {_labels_of(summary)}?",
            view=_offer_view(summary, offer, ctx),
        )
    return len(offers)


def _labels_of(summary: RequestSummary) -> str:
    return ", ".join(label for _, label in summary.tags)


def _offer_view(summary: RequestSummary, offer: Offer, ctx: ServiceContext) -> OfferInvitation:
    """The DM for one offer, as first sent and as refreshed after an edit."""
    return OfferInvitation(
        summary,
        offer_id=offer.id or 0,
        reasons=offer.reasons,
        show_school=ctx.settings.show_school_before_accept,
        expires_at=offer.expires_at,
        tz=str(ctx.settings.tz),
    )


def _accepted(summary: RequestSummary, deployment: Deployment, head: Person | None) -> Accepted:
    """The supporter's DM once the request is theirs."""
    return Accepted(
        summary,
        deployment_id=deployment.id or 0,
        head_slack_id=user_id_of(head) if head else None,
        head_email=head.email if head else None,
    )


# --- responding to an offer ------------------------------------------------------------------
def offer_for_supporter(
    session: Session, offer_id: int, actor: str
) -> tuple[Offer, SupportRequest, Person]:
    """The offer, its request and supporter, if `actor` is the supporter it was made to."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        raise NotFound("I can't find that offer any more.")
    supporter = session.get(Person, offer.supporter_id)
    if supporter is None or not is_user(supporter, actor):
        raise NotAllowed(
            "This offer was sent to someone else, so only they can answer it.",
            action="offer.respond",
            subject_type="offer",
            subject_id=offer_id,
        )
    request = session.get(SupportRequest, offer.request_id)
    if request is None:
        raise NotFound("That request no longer exists.")
    return offer, request, supporter


def _closed_offer_message(session: Session, offer: Offer, request: SupportRequest) -> str:
    if request.status == ACCEPTED and request.assigned_id:
        taker = session.get(Person, request.assigned_id)
        if taker is not None and taker.id == offer.supporter_id:
            return "You've already accepted this one — thank you!"
        name = taker.name if taker else "a colleague"
        return f"Thank you — this request has already been taken by {name}."
    if request.status == RequestStatus.CANCELLED:
        return "This request was cancelled by the school, so nothing more is needed. Thank you."
    return {
        "declined": "You've already declined this one — thanks for letting us know.",
        "expired": "This offer has expired and has gone to other colleagues. Thank you.",
        "withdrawn": "This offer has been withdrawn, so nothing more is needed. Thank you.",
    }.get(offer.status, "This offer is no longer open. Thank you.")


def accept_offer(session: Session, ctx: ServiceContext, *, actor: str, offer_id: int) -> Deployment:
    """Accept an offer. Exactly one accept per request wins, decided by the database."""
    offer, request, supporter = offer_for_supporter(session, offer_id, actor)
    # Lock the request first, always: every accept (and every withdrawal of the other
    # offers) then queues on this one row, never on offer rows in differing orders.
    request = get_request(session, request.id or 0, for_update=True)
    if offer.status != OfferStatus.OPEN or request.status != OFFERED:
        raise Conflict(_closed_offer_message(session, offer, request))
    _check_capacity(session, supporter)
    # Two conditional updates decide it: the offer must still be open (not expired or
    # withdrawn meanwhile) and the request still offered (nobody else accepted first).
    offer_won = session.execute(
        update(Offer)
        .where(col(Offer.id) == offer.id, col(Offer.status) == OfferStatus.OPEN)
        .values(status=OfferStatus.ACCEPTED, responded_at=ctx.now)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    won = (
        offer_won
        and session.execute(
            update(SupportRequest)
            .where(col(SupportRequest.id) == request.id, col(SupportRequest.status) == OFFERED)
            .values(
                status=ACCEPTED, assigned_id=supporter.id, accepted_at=ctx.now, updated_at=ctx.now
            )
        ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    )
    if won != 1:
        session.rollback()
        session.refresh(request)
        session.refresh(offer)
        raise Conflict(_closed_offer_message(session, offer, request))
    session.refresh(request)
    session.refresh(offer)
    return _start_deployment(session, ctx, request, supporter, actor=actor, accepted_offer=offer)


def _check_capacity(session: Session, supporter: Person) -> None:
    """Refuse a deployment beyond the supporter's capacity (their row locked, so two
    accepts by one person on different requests can't both slip under it)."""
    locked = session.exec(
        select(Person)
        .where(Person.id == supporter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    active = load_of(session, locked.id or 0)  # led, and joined as a colleague
    if active >= locked.capacity:
        raise Conflict(
            f"Thank you — you're already supporting {active} school"
            f"{'s' if active != 1 else ''}, your capacity in the directory. If you can take "
            "this on too, ask a coordinator to raise it, or release another deployment."
        )


def _start_deployment(
    session: Session,
    ctx: ServiceContext,
    request: SupportRequest,
    supporter: Person,
    *,
    actor: str | None,
    accepted_offer: Offer | None,
) -> Deployment:
    """Record the deployment and tell everyone: other offers, head, coordinators, supporter."""
    deployment = Deployment(
        request_id=request.id or 0, supporter_id=supporter.id or 0, started_at=ctx.now
    )
    session.add(deployment)
    session.flush()
    _withdraw_other_offers(session, ctx, request, supporter)
    summary = summarise(session, request, ctx.vocabulary)
    head = session.get(Person, request.requester_id)
    if accepted_offer is not None:
        owe_update(
            session,
            now=ctx.now,
            update_of=f"offer:{accepted_offer.id}",
            text="You've accepted this request — thank you!",
            view=_accepted(summary, deployment, head),
        )
    else:
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(supporter),
            text="You've been asked to support a school — thank you!",
            view=_accepted(summary, deployment, head),
            ref=f"deployment:{deployment.id}:dm",
        )
    _reply_in_thread(session, ctx, request, _supporter_line(supporter))
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"Request #{summary.id} is now supported by {escape(supporter.name)}.",
        view=AssignedNotice(summary, supporter_slack_id=user_id_of(supporter)),
    )
    refresh_card(session, summary, now=ctx.now)
    schedule_for_new_deployment(session, ctx, deployment)
    invite_shadow(session, ctx, deployment)  # growing leaders: take an aspiring one along
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="request.accepted" if accepted_offer else "request.assigned",
        subject_type="request",
        subject_id=request.id or 0,
        deployment_id=deployment.id,
        supporter_id=supporter.id,
        offer_id=accepted_offer.id if accepted_offer else None,
    )
    return deployment


def _withdraw_other_offers(
    session: Session, ctx: ServiceContext, request: SupportRequest, supporter: Person
) -> None:
    """Withdraw the request's still-open offers and owe each a "Taken by …" update."""
    for other in session.exec(
        select(Offer).where(Offer.request_id == request.id, Offer.status == OfferStatus.OPEN)
    ):
        other.status = OfferStatus.WITHDRAWN
        other.responded_at = ctx.now
        owe_update(
            session,
            now=ctx.now,
            update_of=f"offer:{other.id}",
            text=f"Taken by {escape(supporter.name)} — thank you",
            view=OfferClosed(f"Taken by {supporter.name} — thank you for considering it."),
        )


def decline_offer(
    session: Session, ctx: ServiceContext, *, actor: str, offer_id: int, reason: str | None
) -> RoutingOutcome | None:
    """Decline an offer (with an optional reason); if it was the last open one, offer on."""
    offer, request, _supporter = offer_for_supporter(session, offer_id, actor)
    request = get_request(session, request.id or 0, for_update=True)  # request before offers
    session.refresh(offer)
    if offer.status != OfferStatus.OPEN:
        raise Conflict(_closed_offer_message(session, offer, request))
    offer.status = OfferStatus.DECLINED
    offer.responded_at = ctx.now
    offer.decline_reason = (reason or "").strip()[:2000] or None
    owe_update(
        session,
        now=ctx.now,
        update_of=f"offer:{offer.id}",
        text="You declined this request — thanks for letting us know.",
        view=OfferClosed("You declined this request — thanks for letting us know."),
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="offer.declined",
        subject_type="offer",
        subject_id=offer_id,
        request_id=request.id,
    )
    return _after_offer_closed(session, ctx, request)


def _after_offer_closed(
    session: Session, ctx: ServiceContext, request: SupportRequest
) -> RoutingOutcome | None:
    """When a round has no open offers left and nobody accepted, offer the next round."""
    request = get_request(session, request.id or 0, for_update=True)  # one mover per request
    still_open = session.exec(
        select(func.count())
        .select_from(Offer)
        .where(Offer.request_id == request.id, Offer.status == OfferStatus.OPEN)
    ).one()
    if still_open or request.status != OFFERED:
        return None
    return offer_next_round(session, ctx, request, actor=None)


def suggest_colleague(
    session: Session, ctx: ServiceContext, *, actor: str, offer_id: int, colleague: str
) -> str:
    """A supporter suggests a colleague: offer it to them if they can take it, else tell
    the coordinators. Returns what to tell the supporter."""
    offer, request, supporter = offer_for_supporter(session, offer_id, actor)
    # Lock the request before checking it: an accept or cancel committed meanwhile must not
    # be followed by a fresh open offer that nobody will ever withdraw.
    request = get_request(session, request.id or 0, for_update=True)
    session.refresh(offer)
    if request.status not in (OFFERED, OPEN):
        raise Conflict(_closed_offer_message(session, offer, request))
    offer.suggested_user_id = colleague
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="offer.suggested",
        subject_type="offer",
        subject_id=offer_id,
        colleague=colleague,
    )
    person = person_by_user_id(session, colleague)
    fits = (
        rank_for(session, request, ctx.vocabulary, only_person_id=person.id, ctx=ctx)
        if person is not None and person.id is not None
        else []
    )
    if person is not None and fits:
        _offer_to_suggested(
            session, ctx, request, suggested_by=supporter, person=person, match=fits[0]
        )
        return f"Thanks — I've asked <@{colleague}> too."
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=(
            f"{escape(supporter.name)} suggested <@{colleague}> for request #{request.id}; they "
            "aren't an available supporter in the directory, so please follow up by hand."
        ),
    )
    return (
        f"Thanks — <@{colleague}> isn't an available supporter in the directory yet, so I've "
        "passed your suggestion to the coordinators."
    )


def _offer_to_suggested(
    session: Session,
    ctx: ServiceContext,
    request: SupportRequest,
    *,
    suggested_by: Person,
    person: Person,
    match: Match,
) -> None:
    """Offer the request to a colleague whom a supporter suggested, and owe them the DM."""
    summary = summarise(session, request, ctx.vocabulary)
    new = Offer(
        request_id=request.id or 0,
        supporter_id=person.id or 0,
        round=request.offer_round,
        reasons=f"suggested by {suggested_by.name}; {match.reasons}",
        created_at=ctx.now,
        expires_at=ctx.calendar.add_working_hours(ctx.now, ctx.settings.offer_timeout_hours),
    )
    session.add(new)
    session.flush()
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(person),
        text=f"{escape(suggested_by.name)} suggested you might be able to help a school.",
        view=_offer_view(summary, new, ctx),
        ref=f"offer:{new.id}",
    )


# --- escalation through time ------------------------------------------------------------------
def expire_due_offers(session: Session, ctx: ServiceContext, offer_ids: list[int]) -> int:
    """Expire claimed offers, update their DMs and move each request on; returns requests moved."""
    moved = 0
    requests: dict[int, SupportRequest] = {}
    for offer_id in offer_ids:
        offer = session.get(Offer, offer_id)
        if offer is None:
            continue
        owe_update(
            session,
            now=ctx.now,
            update_of=f"offer:{offer.id}",
            text="This offer has expired — thank you.",
            view=OfferClosed("This offer has expired and has gone to other colleagues. Thank you."),
        )
        request = session.get(SupportRequest, offer.request_id)
        if request is not None:
            requests[request.id or 0] = request
    for request in requests.values():
        if _after_offer_closed(session, ctx, request) is not None:
            moved += 1
    return moved


def _overdue_offer(ctx: ServiceContext) -> ColumnElement[bool]:
    return and_(col(Offer.status) == OfferStatus.OPEN, col(Offer.expires_at) <= ctx.now)


def requests_with_overdue_offers(session: Session, ctx: ServiceContext) -> list[int]:
    """The ids of requests with an open offer past its expiry, in order."""
    return sorted(set(session.exec(select(Offer.request_id).where(_overdue_offer(ctx)))))


def expire_offers_of(session: Session, ctx: ServiceContext, request_id: int) -> int:
    """Claim one request's overdue offers (never two processes the same one) and move the
    request on; returns 1 if it moved."""
    # The request's lock first (as accepting does), then its offers: no deadlock.
    get_request(session, request_id, for_update=True)
    ids = claim_rows(
        session,
        Offer,
        and_(_overdue_offer(ctx), col(Offer.request_id) == request_id),
        {"status": OfferStatus.EXPIRED, "responded_at": ctx.now},
        order_by=Offer.id,
        limit=500,
    )
    return expire_due_offers(session, ctx, ids)


# --- coordinators and supporters changing a deployment ----------------------------------------
def assign_request(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    request_id: int,
    supporter_slack_id: str,
    anyway: bool = False,
) -> Deployment:
    """A coordinator assigns (or reassigns) a request to a supporter by hand.

    Nobody supports their own request or school. The hub's rules (`EXCLUDE_SAME_TRUST`,
    `PHASE_MATCH`/`REGION_MATCH=require`) and the supporter's availability date refuse, with
    the reason, unless the coordinator assigns `anyway`, which the audit trail records.
    """
    if not is_coordinator(session, actor):
        raise NotAllowed(
            "Only coordinators can assign requests.",
            action="request.assign",
            subject_type="request",
            subject_id=request_id,
        )
    request = get_request(session, request_id, for_update=True)
    if request.status in (RequestStatus.CLOSED, RequestStatus.CANCELLED):
        raise Conflict(f"This request is {request.status}, so it can't be assigned.")
    supporter = person_by_user_id(session, supporter_slack_id)
    if supporter is None or not roles_of(session, supporter.id) & set(SUPPORTER_ROLES):
        raise Conflict(
            f"<@{supporter_slack_id}> isn't a supporter (NLE, SLE or specialist) in the directory."
        )
    overruled = _check_hand_assignment(session, ctx, request, supporter, anyway=anyway)
    current = session.exec(
        select(Deployment).where(
            Deployment.request_id == request_id, Deployment.status == DeploymentStatus.ACTIVE
        )
    ).first()
    if current is not None:
        if current.supporter_id == supporter.id:
            raise Conflict("That person is already supporting this request.")
        _end_deployment(session, ctx, current, status=DeploymentStatus.REASSIGNED)
    request.status = ACCEPTED
    request.assigned_id = supporter.id
    request.accepted_at = ctx.now
    request.updated_at = ctx.now
    if overruled:
        audit.record(
            session,
            at=ctx.now,
            actor=actor,
            action="request.assigned_over_rule",
            subject_type="request",
            subject_id=request_id,
            supporter_id=supporter.id,
            rule=overruled,
        )
    return _start_deployment(session, ctx, request, supporter, actor=actor, accepted_offer=None)


def _check_hand_assignment(
    session: Session,
    ctx: ServiceContext,
    request: SupportRequest,
    supporter: Person,
    *,
    anyway: bool,
) -> str | None:
    """Refuse (Conflict) a hand assignment the rules forbid; the rule overruled by `anyway`,
    or None when no rule objects."""
    if supporter.id == request.requester_id or (
        request.school_id is not None and supporter.school_id == request.school_id
    ):
        raise Conflict(
            f"{mention(supporter)} is from the school that asked, so they can't support it."
        )
    school = session.get(School, supporter.school_id) if supporter.school_id else None
    need = need_of(session, request, rules=rules_of(ctx.settings), today=_today(ctx))
    objection = rules_objection(
        need,
        trust=school.trust if school else None,
        available_from=supporter.available_from,
        phase=school.phase if school else None,
        region=school.region if school else None,
    )
    if objection is None or anyway:
        return objection
    if supporter.available_from and objection == "not available yet":
        objection = f"not available until {supporter.available_from:%-d %B %Y}"
    raise Conflict(
        f"{mention(supporter)} is {objection}, so I haven't assigned them. If you're sure, "
        "add `anyway` at the end and I'll assign them (the audit trail will say so)."
    )


def _end_deployment(
    session: Session, ctx: ServiceContext, deployment: Deployment, *, status: DeploymentStatus
) -> None:
    deployment.status = status
    deployment.ended_at = ctx.now
    cancel_future_checkins(session, deployment.id or 0, now=ctx.now)
    previous = session.get(Person, deployment.supporter_id)
    if previous is not None:
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(previous),
            text=(
                f"Request #{deployment.request_id} has been {status} — thank you for your "
                "help so far."
            ),
        )


def release_deployment(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int
) -> RoutingOutcome:
    """A supporter who can no longer do it releases the deployment; routing starts again."""
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise NotFound("I can't find that deployment any more.")
    supporter = session.get(Person, deployment.supporter_id)
    if (supporter is None or not is_user(supporter, actor)) and not is_coordinator(session, actor):
        raise NotAllowed(
            "Only the supporter on this deployment, or a coordinator, can release it.",
            action="deployment.release",
            subject_type="deployment",
            subject_id=deployment_id,
        )
    # The request's lock first, then re-read the deployment: a double click or a reassignment
    # may have ended it while we waited, and must not re-open a request someone now supports.
    request = get_request(session, deployment.request_id, for_update=True)
    session.refresh(deployment)
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict("This deployment has already ended.")
    _end_deployment(session, ctx, deployment, status=DeploymentStatus.RELEASED)
    request.status = OPEN
    request.assigned_id = None
    request.offer_round = 0
    request.escalated_at = None
    request.updated_at = ctx.now
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.released",
        subject_type="deployment",
        subject_id=deployment_id,
        request_id=request.id,
    )
    _reply_in_thread(
        session,
        ctx,
        request,
        "Your supporter can no longer continue, so I'm finding someone else for you now. "
        "Sorry for the disruption.",
    )
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"Deployment on request #{request.id} was released; finding someone else.",
    )
    return offer_next_round(session, ctx, request, actor=actor)
