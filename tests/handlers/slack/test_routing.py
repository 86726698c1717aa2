"""Routing and acceptance through Slack: offers by DM, first accept wins, escalation, changes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.entry.jobs import run_due
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import AuditEntry, Deployment, Offer, SupportRequest
from tests.handlers.slack.conftest import (
    COORDINATOR_CHANNEL,
    DIRECTORY,
    SUPPORT_CHANNEL,
    SlackWorld,
)
from tests.support.blockkit import action_ids, texts


def request_now(slack: SlackWorld, text: str, user: str = "UHEAD1") -> tuple[int, str]:
    """A head posts and confirms; returns the request id and the post's ts."""
    event = message_event(user, text, SUPPORT_CHANNEL)
    slack.sender.event(event)
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.exec(select(SupportRequest).order_by(SupportRequest.id.desc())).first()
    slack.sender.interact(
        block_actions_payload(
            user,
            "request_confirm",
            str(request.id),
            channel_id=SUPPORT_CHANNEL,
        )
    )
    slack.settle()
    return request.id, event["ts"]


def offers(slack: SlackWorld, request_id: int) -> list[Offer]:
    with slack.runtime.sessions() as session:
        return list(
            session.exec(select(Offer).where(Offer.request_id == request_id).order_by(Offer.id))
        )


def offer_dms(slack: SlackWorld) -> dict[str, dict[str, Any]]:
    """The offer DM each supporter received, by user id."""
    return {
        c.args["channel"]: c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok
        and c.args["channel"].startswith("U")
        and "offer_accept" in action_ids(c.args.get("blocks"))
    }


def click(slack: SlackWorld, user: str, action: str, value: str, **kwargs: Any) -> int:
    status, _, _ = slack.sender.interact(block_actions_payload(user, action, value, **kwargs))
    return status


def ephemerals_to(slack: SlackWorld, user: str) -> list[str]:
    """Replies only `user` saw where they acted (through a response_url, or ephemeral)."""
    return slack.fake.replies_to(user)


def test_confirmed_request_is_offered_to_the_best_matches_with_reasons(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")
    dms = offer_dms(slack)
    # SEND supporters in the West Midlands, primary: Sam and Priya (all needs, specialism),
    # then Nadia (an NLE: role fits less well for a specialism). Sally has no SEND.
    assert set(dms) == {"USLE1", "USPEC1", "UNLE1"}
    assert [o.status for o in offers(slack, request_id)] == ["open"] * 3
    sam = dms["USLE1"]
    assert "Why you:" in texts(sam["blocks"])
    assert "West Midlands" in texts(sam["blocks"]).split("Why you:")[1]
    assert "Mere Green" not in texts(sam["blocks"]), "school hidden before acceptance"
    with slack.runtime.sessions() as session:
        assert session.get(SupportRequest, request_id).status == "offered"


def test_first_accept_wins_and_everyone_is_told(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, post_ts = request_now(slack, "SEND support please, EHCPs overdue")
    by_user = {o.supporter_id: o for o in offers(slack, request_id)}
    dms = offer_dms(slack)
    sam_offer = next(
        o
        for o in by_user.values()
        if dms.get("USLE1")
        and o.id
        == int(
            next(
                e["value"]
                for b in dms["USLE1"]["blocks"]
                for e in b.get("elements", [])
                if e.get("action_id") == "offer_accept"
            )
        )
    )
    slack.fake.clear()

    assert click(slack, "USLE1", "offer_accept", str(sam_offer.id)) == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        deployments = list(session.exec(select(Deployment)))
    assert request.status == "accepted"
    assert len(deployments) == 1 and deployments[0].supporter_id == sam_offer.supporter_id
    statuses = sorted(o.status for o in offers(slack, request_id))
    assert statuses == ["accepted", "withdrawn", "withdrawn"]

    updates = {c.args["channel"]: c.args for c in slack.fake.calls_to("chat.update")}
    assert "Taken by Sam Specialist" in updates["DNLE1"]["text"]
    assert "Taken by Sam Specialist" in updates["DSPEC1"]["text"]
    assert "accepted" in updates["DSLE1"]["text"]
    assert "Mere Green Primary School" in texts(updates["DSLE1"]["blocks"])
    head_reply = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == post_ts
    ]
    assert any("<@USLE1> will support you" in texts(r["blocks"]) for r in head_reply)
    coordinator = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert any("now supported by" in c["text"] for c in coordinator)

    late = next(o for o in offers(slack, request_id) if o.status == "withdrawn")
    supporter = {v.supporter_id: k for k, v in by_user.items()}
    late_user = {"UNLE1": None, "USPEC1": None}
    with slack.runtime.sessions() as session:
        from storage.models import Person

        late_user = session.get(Person, late.supporter_id).slack_user_id
    assert supporter
    click(slack, late_user, "offer_accept", str(late.id))
    slack.settle()
    assert any("already been taken by Sam Specialist" in t for t in ephemerals_to(slack, late_user))
    with slack.runtime.sessions() as session:
        assert len(list(session.exec(select(Deployment)))) == 1
        actions = [a.action for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert "request.offered" in actions and "request.accepted" in actions


def test_a_click_on_someone_elses_offer_changes_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "SEND support needed")
    offer = offers(slack, request_id)[0]
    click(slack, "UHEAD2", "offer_accept", str(offer.id))
    click(slack, "UHEAD2", "offer_accept", "not-a-number")
    click(slack, "UHEAD2", "offer_accept", "999999")
    slack.settle()
    assert [o.status for o in offers(slack, request_id)] == ["open"] * 3
    told = ephemerals_to(slack, "UHEAD2")
    assert any("sent to someone else" in t for t in told)
    assert len(told) == 3
    with slack.runtime.sessions() as session:
        refused = list(
            session.exec(select(AuditEntry).where(AuditEntry.action == "offer.respond.refused"))
        )
    assert [r.actor for r in refused] == ["UHEAD2"]


def test_decline_with_a_reason_and_the_next_round_is_offered(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    first_round = offers(slack, request_id)
    assert {o.round for o in first_round} == {1}
    for offer in first_round:
        with slack.runtime.sessions() as session:
            from storage.models import Person

            user = session.get(Person, offer.supporter_id).slack_user_id
        click(slack, user, "offer_decline", str(offer.id))
        opened = slack.fake.wait_for("views.open")[-1]
        assert opened.args["view"]["callback_id"] == "offer_decline"
        slack.sender.interact(
            view_submission_payload(
                user,
                "offer_decline",
                {"reason": {"value": "At capacity this term"}},
                private_metadata=str(offer.id),
            )
        )
        slack.settle()
        slack.fake.clear()
    all_offers = offers(slack, request_id)
    declined = [o for o in all_offers if o.status == "declined"]
    assert len(declined) == len(first_round)
    assert {o.decline_reason for o in declined} == {"At capacity this term"}
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
    # Maths supporters: Sam, Nadia (West Midlands) and Sally (East Midlands) — all asked in
    # round one; nobody is left, so coordinators are asked to assign by hand.
    assert request.status == "expired"
    assert request.escalated_at is not None


def test_offers_expire_after_working_hours_and_escalate(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, post_ts = request_now(slack, "We need SEND support")
    first = offers(slack, request_id)
    # Offered Monday 09:00; 48 working hours (08:00-17:00) run out the next Monday 12:00.
    slack.clock.advance(days=6)  # Sunday
    run_due(slack.runtime)
    slack.settle()
    assert [o.status for o in offers(slack, request_id)] == ["open"] * len(first)
    slack.clock.advance(days=1, hours=4)  # Monday 13:00
    run_due(slack.runtime)
    slack.settle()
    statuses = [o.status for o in offers(slack, request_id)]
    assert statuses[: len(first)] == ["expired"] * len(first)
    expired_updates = [c for c in slack.fake.calls_to("chat.update") if "expired" in c.args["text"]]
    assert len(expired_updates) == len(first)
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
    # Every SEND supporter was in round one, so round two finds nobody: escalate.
    assert request.status == "expired"
    alerts = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert any("request_assign" in action_ids(a["blocks"]) for a in alerts)
    assert any(
        "coordinators to find someone" in texts(c.args["blocks"])
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == post_ts
    )


def test_nobody_matching_is_said_honestly_and_coordinators_alerted(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, post_ts = request_now(slack, "Our governors need help with governance")
    assert offers(slack, request_id) == []
    replies = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == post_ts
    ]
    assert any("haven't found an available system leader" in texts(r["blocks"]) for r in replies)
    alerts = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert alerts and "request_assign" in action_ids(alerts[-1]["blocks"])


def test_coordinator_assigns_and_reassigns_by_hand(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Our governors need help with governance")
    status, _, _ = slack.sender.command(
        "/support", f"assign {request_id} <@UHEAD2|harry>", user_id="UHEAD2"
    )
    assert status == 200
    slack.settle()
    assert any("Only coordinators" in t for t in ephemerals_to(slack, "UHEAD2"))

    slack.sender.command("/support", f"assign {request_id} <@USLE2|sally>", user_id="UCOORD")
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        [deployment] = session.exec(select(Deployment))
    assert request.status == "accepted" and deployment.status == "active"
    assert any(c.args["channel"] == "USLE2" for c in slack.fake.calls_to("chat.postMessage"))

    # Reassign through the button and modal.
    click(slack, "UCOORD", "request_assign", str(request_id), channel_id=COORDINATOR_CHANNEL)
    opened = slack.fake.wait_for("views.open")[-1]
    slack.sender.interact(
        view_submission_payload(
            "UCOORD",
            "assign",
            {"supporter": {"value": {"type": "users_select", "selected_user": "USPEC1"}}},
            private_metadata=opened.args["view"]["private_metadata"],
        )
    )
    slack.settle()
    with slack.runtime.sessions() as session:
        deployments = {d.status for d in session.exec(select(Deployment))}
        request = session.get(SupportRequest, request_id)
    assert deployments == {"reassigned", "active"}
    assert "reassigned" in " ".join(
        c.args["text"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == "USLE2"
    )


def test_supporter_releases_and_routing_starts_again(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    with slack.runtime.sessions() as session:
        [deployment] = session.exec(select(Deployment))
    click(slack, "UHEAD2", "deployment_release", str(deployment.id))
    slack.settle()
    with slack.runtime.sessions() as session:
        assert session.get(Deployment, deployment.id).status == "active"
    click(slack, "USLE1", "deployment_release", str(deployment.id))
    slack.settle()
    with slack.runtime.sessions() as session:
        assert session.get(Deployment, deployment.id).status == "released"
        request = session.get(SupportRequest, request_id)
    # Everyone with maths was offered in round one (and Sam released), so nobody is left.
    assert request.assigned_id is None
    assert request.status in ("offered", "open", "expired")


def _person_id(slack: SlackWorld, user: str) -> int:
    from storage.models import Person

    with slack.runtime.sessions() as session:
        return session.exec(select(Person).where(Person.slack_user_id == user)).one().id


MANY = 20


@pytest.fixture
def slack_settings_env(slack_settings_env: dict[str, str]) -> dict[str, str]:
    return {**slack_settings_env, "OFFER_COUNT": str(MANY)}


def many_supporters() -> str:
    rows = [
        f"USUP{n:02d},Supporter {n:02d},s{n}@example.org,sle,School {n},,primary,"
        "West Midlands,send,1"
        for n in range(MANY)
    ]
    return DIRECTORY + "\n".join(rows) + "\n"


@pytest.mark.deadline
def test_twenty_simultaneous_accepts_make_exactly_one_deployment(slack: SlackWorld) -> None:
    slack.import_directory(many_supporters())
    request_id, _ = request_now(slack, "SEND support needed urgently")
    open_offers = offers(slack, request_id)
    assert len(open_offers) == MANY
    users = {}
    from storage.models import Person

    with slack.runtime.sessions() as session:
        for offer in open_offers:
            users[offer.id] = session.get(Person, offer.supporter_id).slack_user_id
    barrier = threading.Barrier(MANY)
    statuses: list[int] = []

    took: list[float] = []

    def accept(offer_id: int) -> None:
        barrier.wait()
        started = time.monotonic()
        statuses.append(click(slack, users[offer_id], "offer_accept", str(offer_id)))
        took.append(time.monotonic() - started)

    threads = [threading.Thread(target=accept, args=(o.id,)) for o in open_offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    slack.settle(timeout=60)
    assert statuses == [200] * MANY
    assert max(took) < 3.0, f"slowest accept acknowledged after {max(took):.1f} s"
    with slack.runtime.sessions() as session:
        deployments = list(session.exec(select(Deployment)))
        request = session.get(SupportRequest, request_id)
    assert len(deployments) == 1
    assert request.status == "accepted" and request.assigned_id == deployments[0].supporter_id
    final = [o.status for o in offers(slack, request_id)]
    assert final.count("accepted") == 1 and final.count("withdrawn") == MANY - 1
    winner = users[next(o.id for o in offers(slack, request_id) if o.status == "accepted")]
    taken_notes = [t for u in users.values() if u != winner for t in ephemerals_to(slack, u)]
    # Every loser either saw their DM updated or was told politely it was taken.
    assert all("taken" in t for t in taken_notes)


def test_requests_list_shows_offers_and_assignment(slack: SlackWorld) -> None:
    from bot.requests.report import list_requests

    slack.import_directory()
    request_id, _ = request_now(slack, "SEND help please")
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    with slack.runtime.sessions() as session:
        [row] = list_requests(session)
    assert row["status"] == "accepted" and row["assigned_to"] == "USLE1"
    assert row["requester"] == "UHEAD1" and row["tags"] == ["send"]
    assert {o["supporter"] for o in row["offers"]} == {"USLE1", "USPEC1", "UNLE1"}
    json.dumps(row)  # serialisable for --json


def test_a_supporter_at_capacity_cannot_accept_another(slack: SlackWorld) -> None:
    slack.import_directory()
    first, _ = request_now(slack, "SEND help please")
    second, _ = request_now(slack, "Help with SEND and EHCPs", user="UHEAD2")
    sam = _person_id(slack, "USLE1")
    offer_one = next(o for o in offers(slack, first) if o.supporter_id == sam)
    offer_two = next(o for o in offers(slack, second) if o.supporter_id == sam)
    click(slack, "USLE1", "offer_accept", str(offer_one.id))
    slack.settle()
    click(slack, "USLE1", "offer_accept", str(offer_two.id))
    slack.settle()
    assert any("capacity" in t for t in ephemerals_to(slack, "USLE1"))
    with slack.runtime.sessions() as session:
        assert session.get(SupportRequest, second).status == "offered"
        assert len(list(session.exec(select(Deployment)))) == 1


def test_suggesting_a_colleague_offers_it_to_them_or_tells_coordinators(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    # Maths: Sam, Nadia and Sally are all asked in round one; Priya (SEND only) is not.
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    suggest = {"action_type": "users_select", "block_id": f"offer_suggest:{sam.id}"}
    click(slack, "USLE1", "offer_suggest", "UHEAD2", **suggest)
    slack.settle()
    assert any(
        "passed your suggestion to the coordinators" in t for t in ephemerals_to(slack, "USLE1")
    )
    assert any(
        "suggested <@UHEAD2>" in c.args["text"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    )
    assert len(offers(slack, request_id)) == 3

    slack.import_directory(
        DIRECTORY + "USLE3,Mo Maths,m@example.org,sle,Fir School,,primary,London,maths,1\n"
    )
    click(slack, "USLE1", "offer_suggest", "USLE3", **suggest)
    slack.settle()
    assert any("I've asked <@USLE3> too" in t for t in ephemerals_to(slack, "USLE1"))
    new = [o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE3")]
    assert len(new) == 1 and new[0].status == "open" and "suggested by Sam" in new[0].reasons
    assert "USLE3" in offer_dms(slack)

    # Someone else can't suggest on Sam's offer.
    click(slack, "UHEAD2", "offer_suggest", "USLE2", **suggest)
    slack.settle()
    assert any("sent to someone else" in t for t in ephemerals_to(slack, "UHEAD2"))


def test_a_click_on_an_offer_for_a_cancelled_request_says_why(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "SEND support please")
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    click(slack, "UHEAD1", "request_cancel", str(request_id), channel_id=SUPPORT_CHANNEL)
    slack.settle()
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    assert any("cancelled by the school" in t for t in ephemerals_to(slack, "USLE1"))
    with slack.runtime.sessions() as session:
        assert list(session.exec(select(Deployment))) == []
        assert session.get(SupportRequest, request_id).status == "cancelled"


# On PostgreSQL a click reads its rows, then waits on the request's lock while another click
# commits. These tests recreate that: a session holding what it read before the other change.
def _read_before(slack: SlackWorld, *rows: tuple[type, int]) -> Any:
    late = slack.runtime.sessions()
    late.info["read"] = [late.get(model, row_id) for model, row_id in rows]  # held, not GC'd
    late.commit()  # (on SQLite, free the write lock so the other click can run)
    return late


def test_a_release_that_waited_behind_a_reassignment_changes_nothing(slack: SlackWorld) -> None:
    from bot.core.errors import Conflict
    from bot.routing.service import release_deployment

    slack.import_directory()
    request_id, _ = request_now(slack, "Our governors need help with governance")
    slack.sender.command("/support", f"assign {request_id} <@USLE2|sally>", user_id="UCOORD")
    slack.settle()
    with slack.runtime.sessions() as session:
        [first] = session.exec(select(Deployment))
    late = _read_before(slack, (Deployment, first.id))
    slack.sender.command("/support", f"assign {request_id} <@USPEC1|priya>", user_id="UCOORD")
    slack.settle()
    with pytest.raises(Conflict), late:
        release_deployment(late, slack.runtime.context(), actor="USLE2", deployment_id=first.id)
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        statuses = {d.id: d.status for d in session.exec(select(Deployment))}
    assert request.status == "accepted" and request.assigned_id == _person_id(slack, "USPEC1")
    assert statuses[first.id] == "reassigned" and sorted(statuses.values()) == [
        "active",
        "reassigned",
    ]


def test_a_double_click_on_release_releases_once(slack: SlackWorld) -> None:
    from bot.core.errors import Conflict
    from bot.routing.service import release_deployment

    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    with slack.runtime.sessions() as session:
        [deployment] = session.exec(select(Deployment))
    late = _read_before(slack, (Deployment, deployment.id))
    click(slack, "USLE1", "deployment_release", str(deployment.id))
    slack.settle()
    with pytest.raises(Conflict), late:
        release_deployment(
            late, slack.runtime.context(), actor="USLE1", deployment_id=deployment.id
        )
    with slack.runtime.sessions() as session:
        released = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.released")
        ).all()
    assert len(released) == 1


def test_a_suggestion_that_waited_behind_an_accept_offers_nothing(slack: SlackWorld) -> None:
    from bot.core.errors import Conflict
    from bot.routing.service import suggest_colleague

    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    slack.import_directory(
        DIRECTORY + "USLE3,Mo Maths,m@example.org,sle,Fir School,,primary,London,maths,1\n"
    )
    by_person = {o.supporter_id: o for o in offers(slack, request_id)}
    sam, nadia = by_person[_person_id(slack, "USLE1")], by_person[_person_id(slack, "UNLE1")]
    late = _read_before(slack, (SupportRequest, request_id), (Offer, nadia.id))
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    with pytest.raises(Conflict), late:
        suggest_colleague(
            late, slack.runtime.context(), actor="UNLE1", offer_id=nadia.id, colleague="USLE3"
        )
    assert [o for o in offers(slack, request_id) if o.status == "open"] == []


def test_show_full_request_keeps_the_school_hidden_until_accepted(slack: SlackWorld) -> None:
    slack.import_directory()
    long_text = "We need SEND support. " + "Our EHCP reviews are overdue this term. " * 40
    request_id, _ = request_now(slack, long_text)
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    assert "offer_show_full" in action_ids(offer_dms(slack)["USLE1"]["blocks"])
    click(slack, "USLE1", "offer_show_full", str(sam.id))
    [before] = slack.fake.wait_for("views.open")
    assert "EHCP reviews" in texts(before.args["view"]["blocks"])
    assert "Mere Green" not in texts(before.args["view"]["blocks"]), "as in the offer DM"
    click(slack, "USLE1", "offer_accept", str(sam.id))
    slack.settle()
    slack.fake.clear()
    click(slack, "USLE1", "offer_show_full", str(sam.id))
    [after] = slack.fake.wait_for("views.open")
    assert "Mere Green Primary School" in texts(after.args["view"]["blocks"])


def test_a_forged_colleague_in_a_suggestion_pings_nobody(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    sam = next(o for o in offers(slack, request_id) if o.supporter_id == _person_id(slack, "USLE1"))
    suggest = {"action_type": "users_select", "block_id": f"offer_suggest:{sam.id}"}
    slack.fake.clear()
    click(slack, "USLE1", "offer_suggest", "UHEAD2> <!channel", **suggest)
    slack.settle()
    assert not any("<!channel" in c.args.get("text", "") for c in slack.fake.calls)
    assert any("couldn't tell which" in t for t in ephemerals_to(slack, "USLE1"))


def test_a_forged_decline_of_someone_elses_offer_is_refused_and_audited(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "SEND support needed")
    offer = offers(slack, request_id)[0]
    slack.sender.interact(
        view_submission_payload(
            "UHEAD2", "offer_decline", {"reason": {"value": "no"}}, private_metadata=str(offer.id)
        )
    )
    slack.settle()
    assert offers(slack, request_id)[0].status == "open"
    with slack.runtime.sessions() as session:
        refused = session.exec(
            select(AuditEntry).where(AuditEntry.action == "offer.respond.refused")
        ).all()
    assert [r.actor for r in refused] == ["UHEAD2"]


def test_an_edit_after_offering_updates_the_offers(slack: SlackWorld) -> None:
    from tests.handlers.slack.test_intake import request_form

    slack.import_directory()
    request_id, _ = request_now(slack, "SEND support please")
    slack.fake.clear()
    edit = view_submission_payload(
        "UHEAD1",
        "request_edit",
        request_form(title="EHCP reviews backlog", areas=["send"]),
        private_metadata=json.dumps({"request_id": request_id}),
    )
    assert slack.sender.interact(edit)[0] == 200
    slack.settle()
    updated = {
        c.args["channel"]
        for c in slack.fake.calls_to("chat.update")
        if "EHCP reviews backlog" in texts(c.args.get("blocks"))
    }
    assert {"DSLE1", "DSPEC1", "DNLE1"} <= updated
