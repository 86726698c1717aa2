"""Retention: finished requests' free text goes `RETENTION_DAYS` after they finished, and only
then; ids, statuses, dates, tags and the audit stay; messages still owed are never touched."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.entry.jobs import due_tasks, run_due
from bot.entry.runtime import Runtime, build_runtime
from bot.entry.stand_in import SlackWorld
from bot.privacy.retention import ERASED, erase_expired_text
from storage.db import SessionFactory, transaction
from storage.models import (
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    Deployment,
    Offer,
    OutboxMessage,
    Person,
    RequestTag,
    SupportRequest,
)
from tests.handlers.slack.conftest import SUPPORT_CHANNEL
from tests.support.privacy_history import (
    HANNAH_IMPACT,
    PRIYA_DECLINES,
    SAM_NOTES,
    SEND_TEXT,
    build_history,
    click,
    outbox,
    payload_text,
    post,
    slack_world,
)

YEAR = timedelta(days=365)


@pytest.fixture
def slack(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """The bot against the fake Slack, with the test directory imported."""
    with slack_world(db_url, clock) as world:
        yield world


def request(slack: SlackWorld, request_id: int) -> SupportRequest:
    with slack.runtime.sessions() as session:
        found = session.get(SupportRequest, request_id)
    assert found is not None
    return found


def free_text(sessions: SessionFactory, request_id: int) -> dict[str, Any]:
    """Every piece of free text held about a request."""
    with sessions() as session:
        found = session.get(SupportRequest, request_id)
        assert found is not None
        deployments = list(
            session.exec(select(Deployment).where(Deployment.request_id == request_id))
        )
        notes = session.exec(
            select(CheckInAnswer.note)
            .join(CheckIn, CheckIn.id == CheckInAnswer.checkin_id)  # type: ignore[arg-type]
            .where(CheckIn.deployment_id.in_([d.id for d in deployments]))  # type: ignore[attr-defined]
        )
        return {
            "title": found.title,
            "description": found.description,
            "impact_note": found.impact_note,
            "deployment_notes": [d.impact_note for d in deployments],
            "decline_reasons": sorted(
                r
                for r in session.exec(
                    select(Offer.decline_reason).where(Offer.request_id == request_id)
                )
                if r
            ),
            "checkin_notes": sorted(n for n in notes if n),
        }


def kept(sessions: SessionFactory, request_id: int) -> dict[str, Any]:
    """What must survive erasure: ids, statuses, dates, tags."""
    with sessions() as session:
        found = session.get(SupportRequest, request_id)
        assert found is not None
        return {
            "status": found.status,
            "dates": (found.created_at, found.offered_at, found.accepted_at, found.closed_at),
            "people": (found.requester_id, found.assigned_id, found.school_id),
            "tags": sorted(
                session.exec(select(RequestTag.tag_slug).where(RequestTag.request_id == request_id))
            ),
            "offers": sorted(
                (o.id, o.supporter_id, o.status)
                for o in session.exec(select(Offer).where(Offer.request_id == request_id))
            ),
            "deployments": sorted(
                (d.id, d.supporter_id, d.status)
                for d in session.exec(select(Deployment).where(Deployment.request_id == request_id))
            ),
            "audit": sorted(
                (e.id, e.action)
                for e in session.exec(
                    select(AuditEntry).where(
                        AuditEntry.subject_type == "request",
                        AuditEntry.subject_id == str(request_id),
                    )
                )
            ),
        }


def test_the_job_is_one_of_the_due_tasks() -> None:
    assert erase_expired_text in [task for _, task in due_tasks()]


def test_text_goes_a_year_after_closing_and_not_a_day_before(slack: SlackWorld) -> None:
    cancelled = post(slack, "UHEAD2", "Please help with attendance, it has dropped sharply")
    click(slack, "UHEAD2", "request_cancel", str(cancelled), channel_id=SUPPORT_CHANNEL)
    history = build_history(slack, complete=True)
    still_open = post(
        slack, "UHEAD2", "Our new deputy would value leadership coaching", confirm=False
    )
    closed = request(slack, history.send_request)
    assert (closed.status, request(slack, cancelled).status) == ("closed", "cancelled")
    sessions = slack.runtime.sessions
    before = free_text(sessions, history.send_request)
    assert before["impact_note"] == HANNAH_IMPACT
    assert before["checkin_notes"] == sorted([SAM_NOTES, HANNAH_IMPACT])
    assert before["decline_reasons"] == [PRIYA_DECLINES]
    kept_before = kept(sessions, history.send_request)
    open_before = free_text(sessions, still_open)

    # 364 days after it closed: untouched (the cancelled one, a week older, has gone).
    slack.clock.set(closed.closed_at + YEAR - timedelta(days=1))
    assert run_due(slack.runtime)["requests_text_erased"] == 1
    slack.settle()
    assert free_text(sessions, history.send_request) == before
    assert request(slack, history.send_request).text_erased_at is None
    assert request(slack, cancelled).title == ERASED

    # A year and a minute after: gone, with everything said about it.
    slack.clock.set(closed.closed_at + YEAR + timedelta(minutes=1))
    assert run_due(slack.runtime)["requests_text_erased"] == 1
    slack.settle()
    assert free_text(sessions, history.send_request) == {
        "title": ERASED,
        "description": ERASED,
        "impact_note": None,
        "deployment_notes": [None],
        "decline_reasons": [],
        "checkin_notes": [],
    }
    erased = request(slack, history.send_request)
    assert erased.text_erased_at == slack.clock.now()
    after = kept(sessions, history.send_request)
    assert {**after, "audit": []} == {**kept_before, "audit": []}
    audit_before = kept_before["audit"]
    assert after["audit"][: len(audit_before)] == audit_before
    assert [action for _, action in after["audit"][len(audit_before) :]] == ["request.text_erased"]
    # Open requests keep their text whatever their age.
    assert free_text(sessions, still_open) == open_before
    for message in outbox(slack):
        if message.status != "sent":
            continue
        text = payload_text(message)
        for secret in (SAM_NOTES, HANNAH_IMPACT, PRIYA_DECLINES, SEND_TEXT[:30]):
            assert secret not in text, (message.id, message.ref)

    # Idempotent: nothing more to do.
    assert run_due(slack.runtime)["requests_text_erased"] == 0


def test_open_and_accepted_requests_are_never_erased(slack: SlackWorld) -> None:
    history = build_history(slack)  # Hannah's accepted, Harry's offered
    waiting = post(slack, "UHEAD1", "Leadership coaching for our new deputy, please", confirm=False)
    sessions = slack.runtime.sessions
    accepted = free_text(sessions, history.send_request)
    still_open = free_text(sessions, waiting)
    slack.clock.advance(days=3 * 365)
    run_due(slack.runtime)
    slack.settle()
    assert request(slack, history.send_request).status == "accepted"
    assert free_text(sessions, history.send_request) == accepted
    assert free_text(sessions, waiting) == still_open
    # Harry's offers expired meanwhile and it was escalated: it has no closed_at, so its year
    # runs from its last change.
    expired = request(slack, history.maths_request)
    assert expired.status == "expired" and expired.closed_at is None
    assert expired.text_erased_at is None
    slack.clock.set(expired.updated_at + YEAR - timedelta(minutes=1))
    run_due(slack.runtime)
    assert request(slack, history.maths_request).text_erased_at is None
    slack.clock.set(expired.updated_at + YEAR)
    run_due(slack.runtime)
    assert request(slack, history.maths_request).title == ERASED


# --- the rules, row by row ---------------------------------------------------------------------
@pytest.fixture
def runtime_for(db_url: str, clock: FixedClock) -> Iterator[Callable[..., Runtime]]:
    """Makes runtimes on the test database (settings from keyword arguments), closed after."""
    made: list[Runtime] = []

    def make(**env: str) -> Runtime:
        settings = load_settings({"DATABASE_URL": db_url, **env}, env_file=None)
        made.append(build_runtime(settings, clock=clock, prepare=False))
        return made[-1]

    yield make
    for runtime in made:
        runtime.engine.dispose()


def closed_request(session: Session, *, closed_at: datetime, status: str = "closed") -> int:
    """A finished request with a decline reason, a check-in note and an impact note."""
    head = Person(
        slack_user_id=f"UH{uuid.uuid4().hex[:10].upper()}",
        name="Head",
        created_at=closed_at,
        updated_at=closed_at,
    )
    supporter = Person(
        slack_user_id=f"US{uuid.uuid4().hex[:10].upper()}",
        name="Supporter",
        created_at=closed_at,
        updated_at=closed_at,
    )
    session.add(head)
    session.add(supporter)
    session.flush()
    request = SupportRequest(
        requester_id=head.id or 0,
        title="Struggling with phonics",
        description="Our phonics results fell",
        status=status,
        created_at=closed_at - timedelta(days=30),
        updated_at=closed_at,
        closed_at=closed_at if status != "expired" else None,
        impact_note="Phonics back on track" if status == "closed" else None,
    )
    session.add(request)
    session.flush()
    rid = request.id or 0
    session.add(RequestTag(request_id=rid, tag_slug="send"))
    session.add(
        Offer(
            request_id=rid,
            supporter_id=supporter.id or 0,
            status="declined",
            reasons="SEND",
            decline_reason="Too far",
            created_at=closed_at,
        )
    )
    deployment = Deployment(
        request_id=rid,
        supporter_id=supporter.id or 0,
        status="completed",
        started_at=closed_at,
        impact_note="Phonics back on track",
    )
    session.add(deployment)
    session.flush()
    checkin = CheckIn(deployment_id=deployment.id or 0, due_at=closed_at, status="answered")
    session.add(checkin)
    session.flush()
    session.add(
        CheckInAnswer(
            checkin_id=checkin.id or 0,
            person_id=head.id or 0,
            outcome="on_track",
            note="Going well",
            answered_at=closed_at,
        )
    )
    return rid


def message(
    session: Session, *, at: datetime, status: str = "sent", **fields: Any
) -> OutboxMessage:
    row = OutboxMessage(
        created_at=at,
        next_attempt_at=at,
        method=fields.pop("method", "chat.postMessage"),
        channel=fields.pop("channel", "C0SUPPORT"),
        payload={
            "text": "Phonics: our results fell",
            "blocks": [{"type": "section"}],
            **fields.pop("payload", {}),
        },
        status=status,
        **fields,
    )
    session.add(row)
    return row


def test_sent_messages_about_it_lose_their_text_and_owed_ones_stay_whole(
    sessions: SessionFactory, clock: FixedClock, runtime_for: Callable[..., Runtime]
) -> None:
    old = clock.now() - YEAR - timedelta(days=1)
    recent = clock.now() - timedelta(days=2)
    with transaction(sessions) as session:
        rid = closed_request(session, closed_at=old)
        offer_id = session.exec(select(Offer.id).where(Offer.request_id == rid)).one()
        card = message(session, at=recent, ref=f"request:{rid}:card")
        offer_dm = message(session, at=recent, channel="U0SUP", ref=f"offer:{offer_id}")
        failed = message(session, at=recent, status="failed", ref=f"request:{rid}:post")
        reply = message(session, at=recent, thread_of=f"request:{rid}:post")
        owed_update = message(
            session,
            at=recent,
            status="pending",
            method="chat.update",
            channel="",
            update_of=f"request:{rid}:card",
        )
        other = message(session, at=recent, ref="request:99:card")
        old_other = message(session, at=old, ref="request:98:card", payload={"thread_ts": "1.2"})
    runtime = runtime_for()

    assert erase_expired_text(runtime) == 1

    with sessions() as session:
        rows = {m.id: m for m in session.exec(select(OutboxMessage))}
    for erased in (card, offer_dm, failed, reply):
        row = rows[erased.id]
        assert row.payload["text"] == ERASED and "blocks" not in row.payload
        assert row.text_erased_at == clock.now()
    assert rows[owed_update.id].payload["text"] == "Phonics: our results fell"
    assert rows[owed_update.id].payload["blocks"] and rows[owed_update.id].status == "pending"
    assert rows[other.id].payload["text"] == "Phonics: our results fell"
    # Any sent message older than the retention period goes too; its thread is kept.
    assert rows[old_other.id].payload == {"text": ERASED, "thread_ts": "1.2"}
    assert rows[old_other.id].ref == "request:98:card"  # ids and refs stay


def test_retention_days_is_a_setting(
    sessions: SessionFactory, clock: FixedClock, runtime_for: Callable[..., Runtime]
) -> None:
    with transaction(sessions) as session:
        month_old = closed_request(session, closed_at=clock.now() - timedelta(days=31))
        fortnight = closed_request(session, closed_at=clock.now() - timedelta(days=14))
    assert erase_expired_text(runtime_for()) == 0
    assert erase_expired_text(runtime_for(RETENTION_DAYS="30")) == 1
    texts = free_text(sessions, month_old), free_text(sessions, fortnight)
    assert texts[0]["description"] == ERASED and texts[0]["checkin_notes"] == []
    assert texts[1]["description"] == "Our phonics results fell"
    assert texts[1]["checkin_notes"] == ["Going well"]


def test_every_finished_status_counts_and_expired_ones_use_their_last_change(
    sessions: SessionFactory, clock: FixedClock, runtime_for: Callable[..., Runtime]
) -> None:
    long_ago = clock.now() - YEAR - timedelta(hours=1)
    with transaction(sessions) as session:
        ids = {
            status: closed_request(session, closed_at=long_ago, status=status)
            for status in ("closed", "cancelled", "expired")
        }
        recent_expiry = closed_request(session, closed_at=long_ago, status="expired")
        session.get(SupportRequest, recent_expiry).updated_at = clock.now() - timedelta(days=1)
    assert erase_expired_text(runtime_for()) == 3
    for rid in ids.values():
        assert free_text(sessions, rid)["title"] == ERASED
    assert free_text(sessions, recent_expiry)["title"] == "Struggling with phonics"


def test_text_written_after_an_earlier_erasure_goes_a_year_after_closing(
    sessions: SessionFactory, clock: FixedClock, runtime_for: Callable[..., Runtime]
) -> None:
    """A head erased while support went on: notes written later go once the year is up."""
    closed_at = clock.now() - YEAR - timedelta(days=1)
    with transaction(sessions) as session:
        rid = closed_request(session, closed_at=closed_at)
        row = session.get(SupportRequest, rid)
        row.title, row.text_erased_at = ERASED, closed_at - timedelta(days=20)
    assert erase_expired_text(runtime_for()) == 1
    assert free_text(sessions, rid)["checkin_notes"] == []
    assert erase_expired_text(runtime_for()) == 0


def test_two_processes_at_once_erase_each_request_exactly_once(
    sessions: SessionFactory, clock: FixedClock, runtime_for: Callable[..., Runtime]
) -> None:
    long_ago = clock.now() - YEAR - timedelta(days=3)
    with transaction(sessions) as session:
        ids = [
            closed_request(session, closed_at=long_ago + timedelta(seconds=i)) for i in range(60)
        ]
    runtimes = [runtime_for() for _ in range(2)]
    start = threading.Barrier(2)
    counts: list[int] = []

    def work(runtime: Runtime) -> None:
        start.wait()
        counts.append(erase_expired_text(runtime))

    threads = [threading.Thread(target=work, args=(r,)) for r in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(counts) and sum(counts) == len(ids)
    with sessions() as session:
        erased = list(
            session.exec(select(AuditEntry).where(AuditEntry.action == "request.text_erased"))
        )
        assert sorted(int(e.subject_id) for e in erased) == sorted(ids)
        assert all(json.dumps(e.detail) == json.dumps({"reason": "retention"}) for e in erased), (
            "the audit holds ids and the reason, never text"
        )
