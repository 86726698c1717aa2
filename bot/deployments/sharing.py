"""The deployment summary as a message, for people whose chat platform takes no file from the
bot (Teams, where a bot's file in a 1:1 chat needs a consent round trip per file): the same
record as the one-page HTML summary, in a card to the person asking, with the command that
prints the HTML. Only the head, the supporter and coordinators may have it, as for the file."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.messages import Card
from bot.core.text import escape
from bot.deployments.record import deployment_record
from bot.deployments.service import involvement
from bot.deployments.views import DECISION_WORDS, RATING_WORDS, day_words, days_words
from bot.outbox.owing import owe_post
from bot.reach.people import normal_user_id

MOST_VISITS = 10  # visit notes shown; the HTML and the export have them all


def _day(iso: str | None) -> str:
    return day_words(date.fromisoformat(iso)) if iso else "—"


def _name(person: dict[str, Any]) -> str:
    return escape(person.get("name") or "someone (erased)")


def summary_paragraphs(record: dict[str, Any]) -> tuple[str, ...]:
    """The deployment record in a few paragraphs of the bot's markup (user text escaped)."""
    school = record["school"]
    where = escape(school.get("name") or "a school") if school else "a school"
    urn = f" (URN {escape(school['urn'])})" if school and school.get("urn") else ""
    agreement = record["agreement"]
    committed = record["days_committed"]
    given = days_words(record["days_given"]) + (
        f" of {days_words(committed)} committed" if committed else ""
    )
    lines = [
        f"*Summary of request #{record['request_id']}: {where}{urn}*",
        f"Head: {_name(record['head'])} · Supporter: {_name(record['supporter'])} · "
        f"{escape(', '.join(record['needs']) or 'needs not recorded')}\n"
        f"Started {_day(record['started_on'])}"
        + (f", ended {_day(record['ended_on'])}" if record["ended_on"] else " (active)")
        + f" · First visit: {_day(record['first_visit_on'])} · Days given: {given}",
    ]
    team = record["team"]
    if team:
        lines.append(
            "*Team:* " + ", ".join(f"{escape(m['name'] or 'someone')} ({m['role']})" for m in team)
        )
    objectives = agreement["objectives"]
    if objectives:
        rows = []
        for o in objectives:
            rating = RATING_WORDS.get(o["rating"] or "", "not rated")
            comment = f" — {escape(o['head_comment'])}" if o["head_comment"] else ""
            rows.append(f"{o['position']}. {escape(o['text'])}: *{rating}*{comment}")
        lines.append(f"*Agreement ({agreement['state']})*\n" + "\n".join(rows))
    else:
        lines.append(f"*Agreement:* {agreement['state']}")
    if agreement.get("expected_impact"):
        lines.append(f"*Expected impact:* {escape(agreement['expected_impact'])}")
    review = record["review"]
    answers = [
        f"{role}: {DECISION_WORDS.get(answer['decision'], answer['decision'])}"
        for role in ("head", "supporter")
        if (answer := review.get(role))
    ]
    if answers:
        lines.append("*Mid-point review:* " + "; ".join(answers))
    visits = [v for v in record["visits"] if v["note"]][:MOST_VISITS]
    if visits:
        lines.append(
            "*Visit notes*\n" + "\n".join(f"{_day(v['on'])}: {escape(v['note'])}" for v in visits)
        )
    impact = record["impact"]
    for role in ("head", "supporter"):
        if impact.get(f"{role}_comment"):
            lines.append(f"*The {role}'s comment:* {escape(impact[f'{role}_comment'])}")
    checkins = record["checkins"]
    lines.append(f"Check-ins sent: {checkins['sent']}, answered: {checkins['answered']}.")
    return tuple(lines)


def share_summary(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """Owe `actor` (the head, the supporter or a coordinator) the summary as a message in
    their direct chat with the bot on the platform they asked from; audited like the file."""
    involvement(
        session,
        ctx,
        actor=actor,
        deployment_id=deployment_id,
        action="deployment.summary",
        roles=("head", "supporter", "coordinator"),
    )
    record = deployment_record(session, deployment_id, ctx.settings.tz)
    printable = (
        "For the printable one-page page, a coordinator can run "
        f"`python -m bot deployments summary {deployment_id} --out summary.html`."
    )
    owe_post(
        session,
        now=ctx.now,
        channel=normal_user_id(actor),  # where they asked, not where they usually are
        text=f"The summary of request #{record['request_id']}.",
        view=Card((*summary_paragraphs(record), printable)),
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.summary_sent",
        subject_type="deployment",
        subject_id=deployment_id,
        request_id=record["request_id"],
        form="message",
    )
    return "I've sent you the summary in our chat."
