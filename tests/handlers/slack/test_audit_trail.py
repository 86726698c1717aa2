"""A request's audit trail through Slack: the *Audit trail* button on a coordinator's Home
tab opens a modal of its entries in words and local times; nobody else may open it."""

from __future__ import annotations

from sqlmodel import select

from handlers.slack.stand_in.signing import block_actions_payload
from storage.models import AuditEntry
from tests.handlers.slack.conftest import SlackWorld
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
