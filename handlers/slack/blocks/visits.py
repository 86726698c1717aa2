"""Block Kit for open classrooms: the form asking to visit, the host's date picker, the
visits section of the Home tab, and the coordinators' notice of a visit with no host."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.core.vocabulary import Vocabulary
from bot.visits.booking import FIELD as DATE_FIELD
from bot.visits.messages import ACCEPT, NoHostNotice
from bot.visits.views import (
    STATUS_LABELS,
    VisitDigest,
    VisitDraft,
    VisitLine,
    day_text,
    visit_line_text,
)
from handlers.slack.blocks import Block, button, context, escape, header, plain, section
from handlers.slack.blocks.listing import Listing
from handlers.slack.blocks.requests import _areas_element, _input, _text_input
from storage.models import VisitStatus

VISIT_FORM = "visit_request"
DATE_FORM = "visit_date"
TEXT_INPUT_LIMIT = 3000
PRIVACY_NOTE = (
    ":lock: Say what you'd like to see, not who: please don't name pupils or staff. "
    "Schools that host visits and whose staff have this expertise are asked; one accepts and "
    "picks a school day."
)


def visit_modal(draft: VisitDraft, vocabulary: Vocabulary) -> dict[str, Any]:
    """The form asking to visit a school and observe practice, pre-filled from `draft`."""
    return {
        "type": "modal",
        "callback_id": VISIT_FORM,
        "title": plain("Visit a classroom", 24),
        "submit": plain("Ask to visit"),
        "close": plain("Cancel"),
        "blocks": [
            context(PRIVACY_NOTE),
            _input(
                "description",
                "What would you like to see?",
                _text_input(draft.description, multiline=True, max_length=TEXT_INPUT_LIMIT),
                hint='e.g. "Our maths lead would like to see mastery teaching in Year 4."',
            ),
            _input(
                "areas",
                "Areas of practice",
                _areas_element(vocabulary, draft.tags),
                optional=True,
                hint="Left empty, I'll work them out from what you wrote.",
            ),
        ],
    }


def date_modal(visit_id: int, initial: date) -> dict[str, Any]:
    """The host's date picker for a visit (school days only; checked on submit)."""
    return {
        "type": "modal",
        "callback_id": DATE_FORM,
        "title": plain("Pick the visit date", 24),
        "submit": plain("Book this day"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"visit_id": visit_id}),
        "blocks": [
            section(
                "Pick a school day for the visit. Weekends, bank holidays and school holidays "
                "can't be booked, nor more visits in a half term than your school hosts."
            ),
            _input(
                DATE_FIELD,
                "Visit date",
                {"type": "datepicker", "action_id": "value", "initial_date": initial.isoformat()},
            ),
        ],
    }


def _visit_line(line: VisitLine) -> list[Block]:
    areas = ", ".join(escape(a) for a in line.areas) or "practice"
    status = STATUS_LABELS.get(line.status, str(line.status))
    if line.status == VisitStatus.BOOKED and line.visit_date:
        status = f"booked for *{day_text(line.visit_date)}*"
    school = f" — {escape(line.school)}" if line.school else ""
    if line.offer_id is not None:
        text = f"*Could you host a visit?* To see {areas}{school}"
        accept = button("Host this visit", ACCEPT, str(line.offer_id), style="primary")
        return [section(text, accessory=accept)]
    who = f" with <@{line.other}>" if line.other else ""
    role = "Hosting" if line.as_host else "Visiting"
    return [section(f"*{role}* #{line.id}: {areas}{school}{who} — {status}")]


def home_visit_listing(lines: tuple[VisitLine, ...]) -> Listing:
    """The Home tab's open-classrooms section."""
    return Listing(
        [header("Open classrooms")],
        [_visit_line(line) for line in lines],
        more="and {n} more visits not shown",
        tail=[context("Ask to visit with `/support visit` and a few words.")],
    )


def visit_digest_lines(digest: VisitDigest | None) -> list[str]:
    """The digest's open-classrooms lines: counts only (none in a week without visits)."""
    if digest is None or digest.is_empty():
        return []
    lines = [
        f"• {digest.asked} asked to visit, {digest.booked} booked and {digest.visited} visited "
        f"this week; {digest.upcoming} booked for later"
    ]
    if any(digest.usefulness.values()):
        answers = " · ".join(f"{label} {count}" for label, count in digest.usefulness.items())
        lines.append(f"• Was it useful? {answers}")
    if digest.waiting:
        lines.append(f"• {digest.waiting} waiting for a host to accept or pick a day")
    if digest.unmatched:
        lines.append(f"• {digest.unmatched} found no host school yet")
    return lines


def personal_visit_line(line: VisitLine, today: date) -> str:
    """One visit in a personal digest, as the visitor or the host sees it (a bullet)."""
    return f"• {visit_line_text(line, today)}"


def no_host_notice(view: NoHostNotice) -> list[Block]:
    """The coordinators' notice of a visit with no host, with Slack's command to assign one."""
    return [
        section(
            f"{view.what} A coordinator can assign a host by hand: "
            f"`/support visit-assign {view.visit_id} @name`."
        )
    ]
