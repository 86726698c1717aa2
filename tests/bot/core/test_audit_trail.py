"""Reading the audit log: a request's entries with its offers, deployments and check-ins, a
person's entries, readable words, local times, and `python -m bot audit`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import audit
from bot.core.audit_trail import audit_trail, describe
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models import CheckIn, Deployment, Offer, Person, SupportRequest
from tests.bot.entry.test_cli import run

LONDON = ZoneInfo("Europe/London")
WINTER = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _history(sessions: SessionFactory) -> None:
    """Two requests; the first offered, accepted and checked in on, with audit entries."""
    with transaction(sessions) as session:
        head = Person(slack_user_id="UHEAD1", name="H", created_at=WINTER, updated_at=WINTER)
        sam = Person(slack_user_id="USLE1", name="S", created_at=WINTER, updated_at=WINTER)
        session.add_all([head, sam])
        session.flush()
        first, second = (
            SupportRequest(requester_id=head.id or 0, created_at=WINTER, updated_at=WINTER)
            for _ in range(2)
        )
        session.add_all([first, second])
        session.flush()
        offer = Offer(request_id=first.id or 0, supporter_id=sam.id or 0, created_at=WINTER)
        other = Offer(request_id=second.id or 0, supporter_id=sam.id or 0, created_at=WINTER)
        deployment = Deployment(
            request_id=first.id or 0, supporter_id=sam.id or 0, started_at=WINTER
        )
        session.add_all([offer, other, deployment])
        session.flush()
        checkin = CheckIn(deployment_id=deployment.id or 0, due_at=WINTER)
        session.add(checkin)
        session.flush()
        entries = [
            (SUMMER, "UHEAD1", "request.captured", "request", first.id, {}),
            (WINTER, None, "request.offered", "request", first.id, {"round": 1, "supporters": [2]}),
            (WINTER + timedelta(minutes=1), "USLE1", "offer.declined", "offer", other.id, {}),
            (WINTER + timedelta(minutes=2), "USLE1", "request.accepted", "request", first.id, {}),
            (WINTER + timedelta(minutes=3), None, "checkin.sent", "checkin", checkin.id, {}),
            (
                WINTER + timedelta(minutes=4),
                "USLE1",
                "deployment.released",
                "deployment",
                deployment.id,
                {},
            ),
            (WINTER + timedelta(minutes=5), "UCOORD", "person.erased", "person", sam.id, {}),
            (
                WINTER + timedelta(minutes=6),
                "UHEAD1",
                "request.view.refused",
                "request",
                second.id,
                {},
            ),
        ]
        for at, actor, action, kind, subject, detail in entries:
            audit.record(
                session,
                at=at,
                actor=actor,
                action=action,
                subject_type=kind,
                subject_id=subject or 0,
                **detail,
            )


def test_a_requests_trail_has_its_offers_deployment_and_checkins_oldest_first(
    sessions: SessionFactory,
) -> None:
    _history(sessions)
    with sessions() as session:
        lines = audit_trail(session, request_id=1)
    assert [line.action for line in lines] == [
        "request.captured",
        "request.offered",
        "request.accepted",
        "checkin.sent",
        "deployment.released",
    ]
    assert lines[1].words == "offered the request to 1 supporter (round 1)"
    assert lines[0].local_time(LONDON) == "1 Jul 2026, 10:00 BST"
    assert lines[1].local_time(LONDON) == "23 Nov 2026, 09:00 GMT"


def test_a_persons_trail_is_what_they_did_and_what_was_done_to_their_entry(
    sessions: SessionFactory,
) -> None:
    _history(sessions)
    with sessions() as session:
        sams = audit_trail(session, slack_user_id="USLE1")
        both = audit_trail(session, request_id=1, slack_user_id="USLE1")
        nobody = audit_trail(session, slack_user_id="UNOBODY")
    assert [line.action for line in sams] == [
        "offer.declined",
        "request.accepted",
        "deployment.released",
        "person.erased",
    ]
    assert [line.action for line in both] == ["request.accepted", "deployment.released"]
    assert nobody == []


def test_every_action_reads_as_words_even_one_not_listed() -> None:
    assert describe("request.escalated", "request", "4", {"reason": "no one accepted in time"}) == (
        "asked the coordinators to assign someone (no one accepted in time)"
    )
    assert describe("request.view.refused", "request", "4", {}) == (
        "was refused (request view on request 4)"
    )
    assert describe("deployment.agreement_confirmed", "deployment", "2", {}) == (
        "deployment agreement confirmed"
    )
    assert describe("request.offered", "request", "4", {}) == (
        "offered the request to 0 supporters (round ?)"
    )


def _cli_database(db_url: str) -> dict[str, str]:
    engine = make_engine(db_url)
    try:
        _history(make_session_factory(engine))
    finally:
        engine.dispose()
    return {"DATABASE_URL": db_url}


def test_cli_prints_one_line_per_entry_and_json(db_url: str) -> None:
    env = _cli_database(db_url)
    result = run("audit", "--request", "1", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0] == "1 Jul 2026, 10:00 BST  request 1  UHEAD1  captured the request"
    assert lines[1].endswith("the bot  offered the request to 1 supporter (round 1)")

    as_json = run("audit", "--person", "USLE1", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    entries = json.loads(as_json.stdout)
    assert [entry["action"] for entry in entries][:2] == ["offer.declined", "request.accepted"]
    assert entries[0]["at"] == "2026-11-23T09:01:00+00:00"
    assert {"id", "actor", "subject_type", "subject_id", "detail", "words"} <= set(entries[0])
    everything = run("audit", env=env)
    assert len(everything.stdout.splitlines()) == 8


def test_cli_bad_arguments_are_one_line_and_exit_1(db_url: str) -> None:
    env = _cli_database(db_url)
    for args, says in (
        (("--request", "twelve"), "--request must be a request number like 12"),
        (("--person", "bob"), "--person must be a Slack user id like U0123ABCD"),
        (("--request", "99"), "there is no request #99"),
    ):
        result = run("audit", *args, env=env)
        assert result.returncode == 1
        assert result.stdout == ""
        [line] = result.stderr.strip().splitlines()
        assert says in line
