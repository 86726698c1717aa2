"""`/support audit N`, called as Bolt calls it: acknowledged at once, then the modal for a
coordinator, a refusal (audited) for anyone else, a friendly word for a bad number."""

from __future__ import annotations

from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.commands import support
from handlers.slack.listeners.commands.audit import is_audit_command
from storage.models import AuditEntry
from tests.handlers.slack.listeners.commands.test_support import _command
from tests.handlers.slack.listeners.conftest import COORDINATOR, HEAD, Ack, new_request, owed
from tests.support.blockkit import texts


def _refused(ctx: Runtime) -> list[str | None]:
    with Session(ctx.engine) as session:
        return [
            entry.actor
            for entry in session.exec(
                select(AuditEntry).where(AuditEntry.action == "request.audit_trail.refused")
            )
        ]


def test_a_coordinator_gets_the_trail_after_an_empty_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    support.on_support(
        ctx, ack=ack, command=_command(COORDINATOR, f"audit {request_id}"), client=client
    )
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "audit_trail"
    assert view["title"]["text"] == f"Audit trail #{request_id}"
    assert "offered the request to" in texts(view["blocks"])
    assert client.views_open.call_args.kwargs["trigger_id"] == "trigger-1"


def test_a_head_is_refused_and_the_refusal_is_audited(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    support.on_support(ctx, ack=ack, command=_command(HEAD, f"audit #{request_id}"), client=client)
    assert ack.once == {}
    client.views_open.assert_not_called()
    assert any("Only coordinators" in str(m.payload) for m in owed(ctx))
    assert _refused(ctx) == [HEAD]


def test_an_unknown_request_and_a_missing_number_are_told_politely(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    support.on_support(ctx, ack=ack, command=_command(COORDINATOR, "audit 999"), client=client)
    support.on_support(ctx, ack=ack, command=_command(COORDINATOR, "audit"), client=client)
    client.views_open.assert_not_called()
    said = " ".join(str(m.payload) for m in owed(ctx))
    assert "can't find that request" in said and "Try `/support audit 12`" in said
    assert _refused(ctx) == []


def test_only_audit_alone_or_before_a_number_is_the_command() -> None:
    assert is_audit_command("audit 12") and is_audit_command("Audit #12")
    assert is_audit_command("audit") and is_audit_command("audit 12 please")
    assert not is_audit_command("audit of our SEND provision")
    assert not is_audit_command("auditing") and not is_audit_command("")


def test_help_mentions_the_audit_command_for_coordinators(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    support.on_support(ctx, ack=ack, command=_command(COORDINATOR, "help"), client=client)
    assert "Coordinators:" in ack.once["text"] and "`/support audit 12`" in ack.once["text"]
