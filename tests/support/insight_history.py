"""A seeded autumn term for the supply-and-demand report, with every figure worked out by hand.

As of Monday 30 November 2026, 09:00 (GMT, so UTC). Working hours 08:00-17:00: 9 hours a
working day; no bank holidays between September and November.

| id | area(s) | region | made | accepted | working days | status |
| R0 | send | West Midlands | Fri 28 Aug (summer term) | Wed 2 Sep | (not this term) | closed |
| R1 | send | West Midlands | Mon 2 Nov 09:00 | Wed 4 Nov 09:00 | 18h = 2.0 | accepted |
| R2 | send | West Midlands | Mon 9 Nov 09:00 | Mon 9 Nov 13:30 | 4.5h = 0.5 | closed |
| R3 | maths, send | West Midlands | Tue 10 Nov 08:00 | Fri 13 Nov 17:00 | 36h = 4.0 | accepted |
| R4 | maths | East Midlands | Mon 16 Nov 09:00 | Tue 17 Nov 09:00 | 9h = 1.0 | accepted |
| R5 | send | North East | Mon 2 Nov 09:00 | — (expired; waited 20.0) | | expired |
| R6 | send | North East | Mon 23 Nov 09:00 | — (offered; waited 5.0) | | offered |
| R7 | leadership | West Midlands | Tue 3 Nov | — | | cancelled (left out) |
| R8 | send | West Midlands | Mon 12 Oct 08:00 BST | Tue 27 Oct 08:00 GMT | 99h = 11.0 | closed |

Overall: [0.5, 1, 2, 4, 11] → median 2.0, 90th percentile (nearest rank 5 of 5) 11.0.
SEND: [0.5, 2, 4, 11] → median 3.0, p90 (rank 4 of 4) 11.0. Maths: [1, 4] → 2.5, 4.0.
West Midlands as SEND; East Midlands [1] → 1.0, 1.0. Found nobody: R5.
Active deployments: USPEC1 1/1 (R1), UNLE1 1/2 (R3), USLE2 1/1 (R4); USLE1 0/1.
At capacity: USLE2, USPEC1; near: UNLE1. Free places: UNLE1 1 and USLE1 1, both West
Midlands with SEND and maths; so supply is 2 for SEND and maths in the West Midlands.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from bot.directory.service import import_directory
from storage.db import SessionFactory, transaction
from storage.models import Deployment, Person, RequestTag, School, SupportRequest
from tests.handlers.slack.conftest import DIRECTORY

AS_OF = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


REQUESTS: list[dict[str, Any]] = [
    # id, tags, school, created, accepted, status, escalated, supporter (active deployment)
    dict(key="R0", tags=("send",), school="Mere Green Primary School", created=utc(2026, 8, 28, 9),
         accepted=utc(2026, 9, 2, 9), status="closed"),
    dict(key="R1", tags=("send",), school="Mere Green Primary School", created=utc(2026, 11, 2, 9),
         accepted=utc(2026, 11, 4, 9), status="accepted", supporter="USPEC1"),
    dict(key="R2", tags=("send",), school="Castle Vale Academy", created=utc(2026, 11, 9, 9),
         accepted=utc(2026, 11, 9, 13, 30), status="closed", supporter="USLE1", ended=True),
    dict(key="R3", tags=("maths", "send"), school="Castle Vale Academy",
         created=utc(2026, 11, 10, 8), accepted=utc(2026, 11, 13, 17), status="accepted",
         supporter="UNLE1"),
    dict(key="R4", tags=("maths",), school="Elm Primary School", created=utc(2026, 11, 16, 9),
         accepted=utc(2026, 11, 17, 9), status="accepted", supporter="USLE2"),
    dict(key="R5", tags=("send",), school="Tyne Bank Academy", created=utc(2026, 11, 2, 9),
         status="expired", escalated=utc(2026, 11, 5, 9)),
    dict(key="R6", tags=("send",), school="Tyne Bank Academy", created=utc(2026, 11, 23, 9),
         status="offered"),
    dict(key="R7", tags=("leadership",), school="Mere Green Primary School",
         created=utc(2026, 11, 3, 9), status="cancelled"),
    dict(key="R8", tags=("send",), school="Mere Green Primary School",
         created=utc(2026, 10, 12, 7), accepted=utc(2026, 10, 27, 8), status="closed",
         supporter="USLE1", ended=True),
]  # fmt: skip


def seed_history(sessions: SessionFactory) -> dict[str, int]:
    """Load the directory and the requests above; return request key → id."""
    report = import_directory(sessions, io.StringIO(DIRECTORY), now=utc(2026, 8, 1, 9))
    assert report.ok, report.render()
    ids: dict[str, int] = {}
    with transaction(sessions) as session:
        session.add(School(name="Tyne Bank Academy", phase="secondary", region="North East"))
        session.flush()
        head = _person(session, "UHEAD1")
        for spec in REQUESTS:
            ids[spec["key"]] = _add_request(session, spec, head)
    return ids


def _person(session: Session, slack_id: str) -> int:
    person = session.exec(select(Person).where(Person.slack_user_id == slack_id)).one()
    return person.id or 0


def _add_request(session: Session, spec: dict[str, Any], head: int) -> int:
    school = session.exec(select(School).where(School.name == spec["school"])).one()
    request = SupportRequest(
        requester_id=head,
        school_id=school.id,
        title="Private title",
        description="Private description that must never reach a chart",
        status=spec["status"],
        created_at=spec["created"],
        updated_at=spec["created"],
        accepted_at=spec.get("accepted"),
        escalated_at=spec.get("escalated"),
    )
    session.add(request)
    session.flush()
    for tag in spec["tags"]:
        session.add(RequestTag(request_id=request.id or 0, tag_slug=tag))
    if supporter := spec.get("supporter"):
        session.add(
            Deployment(
                request_id=request.id or 0,
                supporter_id=_person(session, supporter),
                status="completed" if spec.get("ended") else "active",
                started_at=spec["accepted"],
            )
        )
    return request.id or 0
