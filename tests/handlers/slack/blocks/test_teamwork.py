"""Block Kit of team deployments: within Slack's limits, user text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.home.team import TeamPlace
from bot.teamwork.views import PersonChoice, ShadowInvitation, TeamForm, TeamMember
from handlers.slack.blocks.render import render_blocks
from handlers.slack.blocks.teamwork import team_blocks, team_modal, team_places_blocks
from tests.support.blockkit import action_ids, texts


def _choices(n: int, prefix: str) -> tuple[PersonChoice, ...]:
    return tuple(PersonChoice(f"U{prefix}{i:04d}", "A" * 90, "aspiring NLE") for i in range(n))


def test_the_team_form_keeps_option_text_short_and_groups_shadows() -> None:
    form = TeamForm(
        deployment_id=7,
        request_id=3,
        school="St <Mary> & All",
        lead_school="Oak Hill",
        members=(TeamMember("UOAK1", "Olive", "colleague"), TeamMember(None, "someone", "shadow")),
        colleagues=_choices(100, "C"),
        colleagues_full=2,
        shadows_own_school=_choices(1, "O"),
        shadows_elsewhere=_choices(99, "E"),
    )
    modal = team_modal(form)
    shown = texts(modal["blocks"])
    assert "St &lt;Mary&gt; &amp; All" in shown
    assert "<@UOAK1> (colleague), someone (shadow)" in shown
    assert "2 more at capacity" in shown
    colleagues = next(b for b in modal["blocks"] if b.get("block_id") == "colleagues")
    options = colleagues["element"]["options"]
    assert len(options) == 100 and all(len(o["text"]["text"]) <= 75 for o in options)
    shadow = next(b for b in modal["blocks"] if b.get("block_id") == "shadow")
    groups = shadow["element"]["option_groups"]
    assert [g["label"]["text"] for g in groups] == ["From your school", "Elsewhere"]


def test_the_shadow_invitation_renders_a_single_list_when_there_is_one_group() -> None:
    view = ShadowInvitation(7, 3, "Mere Green", ("Maths",), (), _choices(3, "E"))
    blocks = render_blocks(view)
    assert action_ids(blocks) == ["team_shadow_pick", "team_shadow_decline"]
    select = blocks[-1]["elements"][0]
    assert "options" in select and "option_groups" not in select


def test_remove_buttons_have_their_own_action_ids_in_one_row() -> None:
    team = tuple(TeamMember(f"U{i:04d}", f"Person {i}", "colleague") for i in range(30))
    [_, row] = team_blocks(7, team)
    ids = [e["action_id"] for e in row["elements"]]
    assert len(ids) == len(set(ids)) <= 25


def test_a_coordinators_team_places_carry_step_off_and_the_audit_trail_in_one_row() -> None:
    place = TeamPlace(
        deployment_id=7,
        request_id=3,
        role="shadow",
        school="Mere Green",
        needs=("SEND",),
        lead="USLE1",
        head="UHEAD1",
        joined_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
    )
    plain_line = team_places_blocks([place], ZoneInfo("Europe/London"))
    assert action_ids(plain_line) == ["team_remove"]
    coordinator = team_places_blocks([place], ZoneInfo("Europe/London"), audit=True)
    assert action_ids(coordinator) == ["team_remove", "home_audit_trail"]
    row = coordinator[-1]
    assert row["type"] == "actions" and row["elements"][1]["value"] == "3"
    assert "accessory" not in coordinator[-2]
