"""When check-ins come, from the Teams check-in card, through `/api/messages` with the
`adaptiveCard/action` invokes Teams sends: a Teams head or lead supporter changes how often,
pauses (both cards then offer *Resume check-ins*) and resumes, stops them after missed rounds;
a colleague or a shadow is refused kindly; each change is saved before the invoke is answered,
and once however often it is pressed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.clock import FixedClock
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import AuditEntry, CheckIn, CheckInStatus, Deployment, OutboxMessage
from tests.handlers.slack.test_checkins import SNOOZED_WORDS
from tests.handlers.teams.conftest import HEAD, NLE, ON_TEAMS, teams_user, teams_world
from tests.handlers.teams.programme import (
    actions_on,
    buttons,
    card_with,
    cards_to,
    deployed,
    press_on_card,
)
from tests.handlers.teams.test_teams_flows import card_texts, fake, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_lifecycle import send_checkin
from tests.handlers.teams.test_teams_teamwork import MATHS, OLIVE
from tests.support.team_directory import TEAM_DIRECTORY

AMY = "77777777-7777-4777-8777-777777777777"  # Amy Aspiring, an aspiring NLE, on Teams
CHANGES = (
    "deployment.cadence_changed",
    "deployment.checkins_paused",
    "deployment.checkins_resumed",
)
SCHEDULING = ("checkin_cadence", "checkin_less_often", "checkin_stop", "checkin_resume")


@pytest.fixture
def team(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """Hannah (head), Nadia (lead), her colleague Olive and Amy, who may shadow, on Teams."""
    people = {**ON_TEAMS, "UOAK1": OLIVE, "UASP1": AMY}
    with teams_world(db_url, clock, directory=TEAM_DIRECTORY, on_teams=people) as running:
        yield running


def deployment(world: SlackWorld) -> Deployment:
    with world.runtime.sessions() as session:
        return session.exec(select(Deployment)).one()


def checkins(world: SlackWorld) -> list[CheckIn]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(CheckIn).order_by(col(CheckIn.sequence))))


def audited(world: SlackWorld) -> list[tuple[str, str]]:
    """What was done to when the deployment's check-ins come, by whom, oldest first."""
    with world.runtime.sessions() as session:
        rows = session.exec(
            select(AuditEntry.action, AuditEntry.actor)
            .where(col(AuditEntry.action).in_(CHANGES))
            .order_by(col(AuditEntry.id))
        )
        return [(action, actor) for action, actor in rows]


def choice(content: Any, title: str) -> str:
    """The value of the button titled `title` on a card (its unfolded parts too)."""
    [value] = [b["data"]["value"] for b in buttons(content) if b["title"] == title]
    return str(value)


def checkin_card(world: SlackWorld, aad: str) -> dict[str, Any]:
    """The latest check-in card in `aad`'s chat, as it stands now (updated in place)."""
    found = [c for c in cards_to(world, aad) if "How is the support going?" in card_texts(c)]
    assert found, f"{aad} has no check-in card"
    return found[-1]


def test_a_teams_head_changes_how_often_check_ins_come(teams: SlackWorld) -> None:
    deployed(teams)
    asked = send_checkin(teams)
    card = checkin_card(teams, HEAD)
    assert actions_on(card)[:4] == [
        "checkin_on_track",
        "checkin_needs_attention",
        "checkin_completed",
        "checkin_snooze",
    ]
    assert "Check-ins: fortnightly." in card_texts(card)
    # *How often?* unfolds Slack's menu as buttons with Slack's values; the current one is left out.
    [how_often] = [a for a in card["actions"] if a["title"] == "How often?"]
    assert [b["title"] for b in buttons(how_often)] == [
        "Weekly",
        "Every four weeks",
        "Pause check-ins",
    ]
    assert choice(card, "Weekly") == f"{asked.id}:7"

    answer = press(teams, HEAD, "checkin_cadence", choice(card, "Weekly"))
    assert answer["type"].endswith("message")
    assert answer["value"].startswith("Check-ins are now weekly. The next is on Monday 7 Dec")
    assert deployment(teams).checkin_every_days == 7  # saved before the invoke was answered
    assert checkins(teams)[1].due_at.isoformat() == "2026-12-07T09:30:00+00:00"
    assert audited(teams) == [("deployment.cadence_changed", HEAD)]
    for aad in (HEAD, NLE):  # both cards updated in place
        assert "Check-ins: weekly." in card_texts(checkin_card(teams, aad))
    # The head's card still takes an answer; the menu now offers fortnightly back.
    assert "checkin_on_track" in actions_on(checkin_card(teams, HEAD))
    assert choice(checkin_card(teams, HEAD), "Fortnightly (usual)") == f"{asked.id}:14"


def test_a_teams_supporter_pauses_and_the_head_resumes(teams: SlackWorld) -> None:
    deployed(teams)
    asked = send_checkin(teams)
    answer = press(teams, NLE, "checkin_cadence", f"{asked.id}:pause")
    assert answer["value"] == (  # the core's *emphasis* as Teams Markdown
        "Check-ins for this support are paused. Press **Resume check-ins** or choose a "
        "frequency on the check-in message whenever you want them again."
    )
    assert deployment(teams).checkins_paused
    assert [c.status for c in checkins(teams)] == [CheckInStatus.CANCELLED] * 2
    for aad in (HEAD, NLE):  # as on Slack, every card of the check-in offers to resume
        card = checkin_card(teams, aad)
        assert "checkin_resume" in actions_on(card)
        assert "checkin_on_track" not in actions_on(card)
        assert "Check-ins are paused. Resume them here whenever you like." in card_texts(card)
        [again] = [a for a in card["actions"] if a["title"] == "Resume how often?"]
        assert [b["title"] for b in buttons(again)] == [
            "Weekly",
            "Fortnightly (usual)",
            "Every four weeks",
        ]

    answer = press_on_card(teams, HEAD, "checkin_resume")
    assert answer["value"] == "Check-ins are back on. The next is on Monday 14 December, 09:30."
    assert not deployment(teams).checkins_paused
    third = checkins(teams)[2]
    assert (third.status, third.due_at.isoformat()) == ("scheduled", "2026-12-14T09:30:00+00:00")
    assert "checkin_resume" not in actions_on(checkin_card(teams, NLE))
    assert "Check-ins: fortnightly." in card_texts(checkin_card(teams, NLE))
    assert audited(teams) == [
        ("deployment.checkins_paused", NLE),
        ("deployment.checkins_resumed", HEAD),
    ]


def test_resuming_at_another_frequency_from_a_paused_card(teams: SlackWorld) -> None:
    deployed(teams)
    asked = send_checkin(teams)
    press(teams, HEAD, "checkin_cadence", f"{asked.id}:pause")
    card = checkin_card(teams, NLE)
    answer = press(teams, NLE, "checkin_cadence", choice(card, "Every four weeks"))
    assert answer["value"].startswith("Check-ins are now every four weeks.")
    moved = deployment(teams)
    assert (moved.checkins_paused, moved.checkin_every_days) == (False, 28)
    assert audited(teams)[-1] == ("deployment.checkins_resumed", NLE)


def test_after_two_missed_rounds_the_card_asks_and_stop_pauses(teams: SlackWorld) -> None:
    deployed(teams)
    send_checkin(teams)
    for _ in range(2):
        send_checkin_next(teams)
    card = checkin_card(teams, NLE)
    assert "Nobody has answered the last 2 check-ins" in card_texts(card)
    assert {"checkin_less_often", "checkin_stop"} <= set(actions_on(card))
    [stop] = [b for b in buttons(card) if b["data"]["action"] == "checkin_stop"]
    assert stop["title"] == "Stop them", "Stop check-ins asks first, as on Slack"
    answer = press_on_card(teams, NLE, "checkin_stop")
    assert "paused" in answer["value"]
    assert deployment(teams).checkins_paused
    assert "checkin_resume" in actions_on(checkin_card(teams, HEAD))


def test_ask_every_four_weeks_after_missed_rounds(teams: SlackWorld) -> None:
    deployed(teams)
    send_checkin(teams)
    for _ in range(2):
        send_checkin_next(teams)
    answer = press_on_card(teams, HEAD, "checkin_less_often")
    assert answer["value"].startswith("Check-ins are now every four weeks.")
    assert deployment(teams).checkin_every_days == 28
    assert "Nobody has answered" not in card_texts(checkin_card(teams, HEAD))


def send_checkin_next(world: SlackWorld) -> None:
    """The next scheduled check-in falls due and is sent (the last one left unanswered)."""
    scheduled = [c for c in checkins(world) if c.status == CheckInStatus.SCHEDULED]
    world.clock.set(scheduled[-1].due_at)
    run_due(world.runtime)
    world.settle()


def test_a_colleague_or_a_shadow_cannot_change_when_check_ins_come(team: SlackWorld) -> None:
    deployment_id = deployed(team, MATHS)
    press(team, NLE, "team_add", deployment_id, colleagues=OLIVE)
    invitation = card_with(team, NLE, "team_shadow_pick")
    amy = next(c["value"] for c in inputs(invitation)["shadow"]["choices"] if "Amy" in c["title"])
    press_on_card(team, NLE, "team_shadow_pick", shadow=amy)
    asked = send_checkin(team)
    value = str(asked.id)
    for aad in (OLIVE, AMY):
        card = checkin_card(team, aad)
        assert "checkin_on_track" in actions_on(card)
        assert not set(SCHEDULING) & set(actions_on(card)), "not offered to them"
        for action, button_value in (
            ("checkin_cadence", f"{value}:7"),
            ("checkin_cadence", f"{value}:pause"),
            ("checkin_less_often", value),
            ("checkin_stop", value),
        ):  # forged, or from an old card
            refused = press(team, aad, action, button_value)
            assert refused["value"] == (
                "The head and the lead supporter decide how often check-ins come; please ask them."
            )
    unchanged = deployment(team)
    assert (unchanged.checkin_every_days, unchanged.checkins_paused) == (None, False)
    press(team, NLE, "checkin_cadence", f"{value}:pause")
    for aad in (OLIVE, AMY):
        refused = press(team, aad, "checkin_resume", value)
        assert "decide how often check-ins come" in refused["value"]
        assert "checkin_resume" not in actions_on(checkin_card(team, aad))
    assert deployment(team).checkins_paused
    with team.runtime.sessions() as session:
        refusals = session.exec(
            select(AuditEntry.actor, AuditEntry.action).where(
                col(AuditEntry.action).like("checkin.%.refused")
            )
        ).all()
    assert sorted(set(refusals)) == sorted(
        (aad, f"checkin.{what}.refused")
        for aad in (AMY, OLIVE)
        for what in ("cadence", "pause", "resume")
    )
    assert len(refusals) == 10
    assert audited(team) == [("deployment.checkins_paused", NLE)]


def double_click(world: SlackWorld, aad: str, action: str, value: str) -> list[str]:
    """The same button pressed twice at once (Teams sends both invokes); both answers."""
    clicks = [
        fake(world).card_action({"action": action, "value": value}, user=teams_user(aad), aad=aad)
        for _ in range(2)
    ]
    start = threading.Barrier(2)
    answers: list[str] = []

    def click(activity: dict[str, Any]) -> None:
        start.wait()
        response = world.teams_send(activity)
        assert response.status_code == 200
        answers.append(response.json()["value"])

    threads = [threading.Thread(target=click, args=(a,)) for a in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.settle()
    assert len(answers) == 2
    return sorted(answers)


def owed_updates(world: SlackWorld) -> int:
    with world.runtime.sessions() as session:
        return len(
            session.exec(
                select(OutboxMessage.id).where(OutboxMessage.method == "chat.update")
            ).all()
        )


def test_a_double_click_changes_each_thing_once(teams: SlackWorld) -> None:
    deployed(teams)
    asked = send_checkin(teams)
    value = str(asked.id)

    before = owed_updates(teams)
    weekly = double_click(teams, HEAD, "checkin_cadence", f"{value}:7")
    assert [a.split(".")[0] for a in weekly] == [
        "Check-ins are already weekly",
        "Check-ins are now weekly",
    ]
    assert owed_updates(teams) - before == 2, "the two cards updated once, not twice"

    paused = double_click(teams, NLE, "checkin_cadence", f"{value}:pause")
    assert paused[0] == "Check-ins for this support are already paused."
    assert paused[1].startswith("Check-ins for this support are paused.")

    resumed = double_click(teams, HEAD, "checkin_resume", value)
    assert resumed[0].startswith("Check-ins are back on.")
    assert resumed[1] == "Check-ins for this support aren't paused."

    assert audited(teams) == [
        ("deployment.cadence_changed", HEAD),
        ("deployment.checkins_paused", NLE),
        ("deployment.checkins_resumed", HEAD),
    ]
    scheduled = [c for c in checkins(teams) if c.status == CheckInStatus.SCHEDULED]
    assert len(scheduled) == 1, "one next check-in, however often resume was pressed"


def test_snooze_a_week_is_on_the_card_until_someone_answers(teams: SlackWorld) -> None:
    deployed(teams)
    send_checkin(teams)
    answer = press_on_card(teams, HEAD, "checkin_snooze")["value"]
    assert answer == SNOOZED_WORDS, "when the next comes, in the core's words, as on Slack"
    assert checkins(teams)[1].due_at.isoformat() == "2026-12-07T09:30:00+00:00"
    assert "checkin_snooze" not in actions_on(checkin_card(teams, NLE))
    assert "checkin_on_track" in actions_on(checkin_card(teams, NLE))


def test_a_refusal_on_a_paused_card_is_in_teams_markdown(teams: SlackWorld) -> None:
    deployed(teams)
    asked = send_checkin(teams)
    press(teams, NLE, "checkin_cadence", f"{asked.id}:pause")
    refused = press(teams, HEAD, "checkin_on_track", asked.id)["value"]  # an old card's button
    assert refused.startswith("Check-ins for this support are paused, so this one is closed.")
    assert "press **Resume check-ins** to start" in refused
