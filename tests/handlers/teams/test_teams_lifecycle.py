"""The deployment lifecycle on Teams (issue 13), driven through `/api/messages` with the
`adaptiveCard/action` invokes Teams sends: the next-steps cards with their forms unfolded, the
first visit, the agreement drafted by a Teams supporter and confirmed by a Teams head, a visit
logged from a check-in, the review (its *Close* asks first, and closes once however often and by
whomever it is pressed), the closing record and the summary; bad input and double submits
change nothing."""

from __future__ import annotations

import threading

from sqlmodel import col, select

from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import (
    AuditEntry,
    CheckIn,
    Deployment,
    DeploymentObjective,
    DeploymentReview,
    DeploymentVisit,
    OutboxMessage,
)
from tests.handlers.teams.conftest import HEAD, NLE, teams_user
from tests.handlers.teams.programme import (
    actions_on,
    answer_card,
    card_with,
    cards_to,
    chat_of,
    deployed,
    plan,
    press_on_card,
)
from tests.handlers.teams.test_teams_flows import card_texts, fake, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_visits import say

NEWCOMER = "55555555-5555-4555-8555-555555555555"  # on Teams, not in the directory
AGREEMENT = {
    "objectives": "1. A SEND register that is up to date\n2. Train the new SENCO",
    "impact": "EHCP reviews on time",
    "days": "6",
    "review_on": "2027-01-15",
}


def agree(world: SlackWorld) -> None:
    answer = press_on_card(world, NLE, "deployment_agreement", **AGREEMENT)
    assert "asked the head to confirm" in answer["value"]
    answer = press_on_card(world, HEAD, "deployment_confirm_agreement")
    assert answer["statusCode"] == 200


def send_checkin(world: SlackWorld) -> CheckIn:
    with world.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    world.clock.set(checkin.due_at)
    run_due(world.runtime)
    world.settle()
    return checkin


def test_both_get_next_steps_with_the_forms_on_the_card(teams: SlackWorld) -> None:
    deployed(teams)
    supporter = card_with(teams, NLE, "deployment_book_visit")
    assert actions_on(supporter) == [
        "deployment_book_visit",
        "deployment_agreement",
        "deployment_skip_visit",
        "deployment_skip_agreement",
    ]
    fields = inputs(supporter)
    assert fields["visit_on"]["type"] == "Input.Date"
    assert {"objectives", "impact", "days", "review_on"} <= set(fields)
    assert fields["review_on"]["type"] == "Input.Date" and fields["days"]["type"] == "Input.Number"
    head = card_with(teams, HEAD, "deployment_book_visit")
    assert actions_on(head) == ["deployment_book_visit"]
    assert "Nadia Leader" in card_texts(head)


def test_the_first_visit_is_booked_on_a_school_day_only(teams: SlackWorld) -> None:
    deployed(teams)
    for day, words in (
        ("2026-11-28", "isn't a school day"),  # a Saturday
        ("2026-12-25", "isn't a school day"),  # Christmas Day
        ("2026-11-20", "today or a later date"),  # the past
        ("", "Please choose a date"),
        ("28/11/2026", "from the calendar"),
    ):
        answer = press_on_card(teams, NLE, "deployment_book_visit", visit_on=day)
        assert words in answer["value"], day
    assert plan(teams).first_visit_on is None
    answer = press_on_card(teams, NLE, "deployment_book_visit", visit_on="2026-12-01")
    assert "First visit booked for Tuesday 1 December 2026" in answer["value"]
    assert str(plan(teams).first_visit_on) == "2026-12-01"
    told = [c for c in cards_to(teams, HEAD) if "booked the first visit" in card_texts(c)]
    assert len(told) == 1 and "Tuesday 1 December 2026" in card_texts(told[0])


def test_a_teams_supporter_agrees_a_plan_and_a_teams_head_confirms_it(teams: SlackWorld) -> None:
    deployed(teams)
    press_on_card(teams, NLE, "deployment_agreement", **AGREEMENT)
    press_on_card(teams, NLE, "deployment_agreement", **AGREEMENT)  # a double submit
    drafted = plan(teams)
    assert drafted.agreement_drafted_at is not None and drafted.agreement_confirmed_at is None
    assert (drafted.days_committed, str(drafted.review_on)) == (6.0, "2027-01-15")
    with teams.runtime.sessions() as session:
        objectives = [o.text for o in session.exec(select(DeploymentObjective))]
    assert objectives == ["A SEND register that is up to date", "Train the new SENCO"]
    to_confirm = [c for c in cards_to(teams, HEAD) if "deployment_confirm_agreement" in str(c)]
    assert len(to_confirm) == 1, "the head is asked once"
    assert "Train the new SENCO" in card_texts(to_confirm[0])
    by_supporter = press(teams, NLE, "deployment_confirm_agreement", drafted.deployment_id)
    assert by_supporter["type"].endswith("message") and "head" in by_supporter["value"]
    assert plan(teams).agreement_confirmed_at is None
    press_on_card(teams, HEAD, "deployment_confirm_agreement")
    assert plan(teams).agreement_confirmed_at is not None


def test_objectives_that_begin_with_a_number_keep_it_on_teams(teams: SlackWorld) -> None:
    deployed(teams)
    objectives = "1) 100 pupils reach the expected standard\n2027 SATs: close the gap"
    press_on_card(teams, NLE, "deployment_agreement", **{**AGREEMENT, "objectives": objectives})
    with teams.runtime.sessions() as session:
        saved = session.exec(select(DeploymentObjective).order_by(DeploymentObjective.position))
        assert [o.text for o in saved] == [
            "100 pupils reach the expected standard",
            "2027 SATs: close the gap",
        ]
    [to_confirm] = [c for c in cards_to(teams, HEAD) if "deployment_confirm_agreement" in str(c)]
    assert "2027 SATs: close the gap" in card_texts(to_confirm)


def test_a_bad_agreement_is_answered_and_changes_nothing(teams: SlackWorld) -> None:
    deployed(teams)
    empty = {**AGREEMENT, "objectives": "  \n "}
    assert (
        "at least one objective"
        in press_on_card(teams, NLE, "deployment_agreement", **empty)["value"]
    )
    days = {**AGREEMENT, "days": "lots"}
    assert "number of days" in press_on_card(teams, NLE, "deployment_agreement", **days)["value"]
    past = {**AGREEMENT, "review_on": "2026-11-01"}
    assert "after today" in press_on_card(teams, NLE, "deployment_agreement", **past)["value"]
    by_head = press(
        teams, HEAD, "deployment_agreement", str(plan(teams).deployment_id), **AGREEMENT
    )
    assert "Only the school's head and their supporter" in by_head["value"]
    assert plan(teams).agreement_drafted_at is None
    with teams.runtime.sessions() as session:
        assert list(session.exec(select(DeploymentObjective))) == []


def test_days_and_a_note_are_logged_from_a_checkin_once(teams: SlackWorld) -> None:
    deployed(teams)
    checkin = send_checkin(teams)
    card = card_with(teams, NLE, "deployment_log_visit")
    assert {"days", "visited_on", "visit_note", "note"} <= set(inputs(card))
    log = {"days": "1.5", "visit_note": "Met the SLT"}
    answer = press_on_card(teams, NLE, "deployment_log_visit", **log)
    assert "Logged. 1.5 days given so far." in answer["value"]
    again = press_on_card(teams, NLE, "deployment_log_visit", **log)
    assert "already logged" in again["value"]
    by_head = press_on_card(teams, HEAD, "deployment_log_visit", days="2")
    assert "recorded by the supporter" in by_head["value"]
    with teams.runtime.sessions() as session:
        visits = [(v.days, v.note, v.checkin_id) for v in session.exec(select(DeploymentVisit))]
    assert visits == [(1.5, "Met the SLT", checkin.id)]


def test_the_review_is_answered_on_teams_once_each(teams: SlackWorld) -> None:
    deployed(teams)
    agree(teams)
    teams.clock.set(plan(teams).review_due_at)
    run_due(teams.runtime)
    teams.settle()
    review = card_with(teams, HEAD, "deployment_review_adjust")
    assert actions_on(review) == [
        "deployment_review_continue",
        "deployment_review_adjust",
        "deployment_review_close",
        "deployment_skip_review",
    ]
    assert "adjust" in press_on_card(teams, HEAD, "deployment_review_adjust")["value"].lower()
    press_on_card(teams, NLE, "deployment_review_continue")
    second = press_on_card(teams, NLE, "deployment_review_close")
    assert "already answered the review" in second["value"]
    with teams.runtime.sessions() as session:
        answers = {r.role: r.decision for r in session.exec(select(DeploymentReview))}
    assert answers == {"head": "adjust", "supporter": "continue"}


def test_skipping_steps_on_teams_is_saved_and_audited(teams: SlackWorld) -> None:
    deployed(teams)
    assert "no first visit" in press_on_card(teams, NLE, "deployment_skip_visit")["value"]
    assert "no agreement" in press_on_card(teams, NLE, "deployment_skip_agreement")["value"]
    skipped = plan(teams)
    assert skipped.first_visit_skipped and skipped.agreement_skipped
    with teams.runtime.sessions() as session:
        steps = session.exec(
            select(AuditEntry.detail).where(AuditEntry.action == "deployment.step_skipped")
        ).all()
    assert len(steps) == 2


def close_with_ratings(world: SlackWorld) -> int:
    """Agree, complete on a check-in, and run the due work: the closing cards are out."""
    deployment_id = deployed(world)
    agree(world)
    send_checkin(world)
    answer = press_on_card(world, HEAD, "checkin_completed", note="EHCP reviews now on time")
    assert answer["statusCode"] == 200
    run_due(world.runtime)
    world.settle()
    with world.runtime.sessions() as session:
        assert session.get(Deployment, deployment_id).status == "completed"  # type: ignore[union-attr]
    return deployment_id


def test_at_closure_a_teams_head_rates_each_objective(teams: SlackWorld) -> None:
    deployment_id = close_with_ratings(teams)
    closing = card_with(teams, HEAD, "deployment_impact")
    assert actions_on(closing) == [
        "deployment_impact",
        "deployment_skip_impact",
        "deployment_summary",
    ]
    form = answer_card(press_on_card(teams, HEAD, "deployment_impact"))
    fields = inputs(form)
    ratings = sorted(k for k in fields if k.startswith("rating:"))
    assert len(ratings) == 2 and "overall" in fields
    assert [c["value"] for c in fields[ratings[0]]["choices"]] == [
        "not_started",
        "some",
        "good",
        "met",
    ]
    assert "Train the new SENCO" in card_texts({"card": form})

    bad = press(teams, HEAD, "deployment_impact_save", deployment_id, **{ratings[0]: "superb"})
    assert "choose a rating from the list" in bad["value"]
    with teams.runtime.sessions() as session:
        assert [o.rating for o in session.exec(select(DeploymentObjective))] == [None, None]

    values = {ratings[0]: "met", ratings[1]: "some", "overall": "Reviews now on time"}
    comment = {f"comment:{ratings[0].partition(':')[2]}": "All reviews in"}
    for _ in range(2):  # a double submit replaces the record with itself
        saved = answer_card(
            press(teams, HEAD, "deployment_impact_save", deployment_id, **values, **comment)
        )
        assert "closing record is saved" in card_texts({"card": saved})
    with teams.runtime.sessions() as session:
        rows = session.exec(select(DeploymentObjective).order_by(col(DeploymentObjective.position)))
        assert [(o.rating, o.head_comment) for o in rows] == [
            ("met", "All reviews in"),
            ("some", None),
        ]
        recorded = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.impact_recorded")
        ).all()
    assert len(recorded) == 2  # each save is audited; the record itself is one

    supporter = answer_card(press_on_card(teams, NLE, "deployment_impact"))
    assert not [k for k in inputs(supporter) if k.startswith("rating:")]
    notes = {k: "Good progress made" for k in inputs(supporter) if k.startswith("comment:")}
    press(teams, NLE, "deployment_impact_save", deployment_id, overall="A pleasure", **notes)
    with teams.runtime.sessions() as session:
        comments = [o.supporter_comment for o in session.exec(select(DeploymentObjective))]
    assert comments == ["Good progress made", "Good progress made"]


def test_the_summary_comes_as_a_card_to_those_involved_only(teams: SlackWorld) -> None:
    deployment_id = close_with_ratings(teams)
    press(teams, HEAD, "deployment_impact_save", deployment_id, overall="Reviews now on time")
    answer = press_on_card(teams, HEAD, "deployment_summary")
    assert "sent you the summary" in answer["value"]
    [summary] = [c for c in cards_to(teams, HEAD) if "Summary of request" in card_texts(c)]
    text = card_texts(summary)
    assert "Mere Green Primary School" in text and "Train the new SENCO" in text
    assert "Reviews now on time" in text
    assert f"python -m bot deployments summary {deployment_id}" in text

    refused = press(teams, NEWCOMER, "deployment_summary", deployment_id)
    assert "Only the school's head" in refused["value"]
    with teams.runtime.sessions() as session:
        sent = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.summary_sent")
        ).all()
        to_newcomer = session.exec(
            select(OutboxMessage).where(OutboxMessage.channel == NEWCOMER)
        ).all()
    assert len(sent) == 1 and to_newcomer == []


def test_an_unknown_button_still_says_so_and_changes_nothing(teams: SlackWorld) -> None:
    deployment_id = deployed(teams)
    for action in ("deployment_frobnicate", "deployment_skip_everything"):
        answer = press(teams, NLE, action, deployment_id)
        assert "doesn't work in Teams yet" in answer["value"]
    answer = press(teams, NLE, "deployment_book_visit", "not-a-number", visit_on="2026-12-01")
    assert "doesn't point at a support" in answer["value"]
    assert plan(teams).first_visit_on is None


def test_on_a_teams_only_bot_the_lifecycle_needs_no_slack(teams_only: SlackWorld) -> None:
    deployed(teams_only)
    agree(teams_only)
    press_on_card(teams_only, HEAD, "deployment_book_visit", visit_on="2026-12-02")
    confirmed = plan(teams_only)
    assert confirmed.agreement_confirmed_at is not None
    assert str(confirmed.first_visit_on) == "2026-12-02"
    assert teams_only.fake.calls_to("chat.postMessage") == [], "nothing went to Slack"


# --- the review's *Close*: asked first, and final once -----------------------------------------
def review_due(world: SlackWorld) -> int:
    """A deployment with an agreement whose review has just been asked for: its id."""
    deployment_id = deployed(world)
    agree(world)
    world.clock.set(plan(world).review_due_at)
    run_due(world.runtime)
    world.settle()
    return deployment_id


def closed_once(world: SlackWorld, deployment_id: int) -> None:
    """The support is completed once: one audit line, the closing record asked of each once,
    and the supporter's place freed."""
    with world.runtime.sessions() as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None and deployment.status == "completed"
        completed = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.completed")
        ).all()
    assert len(completed) == 1
    run_due(world.runtime)
    world.settle()
    run_due(world.runtime)  # the due work again asks nothing twice
    world.settle()
    for person in (HEAD, NLE):
        asked = [c for c in cards_to(world, person) if "deployment_impact" in actions_on(c)]
        assert len(asked) == 1, person
    say(world, NLE, "home")
    chat = [card_texts(m) for m in fake(world).messages(chat_of(world, NLE))]
    assert any("Supporting 0 of 2 at once" in text for text in chat), "her place is free"


def test_review_close_asks_are_you_sure_then_closes_once(teams: SlackWorld) -> None:
    deployment_id = review_due(teams)
    review = card_with(teams, HEAD, "deployment_review_close")
    [fold] = [a for a in review["actions"] if a["type"] == "Action.ShowCard"]
    assert fold["title"] == "Close"
    assert "**Close the support?** The support ends now" in card_texts({"card": fold})
    [yes] = fold["card"]["actions"]
    assert (yes["title"], yes["data"]["action"]) == ("Close the support", "deployment_review_close")
    on_the_card = [a.get("data", {}).get("action") for a in review["actions"]]
    assert "deployment_review_close" not in on_the_card, "Close itself only unfolds the question"

    value = yes["data"]["value"]
    answer = press(teams, HEAD, "deployment_review_close", value)
    assert "the support is now closed" in answer["value"]
    assert "has ended" in press(teams, HEAD, "deployment_review_close", value)["value"]
    by_supporter = press(teams, NLE, "deployment_review_close", value)
    assert "has ended" in by_supporter["value"]
    assert "deployment_review_close" not in str(cards_to(teams, NLE)), "the review DMs close"
    closed_once(teams, deployment_id)


def test_review_close_pressed_by_both_at_once_closes_once(teams: SlackWorld) -> None:
    deployment_id = review_due(teams)
    value = f"{deployment_id}:close"
    clicks = [
        fake(teams).card_action(
            {"action": "deployment_review_close", "value": value}, user=teams_user(aad), aad=aad
        )
        for aad in (HEAD, NLE)
    ]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def click(activity: dict[str, object]) -> None:
        start.wait()
        statuses.append(teams.teams_send(activity).status_code)

    threads = [threading.Thread(target=click, args=(a,)) for a in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    teams.settle()
    assert statuses == [200, 200]
    with teams.runtime.sessions() as session:
        answers = session.exec(select(DeploymentReview)).all()
    assert len(answers) == 1, "the second came after the support had ended"
    closed_once(teams, deployment_id)
