"""Subject access and erasure: `privacy export` and `privacy erase` on a real history."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.entry.stand_in import SlackWorld
from bot.outbox.owing import HOME_PUBLISH, owe_home
from bot.privacy.retention import ERASED
from bot.privacy.service import ERASED_NAME, erase_person, export_person
from bot.routing.service import load_candidates, rank_for
from handlers.slack.blocks.render import slack_payload
from storage.db import transaction
from storage.models import (
    AuditEntry,
    CheckInAnswer,
    Deployment,
    Offer,
    OutboxMessage,
    Person,
    PersonExpertise,
    PersonRole,
    SupportRequest,
)
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL
from tests.support.privacy_history import (
    HANNAH_IMPACT,
    MATHS_TEXT,
    PRIYA_DECLINES,
    SAM_NOTES,
    SEND_TEXT,
    History,
    build_history,
    outbox,
    payload_text,
    slack_world,
)

ROOT = Path(__file__).resolve().parents[3]
# Everyone in the test directory but Sam, as the directory knows them.
OTHERS = {
    "UHEAD1": ("Hannah Head", "h.head@example.org"),
    "UHEAD2": ("Harry Head", "h2@example.org"),
    "UNLE1": ("Nadia Leader", "n.leader@example.org"),
    "USLE2": ("Sally Maths", "s.maths@example.org"),
    "USPEC1": ("Priya Senco", "p.senco@example.org"),
    "UCOORD": ("Chris Coordinator", "c.coord@example.org"),
}


@pytest.fixture
def slack(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """The bot against the fake Slack, with the test directory imported."""
    with slack_world(db_url, clock) as world:
        yield world


@pytest.fixture
def history(slack: SlackWorld) -> History:
    """Hannah's SEND request supported by Sam, Harry's maths request still offered."""
    return build_history(slack)


def run_cli(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def export(slack: SlackWorld, user: str) -> dict[str, Any]:
    with slack.runtime.sessions() as session:
        data = export_person(session, user, as_sent=slack_payload)
    assert data is not None
    return json.loads(json.dumps(data))  # what the CLI prints must be plain JSON


def erase(slack: SlackWorld, user: str) -> str:
    with transaction(slack.runtime.sessions) as session:
        report = erase_person(session, slack.runtime.context(), user)
    assert report is not None
    slack.settle()
    return report.summary(slack.runtime.settings.tz)


def person(slack: SlackWorld, user: str) -> Person:
    with slack.runtime.sessions() as session:
        found = session.exec(select(Person).where(Person.slack_user_id == user)).first()
    assert found is not None
    return found


# --- export ----------------------------------------------------------------------------------
def test_export_of_a_supporter_holds_each_kind_of_their_data(
    slack: SlackWorld, history: History
) -> None:
    data = export(slack, "USLE1")
    entry = data["directory_entry"]
    assert (entry["name"], entry["email"]) == ("Sam Specialist", "s.spec@example.org")
    assert entry["roles"] == ["sle"]
    assert entry["school"]["name"] == "Birch Primary School"
    assert entry["expertise"] == ["maths", "send"]
    assert (entry["capacity"], entry["available"], entry["erased_at"]) == (1, True, None)

    offers = {o["request_id"]: o for o in data["offers_received"]}
    assert offers[history.send_request]["status"] == "accepted"
    assert offers[history.maths_request]["status"] == "open"
    assert "send" in offers[history.send_request]["reasons"].lower()
    [deployment] = data["deployments"]
    assert (deployment["request_id"], deployment["role"], deployment["status"]) == (
        history.send_request,
        "supporter",
        "active",
    )
    [answer] = data["checkin_answers"]
    assert (answer["checkin_id"], answer["outcome"], answer["note"]) == (
        history.checkin,
        "needs_attention",
        SAM_NOTES,
    )
    actions = {e["action"] for e in data["audit_entries"]}
    assert {"directory.person_added", "request.accepted", "checkin.answered"} <= actions
    assert all(
        e["actor"] == "USLE1" or e["subject_type"] == "person" for e in data["audit_entries"]
    )
    messages = data["messages_to_them"]
    assert {m["channel"] for m in messages} == {"DSLE1"}
    shown = json.dumps(messages)
    assert "Can you help a school?" in shown and "How is the support going?" in shown
    assert data["requests"] == []


def test_export_says_nothing_about_other_people(slack: SlackWorld, history: History) -> None:
    whole = json.dumps(export(slack, "USLE1"), ensure_ascii=False)
    for user, (name, email) in OTHERS.items():
        if user in ("UHEAD1",):
            continue  # Sam supports Hannah: her contact details were sent to him
        assert name not in whole, name
        assert email not in whole, email
    assert PRIYA_DECLINES not in whole
    # Priya's own export has her decline reason and nothing of Sam's.
    priya = json.dumps(export(slack, "USPEC1"), ensure_ascii=False)
    assert PRIYA_DECLINES in priya
    assert SAM_NOTES not in priya and "Sam Specialist" not in priya and "USLE1" not in priya


def test_export_of_a_head_has_their_requests_with_text(slack: SlackWorld, history: History) -> None:
    data = export(slack, "UHEAD1")
    [request] = data["requests"]
    assert request["id"] == history.send_request
    assert request["description"] == SEND_TEXT
    assert request["status"] == "accepted" and request["tags"]
    assert [d["role"] for d in data["deployments"]] == ["head"]
    assert [a["outcome"] for a in data["checkin_answers"]] == ["on_track"]
    assert data["offers_received"] == []
    whole = json.dumps(data, ensure_ascii=False)
    assert SAM_NOTES not in whole and PRIYA_DECLINES not in whole and MATHS_TEXT not in whole
    assert "request.captured" in {e["action"] for e in data["audit_entries"]}


def test_export_of_someone_unknown_is_none(slack: SlackWorld) -> None:
    with slack.runtime.sessions() as session:
        assert export_person(session, "U0NOBODY") is None


# --- erasure ---------------------------------------------------------------------------------
def test_erasing_a_supporter_removes_their_data_and_keeps_the_ids(
    slack: SlackWorld, history: History
) -> None:
    with slack.runtime.sessions() as session:
        audit_before = len(list(session.exec(select(AuditEntry))))
        offers_before = {o.id: o.status for o in session.exec(select(Offer))}
    slack.fake.clear()

    summary = erase(slack, "USLE1")

    assert summary.startswith("Erased USLE1 (person #") and "\n" not in summary
    sam = person(slack, "USLE1")
    assert (sam.name, sam.email, sam.school_id) == (ERASED_NAME, None, None)
    assert sam.erased_at == slack.clock.now()
    with slack.runtime.sessions() as session:
        assert not list(session.exec(select(PersonRole).where(PersonRole.person_id == sam.id)))
        assert not list(
            session.exec(select(PersonExpertise).where(PersonExpertise.person_id == sam.id))
        )
        answers = list(session.exec(select(CheckInAnswer).where(CheckInAnswer.person_id == sam.id)))
        assert [(a.outcome, a.note) for a in answers] == [("needs_attention", None)]
        his_offers = list(session.exec(select(Offer).where(Offer.supporter_id == sam.id)))
        assert all(o.reasons == "" and o.decline_reason is None for o in his_offers)
        # The audit keeps every entry (ids only) and says what happened.
        entries = list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))  # type: ignore[arg-type]
        assert len(entries) > audit_before
        erased = [e for e in entries if e.action == "person.erased"]
        assert len(erased) == 1 and erased[0].subject_id == str(sam.id)
        assert "Sam" not in json.dumps(erased[0].detail)
        assert {o.id for o in session.exec(select(Offer))} >= set(offers_before)

    # Nothing the bot still holds names him or gives his email.
    for message in outbox(slack):
        if message.status == "sent":
            text = payload_text(message)
            assert "Sam Specialist" not in text and "s.spec@example.org" not in text, message.ref
    data = export(slack, "USLE1")
    assert data["directory_entry"]["name"] == ERASED_NAME
    assert SAM_NOTES not in json.dumps(data)


def test_erasing_a_supporter_erases_the_home_pages_sent_to_them(
    slack: SlackWorld, history: History
) -> None:
    page = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Sam Specialist"}}],
    }
    with transaction(slack.runtime.sessions) as session:
        owe_home(session, now=slack.clock.now(), user="USLE1", page=page)
    slack.settle()
    shown = slack.fake.home_view("USLE1")
    assert shown is not None and shown["blocks"] == page["blocks"]

    erase(slack, "USLE1")

    [sent] = [m for m in outbox(slack) if m.method == HOME_PUBLISH]
    assert sent.status == "sent" and "Sam Specialist" not in payload_text(sent)


def test_erasing_a_supporter_withdraws_open_offers_and_flags_their_deployment(
    slack: SlackWorld, history: History
) -> None:
    maths_offer = next(
        o
        for o in export(slack, "USLE1")["offers_received"]
        if o["request_id"] == history.maths_request
    )
    slack.fake.clear()

    erase(slack, "USLE1")

    with slack.runtime.sessions() as session:
        assert session.get(Offer, maths_offer["id"]).status == "withdrawn"
        maths = session.get(SupportRequest, history.maths_request)
        assert maths.status == "offered"  # Nadia's and Sally's offers are still open
        send = session.get(SupportRequest, history.send_request)
        deployment = session.exec(
            select(Deployment).where(Deployment.request_id == history.send_request)
        ).one()
    assert deployment.status == "active", "the deployment row is left for coordinators"
    assert send.status == "accepted" and send.escalated_at == slack.clock.now()
    withdrawn = [c for c in slack.fake.calls_to("chat.update") if c.args["channel"] == "DSLE1"]
    assert any("withdrawn" in c.args["text"] for c in withdrawn)
    notices = [
        c.args["text"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert notices == [
        f"Request #{history.send_request} needs a new supporter: its supporter's "
        "data was erased at their request."
    ]


def test_an_erased_person_is_never_a_routing_candidate(slack: SlackWorld, history: History) -> None:
    with slack.runtime.sessions() as session:
        assert "USLE1" in {c.user_id for c in load_candidates(session)}
    erase(slack, "USLE1")
    sam = person(slack, "USLE1")
    with slack.runtime.sessions() as session:
        assert "USLE1" not in {c.user_id for c in load_candidates(session)}
        # Not even with his roles and expertise back (say, a stray manual fix).
        session.add(PersonRole(person_id=sam.id or 0, role="sle"))
        session.add(PersonExpertise(person_id=sam.id or 0, tag_slug="maths"))
        session.flush()
        assert "USLE1" not in {c.user_id for c in load_candidates(session)}
        maths = session.get(SupportRequest, history.maths_request)
        assert "USLE1" not in {
            m.candidate.user_id for m in rank_for(session, maths, slack.runtime.vocabulary)
        }
        session.rollback()


def test_a_second_erasure_names_the_local_day_of_the_first(
    slack: SlackWorld, history: History
) -> None:
    slack.clock.set(datetime(2027, 6, 8, 23, 30, tzinfo=UTC))  # 00:30 on 9 June, BST
    erase(slack, "USLE1")
    slack.clock.set(datetime(2027, 6, 10, 9, 0, tzinfo=UTC))

    again = erase(slack, "USLE1")

    assert again.startswith("USLE1 was already erased on 9 June 2027; ")


def test_erasure_is_idempotent(slack: SlackWorld, history: History) -> None:
    erase(slack, "USLE1")
    with slack.runtime.sessions() as session:
        audit_count = len(list(session.exec(select(AuditEntry))))
    messages = len(outbox(slack))
    first = export(slack, "USLE1")

    again = erase(slack, "USLE1")

    assert again.endswith("nothing more to erase.") and "already erased" in again
    with slack.runtime.sessions() as session:
        assert len(list(session.exec(select(AuditEntry)))) == audit_count
    assert len(outbox(slack)) == messages, "no second round of notices"
    assert export(slack, "USLE1") == first


def test_erasing_a_head_erases_their_requests_and_cancels_open_ones(
    slack: SlackWorld, history: History
) -> None:
    slack.fake.clear()
    summary = erase(slack, "UHEAD2")
    assert "1 request's text (1 cancelled)" in summary
    with slack.runtime.sessions() as session:
        maths = session.get(SupportRequest, history.maths_request)
        offers = list(session.exec(select(Offer).where(Offer.request_id == history.maths_request)))
    assert maths.status == "cancelled" and maths.closed_at == slack.clock.now()
    assert (maths.title, maths.description, maths.text_erased_at) == (
        ERASED,
        ERASED,
        slack.clock.now(),
    )
    assert {o.status for o in offers} == {"withdrawn"}
    updated = {c.args["channel"] for c in slack.fake.calls_to("chat.update")}
    assert {"DNLE1", "DSLE1", "DSLE2"} <= updated, "every offered supporter is told"
    card = [
        c.args
        for c in slack.fake.calls_to("chat.update")
        if c.args["channel"] == "C0SUPPORT" and "erased" in c.args["text"]
    ]
    assert card, "the request card in the channel no longer shows the text"
    for message in outbox(slack):
        if message.status == "sent":
            assert "algebra" not in payload_text(message), message.ref


def test_erasing_a_head_whose_support_is_under_way_keeps_it_going(
    slack: SlackWorld, history: History
) -> None:
    erase(slack, "UHEAD1")
    with slack.runtime.sessions() as session:
        send = session.get(SupportRequest, history.send_request)
        deployment = session.exec(
            select(Deployment).where(Deployment.request_id == history.send_request)
        ).one()
        notes = [a.note for a in session.exec(select(CheckInAnswer))]
    assert send.status == "accepted" and deployment.status == "active"
    assert send.title == ERASED and send.description == ERASED
    assert SAM_NOTES not in notes, "the whole request's text goes with it"
    for message in outbox(slack):
        if message.status == "sent":
            text = payload_text(message)
            assert "Hannah Head" not in text and "h.head@example.org" not in text
            assert "SENCO has left" not in text


def test_an_impact_note_goes_with_the_person_who_wrote_it(
    slack: SlackWorld, clock: FixedClock
) -> None:
    history = build_history(slack, complete=True)
    erase(slack, "USLE1")
    with slack.runtime.sessions() as session:
        assert session.get(SupportRequest, history.send_request).impact_note == HANNAH_IMPACT
    erase(slack, "UHEAD1")
    with slack.runtime.sessions() as session:
        send = session.get(SupportRequest, history.send_request)
        deployment = session.exec(
            select(Deployment).where(Deployment.request_id == history.send_request)
        ).one()
    assert (send.status, send.impact_note, deployment.impact_note) == ("closed", None, None)


# --- the command line ------------------------------------------------------------------------
def test_cli_export_prints_json(slack: SlackWorld, history: History, db_url: str) -> None:
    result = run_cli("privacy", "export", "USLE1", db_url=db_url)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["slack_user_id"] == "USLE1"
    assert data["checkin_answers"][0]["note"] == SAM_NOTES


def test_cli_unknown_person_is_one_line_and_fails(slack: SlackWorld, db_url: str) -> None:
    for action in ("export", "erase"):
        result = run_cli("privacy", action, "U0NOBODY", db_url=db_url)
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr.strip().splitlines() == [
            "error: nobody with Slack or Teams user id U0NOBODY is in the directory"
        ]


def test_cli_erase_erases_and_says_so_once(
    slack: SlackWorld, history: History, db_url: str
) -> None:
    result = run_cli("privacy", "erase", "USLE1", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("Erased USLE1") and "1 open offer withdrawn" in result.stdout
    assert person(slack, "USLE1").name == ERASED_NAME
    with slack.runtime.sessions() as session:
        owed = list(session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")))
    assert owed, "withdrawals and the coordinator notice are owed for the running bot"
    slack.settle()
    again = run_cli("privacy", "erase", "USLE1", db_url=db_url)
    assert again.returncode == 0 and "nothing more to erase" in again.stdout


def test_available_from_and_the_schools_trust_are_exported_and_the_date_erased(
    slack: SlackWorld,
) -> None:
    slack.import_directory(
        "slack_user_id,name,roles,school,expertise,trust,available_from\n"
        "USLE9,Sol Later,sle,Beech Primary,maths,Arden Trust,2027-01-04\n"
    )
    data = export(slack, "USLE9")
    assert json.dumps(data).count("2027-01-04") == 1
    assert "Arden Trust" in json.dumps(data)
    erase(slack, "USLE9")
    assert person(slack, "USLE9").available_from is None
