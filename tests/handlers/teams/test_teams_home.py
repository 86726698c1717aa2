"""`home` on Teams (no Home tab there): the summary where it was asked, and a card per
deployment in the person's own 1:1 chat with the next steps' buttons: revising the agreement
filled in, logging a visit (saved once however often it is submitted), the summary and, for
coordinators, the audit trail. Each card names the other person, whichever platform they are on
(and Slack's Home tab names a Teams-only head)."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.entry.stand_in import SlackWorld
from handlers.slack.stand_in.signing import block_actions_payload
from storage.models import DeploymentObjective, DeploymentVisit, Offer, Person
from tests.handlers.slack.test_home import open_home
from tests.handlers.teams.conftest import COORDINATOR, HEAD, NLE, ON_TEAMS, teams_user, teams_world
from tests.handlers.teams.programme import (
    actions_on,
    answer_card,
    card_with,
    cards_to,
    deployed,
    message_with,
    plan,
    press_in_message,
    press_on_card,
)
from tests.handlers.teams.test_teams_flows import (
    card_texts,
    fake,
    head_posts,
    offers,
    press,
    requests,
)
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_lifecycle import AGREEMENT
from tests.handlers.teams.test_teams_visits import say
from tests.support.blockkit import texts


def test_home_lists_each_deployment_with_its_next_steps(teams: SlackWorld) -> None:
    deployed(teams)
    say(teams, NLE, "home")  # delivered twice: answered once
    chat = fake(teams).messages(fake(teams).personal_conversation(NLE))
    assert len([m for m in chat if "Where things stand for Nadia Leader" in card_texts(m)]) == 1
    [card] = [c for c in cards_to(teams, NLE) if "Days given" in card_texts(c)]
    assert "Mere Green Primary School" in card_texts(card)
    assert actions_on(card) == [
        "deployment_book_visit",
        "deployment_agreement",
        "team_open",
        "deployment_log_visit",
        "deployment_summary",
    ]
    [head_card] = [c for c in cards_to(teams, HEAD) if "Days given" in card_texts(c)] or [None]
    assert head_card is None, "Hannah did not ask"


def test_revising_the_agreement_from_home_holds_the_draft(teams: SlackWorld) -> None:
    deployed(teams)
    press_on_card(teams, NLE, "deployment_agreement", **AGREEMENT)
    press_on_card(teams, HEAD, "deployment_confirm_agreement")
    say(teams, NLE, "home")
    form = answer_card(press_on_card(teams, NLE, "deployment_agreement_open"))
    fields = inputs(form)
    assert fields["objectives"]["value"] == (
        "A SEND register that is up to date\nTrain the new SENCO"
    )
    assert fields["review_on"]["value"] == "2027-01-15" and fields["days"]["value"] == 6.0
    revised = {**AGREEMENT, "objectives": fields["objectives"]["value"] + "\nAudit KS2 maths"}
    deployment_id = plan(teams).deployment_id
    answer = press(teams, NLE, "deployment_agreement", deployment_id, **revised)
    assert "asked the head to confirm" in answer["value"]
    assert plan(teams).agreement_confirmed_at is None, "the head confirms again"
    with teams.runtime.sessions() as session:
        assert len(list(session.exec(select(DeploymentObjective)))) == 3
    refused = press(teams, HEAD, "deployment_agreement_open", deployment_id)
    assert refused["type"].endswith("message")


def test_a_visit_logged_from_home_is_saved_once(teams: SlackWorld) -> None:
    deployed(teams)
    say(teams, NLE, "home")
    message = message_with(teams, NLE, "deployment_log_visit")
    log = {"days": "1", "visit_note": "Observed two lessons"}
    answer = press_in_message(teams, NLE, message, "deployment_log_visit", **log)
    assert "Logged. 1 day given so far." in answer["value"]
    again = press_in_message(teams, NLE, message, "deployment_log_visit", **log)  # double submit
    assert "saved already" in again["value"]
    with teams.runtime.sessions() as session:
        visits = [(v.days, v.note) for v in session.exec(select(DeploymentVisit))]
    assert visits == [(1.0, "Observed two lessons")]


def test_home_in_a_channel_keeps_the_deployment_cards_private(teams: SlackWorld) -> None:
    deployed(teams)
    activity = fake(teams).message("home", user=teams_user(NLE), aad=NLE, channel=True)
    assert teams.teams_send(activity).status_code == 200
    teams.settle()
    in_channel = fake(teams).messages(activity["conversation"]["id"])
    assert len(in_channel) == 1 and "Days given" not in card_texts(in_channel[0])
    assert card_with(teams, NLE, "deployment_summary")


def test_a_coordinators_home_has_recent_deployments_with_the_audit_trail(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployed(world)
        say(world, COORDINATOR, "home")
        card = card_with(world, COORDINATOR, "home_audit_trail")
        assert actions_on(card) == ["deployment_summary", "deployment_end", "home_audit_trail"]
        press_on_card(world, COORDINATOR, "home_audit_trail")
        assert [c for c in cards_to(world, COORDINATOR) if "Audit trail of request" in str(c)]


def test_home_cards_name_the_other_person_on_teams(teams: SlackWorld) -> None:
    deployed(teams)  # Hannah and Nadia are both only on Teams
    say(teams, NLE, "home")
    say(teams, HEAD, "home")
    [supporter] = [c for c in cards_to(teams, NLE) if "Days given" in card_texts(c)]
    assert "**Mere Green Primary School** with Hannah Head · request #" in card_texts(supporter)
    [head] = [c for c in cards_to(teams, HEAD) if "Days given" in card_texts(c)]
    assert " with Nadia Leader · request #" in card_texts(head)
    assert "<@" not in card_texts(supporter) + card_texts(head)


def test_slack_home_names_a_head_who_is_only_on_teams(teams: SlackWorld) -> None:
    head_posts(teams)  # Hannah, on Teams, asks; Sam, on Slack, accepts
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    with teams.runtime.sessions() as session:
        sam = session.exec(select(Person.id).where(Person.slack_user_id == "USLE1")).one()
    [offer] = [o for o in offers(teams, request.id) if o.supporter_id == sam]
    teams.sender.interact(block_actions_payload("USLE1", "offer_accept", str(offer.id)))
    teams.settle()
    with teams.runtime.sessions() as session:
        assert session.get(Offer, offer.id).status == "accepted"  # type: ignore[union-attr]
    shown = texts(open_home(teams, "USLE1")["blocks"])
    assert "*Mere Green Primary School* with Hannah Head · request #" in shown
    assert HEAD not in shown and "a colleague on Teams" not in shown
    say(teams, HEAD, "home")  # and the Teams head's card names Sam, who is on Slack
    [head] = [c for c in cards_to(teams, HEAD) if "Days given" in card_texts(c)]
    assert " with Sam Specialist · request #" in card_texts(head)
