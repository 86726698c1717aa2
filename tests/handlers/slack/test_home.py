"""The App Home through Slack: published on open for each role, its buttons, the away switch
changing who is offered next, and a busy coordinator's page within Slack's limits."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.outbox.pacing import Pacer
from handlers.slack.stand_in.fake_slack import dm_channel_id
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    new_event_id,
    view_submission_payload,
)
from storage.db import transaction
from storage.models import AuditEntry, Deployment, Offer, OutboxMessage, Person, SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_intake import request_form
from tests.support.blockkit import action_ids, button_value, texts


def home_opened(user: str, tab: str = "home") -> dict[str, Any]:
    """An `app_home_opened` event as Slack sends it."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": dm_channel_id(user),
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


def open_home(slack: SlackWorld, user: str) -> dict[str, Any]:
    """The user opens their Home tab; returns the view Slack accepted."""
    before = len(slack.fake.calls_to("views.publish"))
    status, _, _ = slack.sender.event(home_opened(user), event_id=new_event_id())
    assert status == 200
    slack.settle()
    calls = slack.fake.calls_to("views.publish")[before:]
    assert [c.args["user_id"] for c in calls] == [user]
    assert calls[0].ok, calls[0].response
    view = slack.fake.home_view(user)
    assert view is not None and view["type"] == "home"
    return view


def values_of(blocks: list[dict[str, Any]], action_id: str) -> set[str]:
    """The values of every button with `action_id`."""
    return {
        str(element.get("value"))
        for block in blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if isinstance(element, dict) and element.get("action_id") == action_id
    }


def click_in_home(slack: SlackWorld, user: str, action_id: str, value: str) -> None:
    """A click on a button of the user's Home tab, as Slack sends it."""
    view = slack.fake.home_view(user)
    assert view is not None
    status, _, _ = slack.sender.interact(block_actions_payload(user, action_id, value, view=view))
    assert status == 200
    slack.settle()


def ask(slack: SlackWorld, text: str, user: str = "UHEAD1") -> int:
    """A head posts in the support channel and presses Find support; returns the request id."""
    slack.sender.event(message_event(user, text, SUPPORT_CHANNEL), event_id=new_event_id())
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.exec(
            select(SupportRequest).order_by(SupportRequest.id.desc())  # type: ignore[union-attr]
        ).first()
    assert request is not None and request.id is not None
    slack.sender.interact(
        block_actions_payload(user, "request_confirm", str(request.id), channel_id=SUPPORT_CHANNEL)
    )
    slack.settle()
    return request.id


def offered_to(slack: SlackWorld, request_id: int) -> set[str]:
    with slack.runtime.sessions() as session:
        return set(
            session.exec(
                select(Person.slack_user_id)
                .join(Offer, Offer.supporter_id == Person.id)  # type: ignore[arg-type]
                .where(Offer.request_id == request_id)
            )
        )


def test_each_role_gets_their_own_home_when_they_open_it(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue; SEND help please")
    ask(slack, "We need maths support for our new subject leader", user="UHEAD2")

    head = open_home(slack, "UHEAD1")
    assert button_value(head["blocks"], "home_ask_support")
    head_text = texts(head["blocks"])
    assert "Your requests" in head_text and "SENCO has left" in head_text
    assert "*Offered*" in head_text
    assert "maths support" not in head_text, "another school's request"
    assert "Coordinator overview" not in head_text

    other = texts(open_home(slack, "UHEAD2")["blocks"])
    assert "maths support" in other and "SENCO" not in other

    with slack.runtime.sessions() as session:
        sam_offer = session.exec(
            select(Offer.id)
            .join(Person, Person.id == Offer.supporter_id)  # type: ignore[arg-type]
            .where(Offer.request_id == request_id, Person.slack_user_id == "USLE1")
        ).one()
        sams = set(
            session.exec(
                select(Offer.id)
                .join(Person, Person.id == Offer.supporter_id)  # type: ignore[arg-type]
                .where(Person.slack_user_id == "USLE1")
            )
        )
    sam = open_home(slack, "USLE1")
    accepts = values_of(sam["blocks"], "offer_accept")
    assert str(sam_offer) in accepts
    assert accepts == values_of(sam["blocks"], "offer_decline")
    assert accepts == {str(i) for i in sams}, "exactly Sam's open offers"
    assert button_value(sam["blocks"], "home_availability") == "away"
    assert "Your requests" not in texts(sam["blocks"])
    priya = texts(open_home(slack, "USPEC1")["blocks"])
    assert "SENCO has left" in priya
    assert "maths support" not in priya, "not offered to Priya (SEND only)"

    coordinator = texts(open_home(slack, "UCOORD")["blocks"])
    assert "Coordinator overview" in coordinator
    assert "SENCO has left" in coordinator and "maths support" in coordinator
    assert "home_availability" not in action_ids(open_home(slack, "UCOORD")["blocks"])


def test_opening_the_messages_tab_publishes_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    status, _, _ = slack.sender.event(home_opened("UHEAD1", tab="messages"))
    assert status == 200
    slack.settle()
    assert slack.fake.calls_to("views.publish") == []


def test_ask_for_support_opens_the_request_modal(slack: SlackWorld) -> None:
    slack.import_directory()
    open_home(slack, "UHEAD1")
    click_in_home(slack, "UHEAD1", "home_ask_support", "home")
    opened = slack.fake.calls_to("views.open")
    assert len(opened) == 1 and opened[0].ok
    assert opened[0].args["view"]["callback_id"] == "request_new"


def test_a_request_asked_from_the_home_tab_is_kept_private(slack: SlackWorld) -> None:
    """The Home tab is the head's own, like their DM with the bot: the request is confirmed
    to them by DM and not announced in the support channel."""
    slack.import_directory()
    open_home(slack, "UHEAD1")
    click_in_home(slack, "UHEAD1", "home_ask_support", "home")
    [opened] = slack.fake.calls_to("views.open")
    metadata = opened.args["view"]["private_metadata"]
    form = view_submission_payload(
        "UHEAD1", "request_new", request_form(), private_metadata=metadata
    )
    assert slack.sender.interact(form)[0] == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        [request] = session.exec(select(SupportRequest)).all()
    assert (request.source, request.status) == ("home", "offered")
    to_support = [
        c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == SUPPORT_CHANNEL
    ]
    assert to_support == []
    to_head = [
        c.args for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == "UHEAD1"
    ]
    assert [p for p in to_head if "Thanks" in p["text"]]


def test_accepting_from_the_home_tab_works_like_the_dm(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "SEND support please, our SENCO has left")
    sam = open_home(slack, "USLE1")
    click_in_home(slack, "USLE1", "offer_accept", button_value(sam["blocks"], "offer_accept"))
    with slack.runtime.sessions() as session:
        deployments = list(session.exec(select(Deployment)))
        assert session.get(SupportRequest, request_id).status == "accepted"  # type: ignore[union-attr]
    assert len(deployments) == 1
    again = texts(open_home(slack, "USLE1")["blocks"])
    assert "1 of 1 in use" in again and "Mere Green Primary School" in again


def test_the_away_switch_changes_who_is_offered_next_time(slack: SlackWorld) -> None:
    slack.import_directory()
    first = ask(slack, "SEND help please: EHCP reviews are overdue")
    assert offered_to(slack, first) == {"USLE1", "USPEC1", "UNLE1"}

    open_home(slack, "USLE1")
    click_in_home(slack, "USLE1", "home_availability", "away")
    view = slack.fake.home_view("USLE1")
    assert view is not None
    assert button_value(view["blocks"], "home_availability") == "available", "republished"
    assert "*Away*" in texts(view["blocks"])

    second = ask(slack, "SEND support needed for our autism base", user="UHEAD2")
    assert offered_to(slack, second) == {"USPEC1", "UNLE1"}

    click_in_home(slack, "USLE1", "home_availability", "available")
    third = ask(slack, "SEND advice needed on our provision map", user="UHEAD2")
    assert "USLE1" in offered_to(slack, third)
    with slack.runtime.sessions() as session:
        audit = [
            (a.action, a.actor)
            for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))  # type: ignore[arg-type]
            if a.subject_type == "person" and a.actor == "USLE1"
        ]
    assert audit == [("person.away", "USLE1"), ("person.available", "USLE1")]


def test_a_head_cannot_mark_themselves_away(slack: SlackWorld) -> None:
    slack.import_directory()
    open_home(slack, "UHEAD1")
    click_in_home(slack, "UHEAD1", "home_availability", "away")
    told = [c.args["text"] for c in slack.fake.calls_to("chat.postMessage") if c.ok]
    assert any("Only supporters" in text for text in told)
    with slack.runtime.sessions() as session:
        head = session.exec(select(Person).where(Person.slack_user_id == "UHEAD1")).one()
        refused = session.exec(
            select(AuditEntry).where(AuditEntry.action == "person.availability.refused")
        ).all()
    assert head.available
    assert [a.actor for a in refused] == ["UHEAD1"]


def test_a_coordinators_home_with_300_requests_stays_within_slacks_limits(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    now = slack.clock.now()
    with transaction(slack.runtime.sessions) as session:
        head = session.exec(select(Person).where(Person.slack_user_id == "UHEAD1")).one()
        for i in range(300):
            status = ("open", "offered", "expired", "closed")[i % 4]
            session.add(
                SupportRequest(
                    requester_id=head.id or 0,
                    school_id=head.school_id,
                    title=f"<!channel> {'&' * 200} request {i}",
                    description="details",
                    status=status,
                    created_at=now - timedelta(hours=i),
                    updated_at=now,
                    offered_at=now - timedelta(hours=i) if status != "open" else None,
                )
            )
    view = open_home(slack, "UCOORD")  # the fake refuses any view Slack would refuse
    assert len(view["blocks"]) <= 100
    text = texts(view["blocks"])
    assert "*Needs attention* (225)" in text
    assert "and 210 more — see the digest" in text
    assert "<!channel>" not in text
    head = open_home(slack, "UHEAD1")
    assert "and 290 more older requests not shown" in texts(head["blocks"])


def test_a_slack_outage_while_publishing_is_logged_not_a_crash(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.outage(503)
    status, _, _ = slack.sender.event(home_opened("UHEAD1"), event_id=new_event_id())
    assert status == 200
    slack.settle()
    assert slack.fake.home_view("UHEAD1") is None
    slack.fake.end_outage()
    assert "Your requests" in texts(open_home(slack, "UHEAD1")["blocks"])
    # The `slack` fixture fails the test if the failure reached the global error handler.


def click_while_the_outbox_waits(slack: SlackWorld, user: str, value: str) -> None:
    """A click on the away switch of `user`'s Home tab, handled, with nothing delivered yet."""
    view = slack.fake.home_view(user)
    assert view is not None
    payload = block_actions_payload(user, "home_availability", value, view=view)
    status, _, _ = slack.sender.interact(payload)
    assert status == 200
    deadline = time.monotonic() + 10
    while not slack.executor.idle():
        assert time.monotonic() < deadline, "the listener did not finish"
        time.sleep(0.01)


def test_home_refreshes_queued_for_one_person_are_published_once_the_newest(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    open_home(slack, "USLE1")
    published = len(slack.fake.calls_to("views.publish"))
    monkeypatch.setattr(slack.runtime.deliverer, "kick", lambda: None)  # a busy outbox
    for value in ("away", "available", "away"):
        click_while_the_outbox_waits(slack, "USLE1", value)
    with slack.runtime.sessions() as session:
        queued = session.exec(select(OutboxMessage).where(OutboxMessage.method == "views.publish"))
        assert [m.channel for m in queued] == ["USLE1"]
    slack.settle()
    calls = slack.fake.calls_to("views.publish")[published:]
    assert [(c.args["user_id"], c.ok) for c in calls] == [("USLE1", True)]
    view = slack.fake.home_view("USLE1")
    assert view is not None and "*Away*" in texts(view["blocks"])


def test_opening_the_home_tab_publishes_at_once_and_drops_an_older_queued_page(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    open_home(slack, "USLE1")
    monkeypatch.setattr(slack.runtime.deliverer, "kick", lambda: None)  # a busy outbox
    click_while_the_outbox_waits(slack, "USLE1", "away")
    monkeypatch.undo()
    view = open_home(slack, "USLE1")  # exactly one publish: the fresh one, not the queued too
    assert "*Away*" in texts(view["blocks"])
    with slack.runtime.sessions() as session:
        assert not session.exec(
            select(OutboxMessage.id).where(OutboxMessage.method == "views.publish")
        ).all()


def test_a_burst_of_home_refreshes_keeps_to_views_publish_rate(slack: SlackWorld) -> None:
    supporters = [f"UBURST{n:02d}" for n in range(16)]
    rows = [
        f"{u},Supporter {u},{u.lower()}@example.org,sle,Oak School,,primary,West Midlands,send,1"
        for u in supporters
    ]
    header = slack.directory.splitlines()[0]
    slack.import_directory("\n".join([header, *rows]) + "\n")
    for user in supporters:
        open_home(slack, user)
    before = len(slack.fake.calls_to("views.publish"))
    # Slack's Tier 4 (100 a minute) with about ten at once; the bot paced as it is when served.
    slack.fake.limit_rates({"views.publish": 100 / 60}, per_channel=None, burst_seconds=6.5)
    slack.runtime.deliverer.pacer = Pacer()
    payloads = [
        block_actions_payload(u, "home_availability", "away", view=slack.fake.home_view(u))
        for u in supporters
    ]
    with ThreadPoolExecutor(len(payloads)) as pool:  # every click at once
        statuses = list(pool.map(lambda p: slack.sender.interact(p)[0], payloads))
    assert statuses == [200] * len(supporters)
    slack.settle(timeout=30)
    calls = slack.fake.calls_to("views.publish")[before:]
    assert [c.status for c in calls] == [200] * len(supporters), "none refused with 429"
    assert sorted(c.args["user_id"] for c in calls) == supporters  # each once
    # Ten at once, then one every 0.6 s: the last six took at least about 3.6 s.
    assert calls[-1].at - calls[0].at >= 0.9 * (len(supporters) - 10) * 60 / 100
    for user in supporters:
        view = slack.fake.home_view(user)
        assert view is not None and "*Away*" in texts(view["blocks"])
