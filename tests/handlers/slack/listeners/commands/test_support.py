"""The `/support` command's listener, called as Bolt calls it."""

from __future__ import annotations

import threading
from typing import Any
from unittest.mock import MagicMock

from sqlmodel import select

from bot.entry.runtime import Runtime
from bot.visits.service import ask_to_visit
from bot.visits.views import VisitDraft
from handlers.slack.listeners.commands import support
from storage.db import transaction
from storage.models import Person, VisitRequest
from tests.handlers.slack.listeners.conftest import (
    COORDINATOR,
    HEAD,
    Ack,
    new_request,
    offers_of,
    request_status,
)


def _command(user: str, text: str, channel: str = "C0SUPPORT") -> dict[str, Any]:
    return {
        "command": "/support",
        "text": text,
        "user_id": user,
        "user_name": user.lower(),
        "channel_id": channel,
        "channel_name": "support",
        "trigger_id": "trigger-1",
    }


def test_on_support_help_answers_in_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    support.on_support(ctx, ack=ack, command=_command(HEAD, "help"), client=client)
    assert ack.once["text"] == support.HELP
    client.views_open.assert_not_called()


def test_on_support_opens_the_form_prefilled(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    support.on_support(ctx, ack=ack, command=_command(HEAD, "our SENCO is on leave"), client=client)
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "request_new"
    assert "our SENCO is on leave" in str(view)


def test_on_support_opens_the_form_while_another_click_is_saving(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    """Opening the form only reads: it does not queue behind another click's transaction
    (SQLite's write lock), so a burst of /support keeps within the trigger's 3 s, and it
    owes nothing, so the outbox is not woken."""
    opened = threading.Event()
    with transaction(ctx.sessions) as session:
        session.exec(select(Person)).first()  # this transaction now holds the write lock
        listener = threading.Thread(
            target=lambda: (
                support.on_support(ctx, ack=ack, command=_command(HEAD, "maths"), client=client),
                opened.set(),
            )
        )
        listener.start()
        assert opened.wait(timeout=10), "the form waited for the other transaction"
    listener.join()
    assert client.views_open.call_count == 1
    assert ctx.deliverer.kicks == 0  # type: ignore[attr-defined]


def test_on_support_from_a_dm_marks_the_request_private(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    support.on_support(ctx, ack=ack, command=_command(HEAD, "", channel="D0DM"), client=client)
    assert '"private": true' in client.views_open.call_args.kwargs["view"]["private_metadata"]


def test_on_support_in_the_support_channel_is_announced_without_a_look_up(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    support_channel = ctx.settings.support_channel_id
    assert support_channel
    command = _command(HEAD, "maths", channel=support_channel)
    support.on_support(ctx, ack=ack, command=command, client=client)
    assert "private" not in client.views_open.call_args.kwargs["view"]["private_metadata"]
    client.conversations_info.assert_not_called()


def test_on_support_in_a_channel_slack_says_is_private_stays_private(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    client.conversations_info.return_value = {
        "channel": {"id": "C0SLT", "is_channel": True, "is_private": True}
    }
    support.on_support(ctx, ack=ack, command=_command(HEAD, "", channel="C0SLT"), client=client)
    assert '"private": true' in client.views_open.call_args.kwargs["view"]["private_metadata"]
    client.conversations_info.assert_called_once_with(channel="C0SLT")
    client.views_update.assert_not_called()


def test_on_support_text_starting_with_assign_is_still_a_request(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    text = "assignments in Year 6 maths are weak"
    support.on_support(ctx, ack=ack, command=_command(HEAD, text), client=client)
    assert ack.once == {}
    assert text in str(client.views_open.call_args.kwargs["view"])


def test_on_support_assign_alone_says_how(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    support.on_support(ctx, ack=ack, command=_command(COORDINATOR, "assign"), client=client)
    client.views_open.assert_not_called()


def test_on_support_assign_saves_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    request_id = new_request(ctx)
    supporter = offers_of(ctx, request_id)[0][1]
    ack.check = lambda: request_status(ctx, request_id)
    command = _command(COORDINATOR, f"assign {request_id} <@{supporter}>")
    support.on_support(ctx, ack=ack, command=command, client=client)
    assert ack.once == {}
    assert ack.seen == ["accepted"]


def test_on_support_assign_by_a_head_is_refused(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    request_id = new_request(ctx)
    supporter = offers_of(ctx, request_id)[0][1]
    command = _command(HEAD, f"assign {request_id} <@{supporter}>")
    support.on_support(ctx, ack=ack, command=command, client=client)
    assert ack.once == {}
    assert request_status(ctx, request_id) == "offered"


def _unmatched_visit(ctx: Runtime) -> int:
    """A visit from the head that no school hosts (the Slack directory has no host schools)."""
    with transaction(ctx.sessions) as session:
        summary = ask_to_visit(
            session,
            ctx.context(),
            actor=HEAD,
            draft=VisitDraft(description="Mastery maths in Year 4", tags=("maths",)),
            source_key="listener-test-visit",
        )
    return summary.id


def _visit_status(ctx: Runtime, visit_id: int) -> str:
    with ctx.sessions() as session:
        visit = session.get(VisitRequest, visit_id)
        assert visit is not None
        return str(visit.status)


def test_on_support_visit_assign_saves_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    visit_id = _unmatched_visit(ctx)
    assert _visit_status(ctx, visit_id) == "unmatched"
    ack.check = lambda: _visit_status(ctx, visit_id)
    command = _command(COORDINATOR, f"visit-assign {visit_id} <@USLE1|sam> override")
    support.on_support(ctx, ack=ack, command=command, client=client)
    assert ack.once == {}
    assert ack.seen == ["accepted"]
    client.views_open.assert_not_called()


def test_on_support_visit_assign_without_a_person_changes_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    visit_id = _unmatched_visit(ctx)
    support.on_support(
        ctx, ack=ack, command=_command(COORDINATOR, f"visit-assign {visit_id}"), client=client
    )
    assert ack.once == {}
    assert _visit_status(ctx, visit_id) == "unmatched"
