"""The deployment record: one per deployment (request, people and the team of colleagues and
shadows, agreement, days given against committed, check-ins, review, impact ratings and
notes), for export as CSV or JSON and as a one-page printable HTML summary; and each
person's lifecycle progress for App Home.

Only the people involved and coordinators may have a summary (`send_summary` checks); the
export is for coordinators at the command line.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.checkins.service import need_labels
from bot.core import audit
from bot.deployments.html import summary_html
from bot.deployments.service import days_given, involvement, objective_lines
from bot.deployments.views import DeploymentProgress
from bot.outbox.owing import FILES_UPLOAD, OwedFile, owe_files
from bot.reach.people import mention
from storage.models import (
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    Deployment,
    DeploymentImpact,
    DeploymentMember,
    DeploymentPlan,
    DeploymentReview,
    DeploymentStatus,
    DeploymentVisit,
    OutboxMessage,
    OutboxStatus,
    Person,
    School,
    SupportRequest,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.core.context import ServiceContext

PROGRESS_SHOWN = 8
RECENTLY_ENDED = timedelta(days=60)
# A second *Summary* click within this long of the first sends nothing more.
SUMMARY_AGAIN_AFTER = timedelta(minutes=1)
CSV_COLUMNS = (
    "deployment_id",
    "request_id",
    "status",
    "school",
    "school_urn",
    "phase",
    "region",
    "local_authority",
    "needs",
    "head",
    "head_name",
    "supporter",
    "supporter_name",
    "team",
    "started_on",
    "ended_on",
    "first_visit_on",
    "agreement_confirmed_on",
    "objectives",
    "expected_impact",
    "days_committed",
    "days_given",
    "review_on",
    "review_head",
    "review_supporter",
    "checkins_sent",
    "checkins_answered",
    "ratings",
    "head_comment",
    "supporter_comment",
    "impact_note",
    "end_reason",
)


def _day(instant: datetime | None, tz: ZoneInfo) -> str | None:
    return instant.astimezone(tz).date().isoformat() if instant else None


def _person(session: Session, person_id: int | None) -> dict[str, str | None]:
    person = session.get(Person, person_id) if person_id else None
    if person is None or person.erased_at is not None:
        return {"slack_user_id": person.slack_user_id if person else None, "name": None}
    return {"slack_user_id": person.slack_user_id, "name": person.name}


# --- one record ----------------------------------------------------------------------------------
def deployment_record(session: Session, deployment_id: int, tz: ZoneInfo) -> dict[str, Any]:
    """Everything about one deployment, as JSON-ready data (dates local to `tz`)."""
    deployment = session.get(Deployment, deployment_id)
    request = session.get(SupportRequest, deployment.request_id) if deployment else None
    if deployment is None or request is None:
        raise LookupError(deployment_id)
    plan = session.get(DeploymentPlan, deployment_id) or DeploymentPlan(deployment_id=0)
    school = session.get(School, request.school_id) if request.school_id else None
    return {
        "deployment_id": deployment_id,
        "request_id": request.id,
        "status": str(deployment.status),
        "school": _school(school),
        "needs": list(need_labels(session, request.id or 0)),
        "head": _person(session, request.requester_id),
        "supporter": _person(session, deployment.supporter_id),
        "team": _team(session, deployment_id, tz),
        "started_on": _day(deployment.started_at, tz),
        "ended_on": _day(deployment.ended_at, tz),
        "first_visit_on": plan.first_visit_on.isoformat() if plan.first_visit_on else None,
        "agreement": _agreement(session, plan, tz),
        "days_committed": plan.days_committed,
        "days_given": days_given(session, deployment),
        "visits": _visits(session, deployment_id),
        "checkins": _checkins(session, deployment_id),
        "review": _review(session, plan, tz),
        "impact": _impact(session, deployment_id),
        "impact_note": deployment.impact_note,
        "end_reason": deployment.end_reason,  # why a coordinator ended it early, if they did
    }


def _team(session: Session, deployment_id: int, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Everyone who joined as a colleague or shadow, in joining order, those who left too."""
    members = session.exec(
        select(DeploymentMember)
        .where(DeploymentMember.deployment_id == deployment_id)
        .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
    )
    return [
        {
            **_person(session, member.person_id),
            "role": str(member.role),
            "added_on": _day(member.added_at, tz),
            "removed_on": _day(member.removed_at, tz),
        }
        for member in members
    ]


def _team_cell(team: list[dict[str, Any]]) -> str:
    """The team in one CSV cell: "Olive Oak (colleague, 2026-11-24 to 2026-12-01); …"."""
    return "; ".join(
        f"{m['name'] or m['slack_user_id'] or 'someone'} ({m['role']}, {m['added_on']}"
        + (f" to {m['removed_on']})" if m["removed_on"] else " onwards)")
        for m in team
    )


def _school(school: School | None) -> dict[str, str | None]:
    if school is None:
        return {"name": None, "urn": None, "phase": None, "region": None, "local_authority": None}
    return {
        "name": school.name,
        "urn": school.urn,
        "phase": school.phase,
        "region": school.region,
        "local_authority": school.local_authority,
    }


def _agreement(session: Session, plan: DeploymentPlan, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "state": _agreement_state(plan),
        "objectives": [
            {
                "position": o.position,
                "text": o.text,
                "rating": o.rating,
                "head_comment": o.head_comment,
                "supporter_comment": o.supporter_comment,
            }
            for o in objective_lines(session, plan.deployment_id)
        ],
        "expected_impact": plan.expected_impact,
        "review_on": plan.review_on.isoformat() if plan.review_on else None,
        "confirmed_on": _day(plan.agreement_confirmed_at, tz),
    }


def _visits(session: Session, deployment_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(DeploymentVisit, Person.slack_user_id)
        .join(Person, col(Person.id) == col(DeploymentVisit.person_id))
        .where(DeploymentVisit.deployment_id == deployment_id)
        .order_by(col(DeploymentVisit.visited_on), col(DeploymentVisit.id))
    )
    return [
        {
            "on": v.visited_on.isoformat() if v.visited_on else None,
            "by": who,
            "days": v.days,
            "note": v.note,
        }
        for v, who in rows
    ]


def _checkins(session: Session, deployment_id: int) -> dict[str, int]:
    statuses = session.exec(
        select(CheckIn.status, func.count())
        .where(CheckIn.deployment_id == deployment_id)
        .group_by(col(CheckIn.status))
    ).all()
    counts = {str(status): int(n) for status, n in statuses}
    answers = session.exec(
        select(func.count())
        .select_from(CheckInAnswer)
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .where(CheckIn.deployment_id == deployment_id)
    ).one()
    sent = sum(counts.get(s, 0) for s in ("sent", "answered", "missed"))
    return {
        "sent": sent,
        "answered": counts.get(CheckInStatus.ANSWERED, 0),
        "missed": counts.get(CheckInStatus.MISSED, 0),
        "answers": int(answers),
    }


def _review(session: Session, plan: DeploymentPlan, tz: ZoneInfo) -> dict[str, Any]:
    answers = session.exec(
        select(DeploymentReview).where(DeploymentReview.deployment_id == plan.deployment_id)
    ).all()
    by_role = {a.role: a for a in answers}
    return {
        "due_on": _day(plan.review_due_at, tz),
        "asked_on": _day(plan.review_sent_at, tz),
        "skipped": plan.review_skipped,
        **{
            role: (
                {"decision": str(a.decision), "note": a.note} if (a := by_role.get(role)) else None
            )
            for role in ("head", "supporter")
        },
    }


def _decision(answer: DeploymentReview | None) -> dict[str, Any] | None:
    return {"decision": str(answer.decision), "note": answer.note} if answer else None


def _impact(session: Session, deployment_id: int) -> dict[str, Any]:
    rows = session.exec(
        select(DeploymentImpact).where(DeploymentImpact.deployment_id == deployment_id)
    ).all()
    by_role = {row.role: row for row in rows}
    return {
        f"{role}_comment": (row.comment if (row := by_role.get(role)) else None)
        for role in ("head", "supporter")
    }


# --- many records --------------------------------------------------------------------------------
def records_between(
    session: Session, tz: ZoneInfo, *, start: date | None, end: date | None
) -> list[dict[str, Any]]:
    """The record of every deployment running at some point between `start` and `end`."""
    query = select(Deployment.id).order_by(col(Deployment.id))
    if end is not None:
        query = query.where(col(Deployment.started_at) < _instant(end + timedelta(days=1), tz))
    if start is not None:
        query = query.where(
            or_(col(Deployment.ended_at).is_(None), col(Deployment.ended_at) >= _instant(start, tz))
        )
    return [deployment_record(session, i, tz) for i in session.exec(query) if i is not None]


def _instant(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record flattened to the CSV's columns."""
    agreement, review, impact = record["agreement"], record["review"], record["impact"]
    objectives = agreement["objectives"]
    school = record["school"]
    return {
        **{
            k: record[k]
            for k in ("deployment_id", "request_id", "status", "impact_note", "end_reason")
        },
        "school": school["name"],
        "school_urn": school["urn"],
        "phase": school["phase"],
        "region": school["region"],
        "local_authority": school["local_authority"],
        "needs": "; ".join(record["needs"]),
        "head": record["head"]["slack_user_id"],
        "head_name": record["head"]["name"],
        "supporter": record["supporter"]["slack_user_id"],
        "supporter_name": record["supporter"]["name"],
        "team": _team_cell(record["team"]),
        **{k: record[k] for k in ("started_on", "ended_on", "first_visit_on")},
        "agreement_confirmed_on": agreement["confirmed_on"],
        "objectives": " | ".join(f"{o['position']}. {o['text']}" for o in objectives),
        "expected_impact": agreement["expected_impact"],
        "days_committed": record["days_committed"],
        "days_given": record["days_given"],
        "review_on": agreement["review_on"] or review["due_on"],
        "review_head": (review["head"] or {}).get("decision"),
        "review_supporter": (review["supporter"] or {}).get("decision"),
        "checkins_sent": record["checkins"]["sent"],
        "checkins_answered": record["checkins"]["answered"],
        "ratings": "; ".join(f"{o['position']}: {o['rating']}" for o in objectives if o["rating"]),
        "head_comment": impact["head_comment"],
        "supporter_comment": impact["supporter_comment"],
    }


def export_records(records: list[dict[str, Any]], fmt: str) -> str:
    """The records as CSV (one row each) or JSON (an array)."""
    if fmt == "json":
        return json.dumps(records, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(csv_row(record))
    return out.getvalue()


# --- the summary, sent to someone entitled to it -------------------------------------------------
def summary_ref(deployment_id: int, actor: str) -> str:
    """The outbox ref of the summary file sent to `actor`."""
    return f"deployment:{deployment_id}:summary:{actor}"


def send_summary(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """DM the one-page HTML summary to `actor`: the head, the supporter or a coordinator.

    Once per burst of clicks: a summary already owed to them in the last
    `SUMMARY_AGAIN_AFTER` is not sent again (the deployment's row is locked first, so two
    clicks at once queue); a click after that sends a fresh one.
    """
    involvement(
        session,
        ctx,
        actor=actor,
        deployment_id=deployment_id,
        action="deployment.summary",
        roles=("head", "supporter", "coordinator"),
    )
    ref = summary_ref(deployment_id, actor)
    if _summary_sent_since(session, ref, ctx.now - SUMMARY_AGAIN_AFTER):
        return "I've just sent you the one-page summary — it's in our DM."
    record = deployment_record(session, deployment_id, ctx.settings.tz)
    page = summary_html(record, generated=ctx.calendar.local(ctx.now))
    owe_files(
        session,
        now=ctx.now,
        channel=actor,
        files=[
            OwedFile(
                filename=f"deployment-{deployment_id}-summary.html",
                title=f"Deployment {deployment_id}: summary",
                content=page.encode("utf-8"),
                alt_text="A one-page summary of the deployment",
            )
        ],
        comment="The one-page summary of this support: open it in a browser and print it.",
        ref=ref,
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.summary_sent",
        subject_type="deployment",
        subject_id=deployment_id,
    )
    return "I've sent you the one-page summary as a file in our DM."


def _summary_sent_since(session: Session, ref: str, since: datetime) -> bool:
    """Whether a summary with `ref` was owed at or after `since` (and has not failed)."""
    found = session.exec(
        select(OutboxMessage.id).where(
            OutboxMessage.ref == ref,
            OutboxMessage.method == FILES_UPLOAD,
            OutboxMessage.status != OutboxStatus.FAILED,
            col(OutboxMessage.created_at) >= since,
        )
    ).first()
    return found is not None


# --- App Home ------------------------------------------------------------------------------------
def progress_for(
    session: Session, person_id: int, *, now: datetime, others: bool = False
) -> tuple[tuple[DeploymentProgress, ...], int]:
    """The deployments `person_id` is in (as head or supporter), active or recently ended,
    the most recent few, and how many there are; with `others` (a coordinator's), those of
    everyone else instead."""
    mine = or_(
        col(Deployment.supporter_id) == person_id, col(SupportRequest.requester_id) == person_id
    )
    current = or_(
        col(Deployment.status) == DeploymentStatus.ACTIVE,
        col(Deployment.ended_at) >= now - RECENTLY_ENDED,
    )
    query = (
        select(Deployment, SupportRequest)
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(current, col(Deployment.status).in_(("active", "completed")))
        .where(~mine if others else mine)
    )
    rows = session.exec(
        query.order_by(col(Deployment.started_at).desc(), col(Deployment.id).desc()).limit(
            PROGRESS_SHOWN
        )
    ).all()
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    return tuple(_progress(session, person_id, d, r) for d, r in rows), int(total)


def _progress(
    session: Session, person_id: int, deployment: Deployment, request: SupportRequest
) -> DeploymentProgress:
    plan = session.get(DeploymentPlan, deployment.id) or DeploymentPlan(deployment_id=0)
    school = session.get(School, request.school_id) if request.school_id else None
    role = (
        "supporter"
        if deployment.supporter_id == person_id
        else "head"
        if request.requester_id == person_id
        else "coordinator"
    )
    reviewed = session.exec(
        select(DeploymentReview.id).where(
            DeploymentReview.deployment_id == deployment.id,
            DeploymentReview.person_id == person_id,
        )
    ).first()
    impact = session.exec(
        select(DeploymentImpact.id).where(
            DeploymentImpact.deployment_id == deployment.id,
            DeploymentImpact.person_id == person_id,
        )
    ).first()
    objectives = objective_lines(session, deployment.id or 0)
    return DeploymentProgress(
        deployment_id=deployment.id or 0,
        request_id=request.id or 0,
        role=role,
        status=str(deployment.status),
        school=school.name if school else None,
        head=_mention(session, request.requester_id),
        supporter=_mention(session, deployment.supporter_id),
        first_visit_on=plan.first_visit_on,
        visit_skipped=plan.first_visit_skipped,
        agreement=_agreement_state(plan),
        objectives=len(objectives),
        days_given=days_given(session, deployment),
        days_committed=plan.days_committed,
        review_on=plan.review_on,
        review_sent=plan.review_sent_at is not None,
        reviewed=reviewed is not None,
        closing_asked=plan.closing_asked_at is not None,
        impact_given=impact is not None,
    )


def _mention(session: Session, person_id: int | None) -> str | None:
    """A neutral mention of someone in the deployment (`<@ID|Name>`, either platform), so
    each renderer can name them; None once they are erased."""
    person = session.get(Person, person_id) if person_id else None
    if person is None or person.erased_at is not None:
        return None
    return mention(person)


def _agreement_state(plan: DeploymentPlan) -> str:
    if plan.agreement_confirmed_at:
        return "confirmed"
    if plan.agreement_drafted_at:
        return "drafted"
    return "skipped" if plan.agreement_skipped else "none"
