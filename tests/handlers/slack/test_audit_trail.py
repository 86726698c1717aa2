"""A request's audit trail through Slack: the *Audit trail* button on every request line of a
coordinator's Home tab, and `/support audit N` for any request, open a modal of its entries in
words and local times; nobody else may open it."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from handlers.slack.stand_in.signing import block_actions_payload
from storage.models import AuditEntry, Offer, Person
from tests.handlers.slack.conftest import DIRECTORY, SlackWorld
from tests.handlers.slack.test_home import ask, click_in_home, open_home, values_of
from tests.support.blockkit import texts


def test_a_coordinator_opens_a_requests_audit_trail_from_the_home_tab(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our governors need help with governance")  # nobody matches
    view = open_home(slack, "UCOORD")
    assert str(request_id) in values_of(view["blocks"], "home_audit_trail")
    assert str(request_id) in values_of(view["blocks"], "request_assign")

    click_in_home(slack, "UCOORD", "home_audit_trail", str(request_id))

    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    modal = opened.args["view"]
    assert modal["title"]["text"] == f"Audit trail #{request_id}"
    shown = texts(modal["blocks"])
    assert "Times: Europe/London" in shown
    assert "23 Nov 2026, 09:00 GMT" in shown  # the test clock, Monday 09:00 UTC, in winter
    assert "<@UHEAD1> captured the request" in shown
    assert "The bot asked the coordinators to assign someone (no available supporter" in shown


def test_someone_else_is_refused_the_audit_trail_and_the_refusal_is_audited(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our governors need help with governance")
    status, _, _ = slack.sender.interact(
        block_actions_payload("UHEAD1", "home_audit_trail", str(request_id))
    )
    assert status == 200
    slack.settle()
    assert slack.fake.calls_to("views.open") == []
    assert any("Only coordinators" in reply for reply in slack.fake.replies_to("UHEAD1"))
    with slack.runtime.sessions() as session:
        refused = session.exec(
            select(AuditEntry).where(AuditEntry.action == "request.audit_trail.refused")
        ).all()
    assert [entry.actor for entry in refused] == ["UHEAD1"]


def test_a_button_for_a_request_that_does_not_exist_is_told_politely(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.sender.interact(block_actions_payload("UCOORD", "home_audit_trail", "999"))
    slack.settle()
    assert slack.fake.calls_to("views.open") == []
    assert any("can't find that request" in reply for reply in slack.fake.replies_to("UCOORD"))


# --- /support audit N ----------------------------------------------------------------------------
def audit_command(slack: SlackWorld, user: str, text: str) -> None:
    status, _, _ = slack.sender.command("/support", text, user_id=user, channel_id="C0ELSEWHERE")
    assert status == 200
    slack.settle()


def refusals(slack: SlackWorld) -> list[tuple[str | None, str | None]]:
    with slack.runtime.sessions() as session:
        return [
            (entry.actor, entry.subject_id)
            for entry in session.exec(
                select(AuditEntry).where(AuditEntry.action == "request.audit_trail.refused")
            )
        ]


def test_a_coordinator_opens_any_requests_trail_with_the_command(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue")  # offered

    audit_command(slack, "UCOORD", f"audit #{request_id}")

    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    modal = opened.args["view"]
    assert modal["title"]["text"] == f"Audit trail #{request_id}"
    assert "offered the request to" in texts(modal["blocks"])
    assert refusals(slack) == []


def add_cadence_changes(slack: SlackWorld, request_id: int, count: int) -> None:
    """`count` audit entries about the request, as a busy deployment's year would leave."""
    with slack.runtime.sessions() as session:
        session.add_all(
            AuditEntry(
                at=slack.clock.now(),
                actor="UHEAD1",
                action="checkin.cadence",
                subject_type="request",
                subject_id=str(request_id),
            )
            for _ in range(count)
        )
        session.commit()


def test_a_trail_of_a_thousand_entries_opens_whole(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue")
    add_cadence_changes(slack, request_id, 1000)

    audit_command(slack, "UCOORD", f"audit {request_id}")

    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    shown = texts(opened.args["view"]["blocks"])
    assert shown.count("changed how often check-ins come") == 1000
    assert "longer than fits" not in shown


def test_a_trail_too_long_for_a_modal_names_the_command_for_the_rest(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue")
    add_cadence_changes(slack, request_id, 5000)

    audit_command(slack, "UCOORD", f"audit {request_id}")

    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    modal = opened.args["view"]
    assert len(json.dumps(modal)) < 250_000  # Slack's size limit for a view
    shown = texts(modal["blocks"])
    assert "<@UHEAD1> captured the request" in shown  # oldest first
    assert f"the rest is in `python -m bot audit --request {request_id}`" in shown


def test_the_command_refuses_anyone_else_and_audits_the_refusal(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue")
    audit_command(slack, "UHEAD1", f"audit {request_id}")
    assert slack.fake.calls_to("views.open") == []
    assert any("Only coordinators" in reply for reply in slack.fake.replies_to("UHEAD1"))
    assert refusals(slack) == [("UHEAD1", str(request_id))]


def test_the_command_answers_an_unknown_request_or_a_missing_number_politely(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    audit_command(slack, "UCOORD", "audit 999")
    audit_command(slack, "UCOORD", "audit")
    audit_command(slack, "UCOORD", "AUDIT 12 please")
    assert slack.fake.calls_to("views.open") == []
    replies = slack.fake.replies_to("UCOORD")
    assert any("can't find that request" in reply for reply in replies)
    assert sum("Try `/support audit 12`" in reply for reply in replies) == 2
    assert refusals(slack) == []


def test_a_request_that_starts_with_the_word_audit_is_still_a_request(slack: SlackWorld) -> None:
    slack.import_directory()
    audit_command(slack, "UHEAD1", "audit of our SEND provision before Ofsted")
    [opened] = slack.fake.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "request_new"
    assert refusals(slack) == []


def test_help_tells_coordinators_about_the_audit_command(slack: SlackWorld) -> None:
    status, body, _ = slack.sender.command("/support", "help", user_id="UCOORD")
    assert status == 200
    assert "`/support audit 12`" in body.decode()


# --- the button on every request line a coordinator sees ------------------------------------------
COORDINATING_HEAD_AND_SUPPORTER = DIRECTORY.replace(
    "UHEAD1,Hannah Head,h.head@example.org,head,",
    "UHEAD1,Hannah Head,h.head@example.org,head;coordinator,",
).replace(
    "USLE1,Sam Specialist,s.spec@example.org,sle,",
    "USLE1,Sam Specialist,s.spec@example.org,sle;coordinator,",
)


def accepted_by_sam(slack: SlackWorld) -> int:
    """Hannah asks for SEND help and Sam accepts; the request id."""
    request_id = ask(slack, "Our SENCO has left and EHCP reviews are overdue")
    with slack.runtime.sessions() as session:
        sam = session.exec(select(Person).where(Person.slack_user_id == "USLE1")).one()
        offer = session.exec(select(Offer).where(Offer.supporter_id == sam.id)).one()
    slack.sender.interact(block_actions_payload("USLE1", "offer_accept", str(offer.id)))
    slack.settle()
    return request_id


def test_recent_deployments_on_a_coordinators_home_carry_the_audit_trail(
    slack: SlackWorld,
) -> None:
    slack.import_directory()
    request_id = accepted_by_sam(slack)
    view = open_home(slack, "UCOORD")
    assert "Recent deployments" in texts(view["blocks"])
    assert values_of(view["blocks"], "home_audit_trail") == {str(request_id)}

    click_in_home(slack, "UCOORD", "home_audit_trail", str(request_id))
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    assert "accepted" in texts(opened.args["view"]["blocks"])


def test_a_coordinators_own_requests_and_deployments_carry_it_and_nobody_elses_do(
    slack: SlackWorld,
) -> None:
    slack.import_directory(COORDINATING_HEAD_AND_SUPPORTER)
    request_id = accepted_by_sam(slack)
    head = open_home(slack, "UHEAD1")  # their request, and "Your deployments"
    shown = texts(head["blocks"])
    assert "Your requests" in shown and "Your deployments" in shown
    assert _audit_buttons(head["blocks"]) == [str(request_id), str(request_id)]
    sam = open_home(slack, "USLE1")  # "Schools you're supporting", and "Your deployments"
    assert "Schools you're supporting" in texts(sam["blocks"])
    assert _audit_buttons(sam["blocks"]) == [str(request_id), str(request_id)]

    slack.import_directory()  # back to a head and a supporter only
    assert _audit_buttons(open_home(slack, "UHEAD1")["blocks"]) == []
    assert _audit_buttons(open_home(slack, "USLE1")["blocks"]) == []


def _audit_buttons(blocks: list[dict[str, Any]]) -> list[str]:
    """The request ids of every *Audit trail* button, in page order."""
    return [
        str(element.get("value"))
        for block in blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") == "home_audit_trail"
    ]
