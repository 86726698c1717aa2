"""`assign N <name or email>` and `suggest N <name or email>` from Teams, driven through
`/api/messages` on a Teams-only deployment: the same core flows and permission checks as
Slack's `/support assign` and *Suggest a colleague*."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.entry.stand_in import SlackWorld
from handlers.teams.listeners.commands import is_change, split_command
from storage.models import AuditEntry, Deployment, Offer, Person, School
from tests.handlers.teams.conftest import COORDINATOR, COORDINATORS_CHANNEL, HEAD, NLE, teams_user
from tests.handlers.teams.test_teams_flows import (
    card_texts,
    fake,
    head_posts,
    offers,
    press,
    requests,
)


def says(world: SlackWorld, aad: str, text: str, **where: Any) -> list[str]:
    """`aad` writes `text` to the bot (a 1:1 chat unless `where` says); the replies there."""
    activity = fake(world).message(text, user=teams_user(aad), aad=aad, **where)
    assert world.teams_send(activity).status_code == 200
    world.settle()
    return [card_texts(m) for m in fake(world).messages(activity["conversation"]["id"])]


def a_request(world: SlackWorld) -> int:
    head_posts(world)
    [request] = requests(world)
    return request.id or 0


def deployments(world: SlackWorld) -> list[tuple[int, str]]:
    with world.runtime.sessions() as session:
        rows = session.exec(select(Deployment, Person).join(Person)).all()
        return [(d.request_id, p.name) for d, p in rows]


def refusals(world: SlackWorld) -> list[str]:
    with world.runtime.sessions() as session:
        events = session.exec(select(AuditEntry.action).where(AuditEntry.actor == HEAD))
        return [a for a in events if a.endswith(".refused")]


def test_a_coordinator_assigns_by_name(teams_only: SlackWorld) -> None:
    request_id = a_request(teams_only)
    [reply] = says(teams_only, COORDINATOR, f"assign {request_id} sam specialist")
    assert f"request #{request_id} is now with Sam Specialist" in reply
    assert deployments(teams_only) == [(request_id, "Sam Specialist")]
    [request] = requests(teams_only)
    assert request.status == "accepted"


def test_a_coordinator_assigns_by_a_name_postgresql_folds_otherwise(
    teams_only: SlackWorld,
) -> None:
    """A ligature, a Greek iota subscript, a letter casefold() decomposes: the name as the
    directory has it still names its person, on PostgreSQL as on SQLite."""
    request_id = a_request(teams_only)
    with teams_only.runtime.sessions() as session:
        sam = session.exec(select(Person).where(Person.name == "Sam Specialist")).one()
        sam.name = "Soﬁa Ἀθηνᾳ Raǰ"
        session.add(sam)
        session.commit()
    [reply] = says(teams_only, COORDINATOR, f"assign {request_id} SOﬁA ἈΘΗΝᾳ RAǰ")
    assert f"request #{request_id} is now with Soﬁa Ἀθηνᾳ Raǰ" in reply
    assert deployments(teams_only) == [(request_id, "Soﬁa Ἀθηνᾳ Raǰ")]


def test_a_coordinator_assigns_by_email_in_the_coordinators_channel(
    teams_only: SlackWorld,
) -> None:
    request_id = a_request(teams_only)
    channel = {"conversation_id": COORDINATORS_CHANNEL, "channel": True}
    replies = says(teams_only, COORDINATOR, f"assign #{request_id} P.Senco@example.org", **channel)
    assert any("Priya Senco" in r for r in replies)
    assert deployments(teams_only) == [(request_id, "Priya Senco")]


def test_only_a_coordinator_may_assign_and_a_refusal_is_answered_once(
    teams_only: SlackWorld,
) -> None:
    request_id = a_request(teams_only)
    activity = fake(teams_only).message(
        f"assign {request_id} Sam Specialist", user=teams_user(HEAD), aad=HEAD
    )
    for _ in range(2):  # Teams delivers it twice
        assert teams_only.teams_send(activity).status_code == 200
        teams_only.settle()
    chat = fake(teams_only).messages(activity["conversation"]["id"])
    assert sum("Only coordinators can assign" in card_texts(m) for m in chat) == 1
    assert deployments(teams_only) == []
    assert refusals(teams_only) == ["request.assign.refused"]


def test_a_bad_assign_is_explained_and_changes_nothing(teams_only: SlackWorld) -> None:
    request_id = a_request(teams_only)
    assert any(
        "assign 12 Sam Jones" in r for r in says(teams_only, COORDINATOR, f"assign {request_id}")
    )
    unknown = says(teams_only, COORDINATOR, f"assign {request_id} Nobody Known")
    assert any("can't find 'Nobody Known'" in r for r in unknown)
    typed = f"assign {request_id} **Evil** [x](http://e) <at>Boss</at>"
    told = says(teams_only, COORDINATOR, typed)[-1]
    assert "can't find" in told
    assert "\\*\\*Evil\\*\\*" in told, "shown as typed, not bold"
    assert "](" not in told and "<at" not in told
    # The bot's own link markup, typed, is shown as typed too: no link to click.
    linked = says(teams_only, COORDINATOR, f"assign {request_id} <https://e.example|Click me>")[-1]
    assert "can't find" in linked and "Click me" in linked
    assert "](" not in linked, "no Markdown link made of what someone typed"
    not_supporter = says(teams_only, COORDINATOR, f"assign {request_id} Harry Head")
    assert any("isn't a supporter" in r for r in not_supporter)
    assert deployments(teams_only) == []


def test_a_conflict_of_interest_is_refused_unless_the_coordinator_says_anyway(
    teams_only: SlackWorld,
) -> None:
    request_id = a_request(teams_only)
    with teams_only.runtime.sessions() as session:  # Hannah's school and Sam's: one trust
        for school in session.exec(select(School)):
            school.trust = "Arden Trust"
            session.add(school)
        session.commit()
    refused = says(teams_only, COORDINATOR, f"assign {request_id} Sam Specialist")
    assert any("a conflict of interest" in r and "anyway" in r for r in refused)
    assert deployments(teams_only) == []
    done = says(teams_only, COORDINATOR, f"assign {request_id} Sam Specialist anyway")
    assert f"request #{request_id} is now with Sam Specialist" in done[-1]
    assert deployments(teams_only) == [(request_id, "Sam Specialist")]


COLLEAGUE = "66666666-6666-4666-8666-666666666666"
NEWCOMER_CSV = (
    "slack_user_id,teams_user_id,name,email,roles,school,phase,region,expertise,capacity\n"
    f",{COLLEAGUE},Nia Colleague,n.colleague@example.org,sle,Oak School,primary,"
    "West Midlands,send,1\n"
)


def test_an_offered_supporter_suggests_a_colleague(teams_only: SlackWorld) -> None:
    request_id = a_request(teams_only)
    press(teams_only, HEAD, "request_confirm", request_id)
    teams_only.import_directory(NEWCOMER_CSV)  # joined after the offers went out
    replies = says(teams_only, NLE, f"suggest {request_id} n.colleague@example.org")
    assert any("asked Nia Colleague too" in r for r in replies), replies
    made = [o for o in offers(teams_only, request_id) if o.suggested_user_id is None]
    with teams_only.runtime.sessions() as session:
        nia = session.exec(select(Person).where(Person.teams_user_id == COLLEAGUE)).one()
    [new] = [o for o in made if o.supporter_id == nia.id]
    assert new.status == "open" and "suggested by Nadia Leader" in new.reasons
    nia_chat = fake(teams_only).personal_conversation(COLLEAGUE)
    assert nia_chat is not None and fake(teams_only).messages(nia_chat)


def test_a_suggestion_outside_the_supporters_goes_to_the_coordinators(
    teams_only: SlackWorld,
) -> None:
    request_id = a_request(teams_only)
    press(teams_only, HEAD, "request_confirm", request_id)
    before = len(offers(teams_only, request_id))
    replies = says(teams_only, NLE, f"suggest {request_id} Harry Head")
    assert any("passed your suggestion to the coordinators" in r for r in replies), replies
    assert len(offers(teams_only, request_id)) == before
    told = [card_texts(m) for m in fake(teams_only).messages(COORDINATORS_CHANNEL)]
    assert any("suggested Harry Head" in t for t in told), told


def test_only_someone_offered_the_request_can_suggest(teams_only: SlackWorld) -> None:
    request_id = a_request(teams_only)
    press(teams_only, HEAD, "request_confirm", request_id)
    before = len(offers(teams_only, request_id))
    replies = says(teams_only, HEAD, f"suggest {request_id} Sam Specialist")
    assert any("wasn't offered to you" in r for r in replies)
    assert len(offers(teams_only, request_id)) == before
    with teams_only.runtime.sessions() as session:
        suggested = select(Offer.id).where(col(Offer.suggested_user_id).is_not(None))
        assert session.exec(suggested).all() == []


def test_words_that_begin_like_a_command_are_still_a_request(teams_only: SlackWorld) -> None:
    head_posts(teams_only, "Suggest a mentor for our new SENCO please: SEND support needed")
    [request] = requests(teams_only)
    assert request.description.startswith("Suggest a mentor")


def test_assign_and_suggest_are_commands_only_with_a_request_number() -> None:
    assert is_change(*split_command("assign #12 Sam Jones"))
    assert is_change(*split_command("Suggest 3 s.jones@example.org"))
    assert not is_change(*split_command("suggest a mentor for our SENCO"))
    assert not is_change(*split_command("support 12 pupils need help"))
