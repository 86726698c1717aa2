"""The deployment lifecycle's rules: book the first visit, draft and confirm the agreement,
log visits (days given and a note), answer the mid-point review, give the closing record,
or skip any step.

Each service takes the caller's session and a context with the time, checks that the actor
is the deployment's head or supporter (`involvement`), changes state, audits it and owes the
messages it causes, all in the caller's transaction. Refusals raise `UserFacingError`s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from bot.checkins.service import close_deployment
from bot.core import audit
from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.deployments.views import (
    STEPS,
    AgreementForm,
    ImpactForm,
    ObjectiveLine,
    agreement_lines,
    agreement_to_confirm_card,
    day_words,
    days_words,
    notice_card,
    revise_agreement_card,
    visit_booked_card,
)
from bot.directory.people import person_by_user_id, roles_of
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import is_owed, owe_post, owe_update, was_posted
from bot.reach.people import address_of, user_id_of
from storage.models import (
    Deployment,
    DeploymentImpact,
    DeploymentObjective,
    DeploymentPlan,
    DeploymentReview,
    DeploymentStatus,
    DeploymentVisit,
    Person,
    ProgressRating,
    ReviewDecision,
    School,
    SupportRequest,
)

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

MAX_OBJECTIVES = 6
OBJECTIVE_LIMIT = 500
TEXT_LIMIT = 2000
NOTE_LIMIT = 1000
MAX_DAYS_COMMITTED = 200.0
MAX_DAYS_PER_VISIT = 10.0


@dataclass
class Involvement:
    """A deployment, its request and plan, and the actor's part in it."""

    deployment: Deployment
    request: SupportRequest
    plan: DeploymentPlan
    person: Person
    role: str  # head | supporter | coordinator
    school: str | None = None  # the supported school's name, if known


def ensure_plan(session: Session, deployment: Deployment, *, now: datetime) -> DeploymentPlan:
    """The deployment's plan row, made if missing (the caller holds the deployment's lock)."""
    plan = session.get(DeploymentPlan, deployment.id)
    if plan is None:
        plan = DeploymentPlan(deployment_id=deployment.id or 0, created_at=now)
        session.add(plan)
        session.flush()
    return plan


def involvement(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    action: str,
    roles: tuple[str, ...] = ("head", "supporter"),
) -> Involvement:
    """The deployment (locked, on PostgreSQL) and the actor's part in it; NotAllowed for
    anyone whose part is not in `roles` (a coordinator counts only if `roles` names it)."""
    deployment = session.get(
        Deployment, deployment_id, with_for_update=True, populate_existing=True
    )
    request = session.get(SupportRequest, deployment.request_id) if deployment else None
    if deployment is None or request is None:
        raise NotFound("I can't find that support any more.")
    person = person_by_user_id(session, actor)
    role = _role_of(session, person, deployment, request)
    if person is None or role not in roles:
        raise NotAllowed(
            "Only the school's head and their supporter can do that for this support.",
            action=action,
            subject_type="deployment",
            subject_id=deployment_id,
        )
    plan = ensure_plan(session, deployment, now=ctx.now)
    school = session.get(School, request.school_id) if request.school_id else None
    return Involvement(deployment, request, plan, person, role, school.name if school else None)


def _role_of(
    session: Session, person: Person | None, deployment: Deployment, request: SupportRequest
) -> str | None:
    if person is None or person.id is None or person.erased_at is not None:
        return None
    if person.id == deployment.supporter_id:
        return "supporter"
    if person.id == request.requester_id:
        return "head"
    return "coordinator" if "coordinator" in roles_of(session, person.id) else None


def _slack_id(session: Session, person_id: int | None) -> str | None:
    person = session.get(Person, person_id) if person_id else None
    return address_of(person) if person and person.erased_at is None else None


def _other(session: Session, inv: Involvement) -> str | None:
    """The Slack id of the other person in the deployment (head for the supporter…)."""
    if inv.role == "supporter":
        return _slack_id(session, inv.request.requester_id)
    return _slack_id(session, inv.deployment.supporter_id)


def _require_active(deployment: Deployment) -> None:
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict("This support has ended, so there's nothing more to do here.")


def _audit(
    inv: Involvement, session: Session, ctx: ServiceContext, action: str, **detail: object
) -> None:
    audit.record(
        session,
        at=ctx.now,
        actor=user_id_of(inv.person),
        action=action,
        subject_type="deployment",
        subject_id=inv.deployment.id or 0,
        request_id=inv.request.id,
        role=inv.role,
        **detail,
    )


# --- the first visit ---------------------------------------------------------------------------
def book_first_visit(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, on: date | None
) -> str:
    """Book the first (diagnostic) visit on a school day from today on; the other is told."""
    inv = involvement(session, ctx, actor=actor, deployment_id=deployment_id, action="visit.book")
    _require_active(inv.deployment)
    today = ctx.calendar.local(ctx.now).date()
    if on is None:
        raise InvalidInput({"visit_on": "Please choose a date."})
    if on < today:
        raise InvalidInput({"visit_on": "Please choose today or a later date."})
    if not ctx.calendar.is_working_day(on):
        raise InvalidInput(
            {"visit_on": f"{day_words(on)} isn't a school day. Please choose another."}
        )
    if inv.plan.first_visit_on == on:  # a double submit: already booked and told
        return f"First visit booked for {day_words(on)}."
    inv.plan.first_visit_on = on
    inv.plan.first_visit_skipped = False
    _audit(inv, session, ctx, "deployment.visit_booked", on=on.isoformat())
    other = _other(session, inv)
    if other:
        owe_post(
            session,
            now=ctx.now,
            channel=other,
            text=f"First visit booked for {day_words(on)}.",
            view=visit_booked_card(inv.school, on, actor),
            ref=f"deployment:{deployment_id}:visit_booked",
        )
    return f"First visit booked for {day_words(on)}."


# --- the agreement -----------------------------------------------------------------------------
def agreement_form(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int
) -> AgreementForm:
    """The agreement form for the supporter, holding the current draft (NotAllowed for others)."""
    inv = involvement(
        session,
        ctx,
        actor=actor,
        deployment_id=deployment_id,
        action="agreement.draft",
        roles=("supporter",),
    )
    _require_active(inv.deployment)
    today = ctx.calendar.local(ctx.now).date()
    review_on = inv.plan.review_on
    return AgreementForm(
        deployment_id=deployment_id,
        school=inv.school,
        objectives=tuple(o.text for o in _objectives(session, deployment_id)),
        expected_impact=inv.plan.expected_impact or "",
        days_committed=inv.plan.days_committed,
        # A review date that has passed (revising after the review) is not offered again.
        review_on=review_on if review_on is not None and review_on > today else None,
    )


def _objectives(session: Session, deployment_id: int) -> list[DeploymentObjective]:
    return list(
        session.exec(
            select(DeploymentObjective)
            .where(DeploymentObjective.deployment_id == deployment_id)
            .order_by(col(DeploymentObjective.position))
        )
    )


# A list marker at the start of a line: a bullet ("•", or "-", "*", "+" or a dash followed by
# a space), or a number or letter closed by "." or ")" and followed by a space ("1. ", "10) ",
# "a) "), or one in brackets ("(3)"). A number that is part of the sentence ("100 pupils",
# "2027 SATs", "1.5 days", "95%") is not a marker: it has no closing mark and space.
_LIST_MARKER = re.compile(
    r"""(?:[•◦▪‣●·]
        | [-*+–—](?=\s|$)
        | (?:[0-9]{1,3}[.)] | [A-Za-z]\) )(?=\s|$)
        | \((?:[0-9]{1,3}|[A-Za-z])\)
    )\s*""",
    re.VERBOSE,
)


def parse_objectives(raw: str) -> list[str]:
    """Objectives from the form: one per line, with any list markers in front ("1.", "2)",
    "(3)", "- ", "• ") dropped and the rest, numbers included, kept as written."""
    found = []
    for line in raw.splitlines():
        text = line.strip()
        while marker := _LIST_MARKER.match(text):
            text = text[marker.end() :].strip()
        if text:
            found.append(text)
    return found


def _checked_agreement(
    ctx: ServiceContext, objectives: list[str], days: float | None, review_on: date | None
) -> dict[str, str]:
    errors = {}
    if not objectives:
        errors["objectives"] = "Please write at least one objective, one per line."
    elif len(objectives) > MAX_OBJECTIVES:
        errors["objectives"] = f"Please keep to {MAX_OBJECTIVES} objectives at most."
    elif any(len(text) > OBJECTIVE_LIMIT for text in objectives):
        errors["objectives"] = f"Please keep each objective under {OBJECTIVE_LIMIT} characters."
    if days is not None and not 0 < days <= MAX_DAYS_COMMITTED:
        errors["days"] = f"Please give a number of days between 0.5 and {MAX_DAYS_COMMITTED:g}."
    if review_on is not None and review_on <= ctx.calendar.local(ctx.now).date():
        errors["review_on"] = "Please choose a review date after today."
    return errors


def draft_agreement(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    objectives: list[str],
    expected_impact: str,
    days_committed: float | None,
    review_on: date | None,
) -> str:
    """The supporter's agreement (replacing any earlier draft); the head is asked to confirm."""
    errors = _checked_agreement(ctx, objectives, days_committed, review_on)
    if errors:
        raise InvalidInput(errors)
    inv = involvement(
        session,
        ctx,
        actor=actor,
        deployment_id=deployment_id,
        action="agreement.draft",
        roles=("supporter",),
    )
    _require_active(inv.deployment)
    if _same_draft(session, inv.plan, objectives, expected_impact, days_committed, review_on):
        return "Agreement saved. I've asked the head to confirm it."  # a double submit
    session.execute(
        delete(DeploymentObjective).where(col(DeploymentObjective.deployment_id) == deployment_id)
    )
    for position, text in enumerate(objectives, start=1):
        session.add(DeploymentObjective(deployment_id=deployment_id, position=position, text=text))
    plan = inv.plan
    plan.expected_impact = expected_impact.strip()[:TEXT_LIMIT] or None
    plan.days_committed = days_committed
    plan.review_on = review_on
    plan.agreement_drafted_by, plan.agreement_drafted_at = inv.person.id, ctx.now
    plan.agreement_confirmed_by = plan.agreement_confirmed_at = None
    plan.agreement_skipped = False
    _audit(inv, session, ctx, "deployment.agreement_drafted", objectives=len(objectives))
    head = _other(session, inv)
    if head:
        text = agreement_lines(
            tuple(objectives), plan.expected_impact or "", days_committed, review_on
        )
        owe_post(
            session,
            now=ctx.now,
            channel=head,
            text="Please confirm the agreement for your support.",
            view=agreement_to_confirm_card(deployment_id, actor, text),
            ref=f"deployment:{deployment_id}:agreement",
        )
    return "Agreement saved. I've asked the head to confirm it."


def _same_draft(
    session: Session,
    plan: DeploymentPlan,
    objectives: list[str],
    expected_impact: str,
    days_committed: float | None,
    review_on: date | None,
) -> bool:
    """Whether this is the draft already waiting for the head (nothing to change or send)."""
    if plan.agreement_drafted_at is None or plan.agreement_confirmed_at is not None:
        return False
    current = [o.text for o in _objectives(session, plan.deployment_id)]
    return (current, plan.expected_impact or "", plan.days_committed, plan.review_on) == (
        objectives,
        expected_impact.strip()[:TEXT_LIMIT],
        days_committed,
        review_on,
    )


def confirm_agreement(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int
) -> str:
    """The head confirms the agreement; the review is scheduled for its date."""
    inv = involvement(
        session,
        ctx,
        actor=actor,
        deployment_id=deployment_id,
        action="agreement.confirm",
        roles=("head",),
    )
    _require_active(inv.deployment)
    plan = inv.plan
    if plan.agreement_drafted_at is None:
        raise Conflict("There's no agreement to confirm yet.")
    if plan.agreement_confirmed_at is not None:
        raise Conflict("You've already confirmed this agreement — thank you.")
    plan.agreement_confirmed_by, plan.agreement_confirmed_at = inv.person.id, ctx.now
    if plan.review_on is not None and plan.review_sent_at is None:
        plan.review_due_at = ctx.calendar.schedule_on_working_day(
            plan.review_on, ctx.settings.checkin_time
        )
    _audit(inv, session, ctx, "deployment.agreement_confirmed")
    supporter = _other(session, inv)
    if supporter:
        owe_post(
            session,
            now=ctx.now,
            channel=supporter,
            text="The head has confirmed the agreement.",
            view=notice_card(f"<@{actor}> has confirmed the agreement for your support."),
        )
    return "Agreement confirmed. Thank you."


# --- visits: days given and a note --------------------------------------------------------------
def days_given(session: Session, deployment: Deployment) -> float:
    """Days the supporter has logged on this deployment."""
    total = session.exec(
        select(func.sum(DeploymentVisit.days)).where(
            DeploymentVisit.deployment_id == deployment.id,
            DeploymentVisit.person_id == deployment.supporter_id,
        )
    ).one()
    return float(total or 0)


def log_visit(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    days: float | None,
    note: str,
    visited_on: date | None = None,
    checkin_id: int | None = None,
    form_key: str | None = None,
) -> str:
    """Record days given (the supporter only) and a visit note; may bring the review due.

    `form_key` names the form it came from, so that a double submit is saved once.
    """
    inv = involvement(session, ctx, actor=actor, deployment_id=deployment_id, action="visit.log")
    _require_active(inv.deployment)
    note = note.strip()[:NOTE_LIMIT]
    _check_visit(ctx, inv, days, note, visited_on)
    if (
        form_key
        and session.exec(
            select(DeploymentVisit.id).where(DeploymentVisit.form_key == form_key)
        ).first()
    ):
        return "That visit is saved already — thank you."
    if checkin_id is not None and _logged_for_checkin(session, checkin_id, inv.person.id):
        raise Conflict("You've already logged this check-in's visit — thank you.")
    session.add(
        DeploymentVisit(
            deployment_id=deployment_id,
            person_id=inv.person.id or 0,
            checkin_id=checkin_id,
            visited_on=visited_on or ctx.calendar.local(ctx.now).date(),
            days=days or 0.0,
            note=note or None,
            recorded_at=ctx.now,
            form_key=form_key,
        )
    )
    session.flush()
    _audit(inv, session, ctx, "deployment.visit_logged", days=days or 0, checkin_id=checkin_id)
    given = days_given(session, inv.deployment)
    _maybe_review_halfway(ctx, inv.plan, given)
    if inv.role != "supporter":
        return "Visit note saved. Thank you."
    committed = inv.plan.days_committed
    of = f" of {days_words(committed)} committed" if committed else ""
    return f"Logged. {days_words(given)}{of} given so far."


def _check_visit(
    ctx: ServiceContext, inv: Involvement, days: float | None, note: str, on: date | None
) -> None:
    if days and inv.role != "supporter":
        raise InvalidInput({"days": "Days given are recorded by the supporter."})
    if days is not None and not 0 <= days <= MAX_DAYS_PER_VISIT:
        raise InvalidInput({"days": f"Please give between 0 and {MAX_DAYS_PER_VISIT:g} days."})
    if not days and not note:
        raise InvalidInput({"note": "Please give the days, a note, or both."})
    if on is not None and on > ctx.calendar.local(ctx.now).date():
        raise InvalidInput({"visited_on": "Please choose today or an earlier date."})


def _logged_for_checkin(session: Session, checkin_id: int, person_id: int | None) -> bool:
    return (
        session.exec(
            select(DeploymentVisit.id).where(
                DeploymentVisit.checkin_id == checkin_id, DeploymentVisit.person_id == person_id
            )
        ).first()
        is not None
    )


def _maybe_review_halfway(ctx: ServiceContext, plan: DeploymentPlan, given: float) -> None:
    """No review date: the review falls due once half the committed days are given."""
    if plan.review_on is not None or plan.review_due_at is not None or plan.review_skipped:
        return
    if plan.days_committed and given >= plan.days_committed / 2:
        plan.review_due_at = ctx.calendar.next_working_instant(ctx.now, ctx.settings.checkin_time)


# --- the mid-point review ------------------------------------------------------------------------
REVIEW_CLOSED_IMPACT = "Closed at the mid-point review."


def answer_review(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    decision: str,
    note: str = "",
) -> str:
    """Continue, adjust or close: recorded once per person; coordinators are told.

    *Close* from the head or the supporter closes the support as a check-in answered
    *Completed* does; *adjust* asks the supporter to revise the agreement (once).
    """
    if decision not in tuple(ReviewDecision):
        raise NotFound("I don't know that answer.")
    inv = involvement(session, ctx, actor=actor, deployment_id=deployment_id, action="review")
    _require_active(inv.deployment)
    mine = session.exec(
        select(DeploymentReview).where(
            DeploymentReview.deployment_id == deployment_id,
            DeploymentReview.person_id == inv.person.id,
        )
    ).first()
    if mine is not None:
        raise Conflict(f"You've already answered the review ({mine.decision}) — thank you.")
    note = note.strip()[:NOTE_LIMIT]
    _record_review(session, ctx, inv, actor=actor, decision=decision, note=note)
    if decision == ReviewDecision.CLOSE:
        close_deployment(
            session,
            ctx,
            deployment=inv.deployment,
            request=inv.request,
            person=inv.person,
            role=inv.role,
            impact=note or REVIEW_CLOSED_IMPACT,
            via="review",
        )
        _close_review_dms(session, ctx, deployment_id)
    elif decision == ReviewDecision.ADJUST:
        _ask_to_revise_agreement(session, ctx, inv)
    return _review_reply(decision, inv.role)


def _record_review(
    session: Session, ctx: ServiceContext, inv: Involvement, *, actor: str, decision: str, note: str
) -> None:
    """Keep one person's review answer, audit it and tell the coordinators."""
    session.add(
        DeploymentReview(
            deployment_id=inv.deployment.id or 0,
            person_id=inv.person.id or 0,
            role=inv.role,
            decision=ReviewDecision(decision),
            note=note or None,
            answered_at=ctx.now,
        )
    )
    inv.plan.review_sent_at = inv.plan.review_sent_at or ctx.now
    session.flush()
    _audit(inv, session, ctx, "deployment.reviewed", decision=decision)
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"Mid-point review of request #{inv.request.id}: the {inv.role} said {decision}.",
        view=notice_card(
            f"Mid-point review of request #{inv.request.id}: the {inv.role} "
            f"(<@{actor}>) said *{decision}*."
        ),
    )


def review_ref(deployment_id: int, role: str) -> str:
    """The outbox ref of the review DM to the head or the supporter."""
    return f"deployment:{deployment_id}:review:{role}"


def _close_review_dms(session: Session, ctx: ServiceContext, deployment_id: int) -> None:
    """The review DMs lose their buttons once the review has closed the support."""
    text = "This support was closed at the mid-point review. Thank you."
    for role in ("head", "supporter"):
        ref = review_ref(deployment_id, role)
        if was_posted(session, ref):
            owe_update(session, now=ctx.now, update_of=ref, text=text, view=notice_card(text))


def _ask_to_revise_agreement(session: Session, ctx: ServiceContext, inv: Involvement) -> None:
    """Offer the supporter the agreement form again, once per deployment however many say
    *adjust*; the head confirms the revision as before."""
    supporter = _slack_id(session, inv.deployment.supporter_id)
    key = f"deployment:{inv.deployment.id}:review_adjust"
    if supporter is None or is_owed(session, key):
        return
    owe_post(
        session,
        now=ctx.now,
        channel=supporter,
        text="The review says adjust: please revise the agreement.",
        view=revise_agreement_card(inv.deployment.id or 0, inv.school, by_role=inv.role),
        dedupe_key=key,
    )


def _review_reply(decision: str, role: str) -> str:
    if decision == ReviewDecision.ADJUST:
        if role == "supporter":
            return (
                "Thanks — noted. I've sent you the agreement to revise; the head confirms it again."
            )
        return (
            "Thanks — noted. I've asked the supporter to revise the agreement for you to confirm."
        )
    if decision == ReviewDecision.CLOSE:
        return (
            "Thanks — the support is now closed, and the coordinators are told. I'll ask you "
            "both for the closing record: progress against each objective."
        )
    return "Thanks — noted: the support continues as agreed."


# --- the closing record --------------------------------------------------------------------------
def impact_form(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int
) -> ImpactForm:
    """The closing form for the head or the supporter of an ended deployment."""
    inv = involvement(session, ctx, actor=actor, deployment_id=deployment_id, action="impact")
    if inv.deployment.status == DeploymentStatus.ACTIVE:
        raise Conflict("You can add the closing record once the support has closed.")
    return ImpactForm(
        deployment_id=deployment_id,
        role=inv.role,
        school=inv.school,
        objectives=tuple(objective_lines(session, deployment_id)),
    )


def objective_lines(session: Session, deployment_id: int) -> list[ObjectiveLine]:
    """The deployment's objectives with their ratings and comments."""
    return [
        ObjectiveLine(
            id=o.id or 0,
            position=o.position,
            text=o.text,
            rating=o.rating,
            head_comment=o.head_comment,
            supporter_comment=o.supporter_comment,
        )
        for o in _objectives(session, deployment_id)
    ]


def record_impact(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    ratings: dict[int, str],
    comments: dict[int, str],
    overall: str,
) -> str:
    """The head's ratings (and comments) or the supporter's comments, per objective and
    overall; given again, they replace the earlier ones. Coordinators are told."""
    form = impact_form(session, ctx, actor=actor, deployment_id=deployment_id)
    if form.role == "head" and any(r not in tuple(ProgressRating) for r in ratings.values()):
        raise InvalidInput({"ratings": "Please choose a rating from the list."})
    for objective in _objectives(session, deployment_id):
        comment = (comments.get(objective.id or 0) or "").strip()[:NOTE_LIMIT] or None
        if form.role == "head":
            rating = ratings.get(objective.id or 0)
            objective.rating = ProgressRating(rating) if rating else None
            objective.head_comment = comment
        else:
            objective.supporter_comment = comment
    person = person_by_user_id(session, actor)
    _save_impact_comment(session, ctx, deployment_id, person, form.role, overall)
    deployment = session.get(Deployment, deployment_id)
    request_id = deployment.request_id if deployment else None
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.impact_recorded",
        subject_type="deployment",
        subject_id=deployment_id,
        request_id=request_id,
        role=form.role,
        ratings=len(ratings),
    )
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"The {form.role}'s closing record for request #{request_id} is in.",
        view=notice_card(
            f"The {form.role}'s closing record for request #{request_id} is in. "
            f"`python -m bot deployments summary {deployment_id}` prints the one-page summary."
        ),
    )
    return "Thank you — your closing record is saved."


def _save_impact_comment(
    session: Session,
    ctx: ServiceContext,
    deployment_id: int,
    person: Person | None,
    role: str,
    overall: str,
) -> None:
    person_id = person.id if person else 0
    row = session.exec(
        select(DeploymentImpact).where(
            DeploymentImpact.deployment_id == deployment_id,
            DeploymentImpact.person_id == person_id,
        )
    ).first()
    if row is None:
        row = DeploymentImpact(deployment_id=deployment_id, person_id=person_id or 0, role=role)
        session.add(row)
    row.comment = overall.strip()[:TEXT_LIMIT] or None
    row.recorded_at = ctx.now
    session.flush()


# --- skipping a step -----------------------------------------------------------------------------
def skip_step(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, step: str
) -> str:
    """Skip the first visit, the agreement, the review or the closing record (audited)."""
    if step not in STEPS:
        raise NotFound("I don't know that step.")
    inv = involvement(session, ctx, actor=actor, deployment_id=deployment_id, action="skip")
    if step != "impact":
        _require_active(inv.deployment)
    plan = inv.plan
    if step == "visit":
        plan.first_visit_skipped = True
    elif step == "agreement":
        if plan.agreement_confirmed_at is not None:
            raise Conflict("The agreement is already confirmed, so there's nothing to skip.")
        plan.agreement_skipped = True
    elif step == "review":
        plan.review_skipped = True
    _audit(inv, session, ctx, "deployment.step_skipped", step=step)
    return {
        "visit": "Skipped: no first visit booked.",
        "agreement": "Skipped: no agreement for this support.",
        "review": "Skipped: no mid-point review.",
        "impact": "Skipped: no closing record from you.",
    }[step]
