"""The one-page printable HTML summary of a deployment record (`bot.deployments.record`).

Self-contained (inline CSS, no scripts, no links out), every value escaped, A4 when printed.
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any

from bot.deployments.views import DECISION_WORDS, RATING_WORDS, day_words, days_words
from bot.teamwork.views import ROLE_WORDS

STYLE = """
body{font-family:Arial,Helvetica,sans-serif;font-size:11pt;color:#0b0c0c;margin:2em;
max-width:50em}
h1{font-size:18pt;margin:0 0 .2em}
h2{font-size:13pt;margin:1.2em 0 .4em;border-bottom:1px solid #b1b4b6}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.3em .5em;border-bottom:1px solid #e0e0e0}
th{width:30%}.muted{color:#505a5f;font-size:9pt}
@page{size:A4;margin:15mm}@media print{body{margin:0}}
"""


LOCATION = ("phase", "region", "local_authority")


def _text(value: Any, empty: str = "—") -> str:
    return escape(str(value)) if value not in (None, "") else empty


def _date(value: str | None) -> str:
    return day_words(date.fromisoformat(value)) if value else "—"


def _who(person: dict[str, str | None]) -> str:
    return _text(person.get("name") or person.get("slack_user_id"))


def _rows(pairs: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in pairs)
    return f"<table>{body}</table>"


def _facts(record: dict[str, Any]) -> str:
    school = record["school"]
    committed = record["days_committed"]
    days = days_words(record["days_given"]) + (
        f" of {days_words(committed)} committed" if committed else ""
    )
    return _rows(
        [
            ("School", f"{_text(school['name'])} (URN {_text(school['urn'])})"),
            (
                "Phase, region, authority",
                ", ".join(_text(school[k]) for k in ("phase", "region", "local_authority")),
            ),
            ("Areas of need", _text(", ".join(record["needs"]))),
            ("Head", _who(record["head"])),
            ("Supporter", _who(record["supporter"])),
            ("Dates", f"{_date(record['started_on'])} to {_date(record['ended_on'])}"),
            ("First visit", _date(record["first_visit_on"])),
            ("Days given", escape(days)),
            ("Status", _text(record["status"])),
        ]
    )


def _objectives(record: dict[str, Any]) -> str:
    agreement = record["agreement"]
    rows = "".join(
        f"<tr><td>{o['position']}. {_text(o['text'])}</td>"
        f"<td>{escape(RATING_WORDS.get(o['rating'] or '', 'Not rated'))}</td>"
        f"<td>{_text(o['head_comment'], '')}</td><td>{_text(o['supporter_comment'], '')}</td></tr>"
        for o in agreement["objectives"]
    )
    table = (
        "<table><tr><th>Objective</th><th>Progress</th><th>Head</th><th>Supporter</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p>No objectives were recorded.</p>"
    )
    return (
        f"<p>Agreement: {_text(agreement['state'])}"
        f" (confirmed {_date(agreement['confirmed_on'])}); review date "
        f"{_date(agreement['review_on'])}.</p>{table}"
        f"<p><strong>Expected impact:</strong> {_text(agreement['expected_impact'])}</p>"
    )


def _review_and_impact(record: dict[str, Any]) -> str:
    review, impact, checkins = record["review"], record["impact"], record["checkins"]

    def decision(answer: dict[str, Any] | None) -> str:
        if not answer:
            return "—"
        note = f": {_text(answer['note'])}" if answer.get("note") else ""
        return escape(DECISION_WORDS.get(answer["decision"], answer["decision"])) + note

    ended = (
        [("Ended by a coordinator", _text(record["end_reason"]))] if record["end_reason"] else []
    )
    return _rows(
        [
            (
                "Check-ins",
                f"{checkins['sent']} sent, {checkins['answered']} answered, "
                f"{checkins['missed']} missed",
            ),
            ("Mid-point review (head)", decision(review["head"])),
            ("Mid-point review (supporter)", decision(review["supporter"])),
            ("Impact (head)", _text(impact["head_comment"])),
            ("Impact (supporter)", _text(impact["supporter_comment"])),
            ("Closing note", _text(record["impact_note"])),
            *ended,
        ]
    )


def _team(record: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_who(m)}</td><td>{escape(ROLE_WORDS.get(m['role'], m['role']))}</td>"
        f"<td>{_date(m['added_on'])}</td><td>{_date(m['removed_on'])}</td></tr>"
        for m in record["team"]
    )
    if not rows:
        return "<p>No colleagues or shadows joined the supporter.</p>"
    return f"<table><tr><th>Name</th><th>Role</th><th>Added</th><th>Removed</th></tr>{rows}</table>"


def _visits(record: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_date(v['on'])}</td><td>{escape(days_words(v['days']))}</td>"
        f"<td>{_text(v['note'], '')}</td></tr>"
        for v in record["visits"]
    )
    if not rows:
        return "<p>No visits were logged.</p>"
    return f"<table><tr><th>Date</th><th>Days</th><th>Note</th></tr>{rows}</table>"


def summary_html(record: dict[str, Any], *, generated: datetime) -> str:
    """The record as one printable HTML page."""
    title = f"Deployment {record['deployment_id']} (request #{record['request_id']})"
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>School-to-school support: {escape(title)}</h1>"
        f'<p class="muted">Summary made {escape(day_words(generated.date()))}, '
        f"{generated:%H:%M}. Confidential: for the school, its supporter, governors and "
        "the coordinators.</p>"
        f"<h2>The support</h2>{_facts(record)}"
        f"<h2>Team: colleagues and shadows</h2>{_team(record)}"
        f"<h2>Agreement and progress against objectives</h2>{_objectives(record)}"
        f"<h2>Visits</h2>{_visits(record)}"
        f"<h2>Review and impact</h2>{_review_and_impact(record)}"
        "</body></html>\n"
    )
