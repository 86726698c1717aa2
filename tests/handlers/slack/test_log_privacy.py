"""What the served bot logs when Slack refuses a call: ids and error codes, never what the
answer quoted (a proxy or gateway in front of Slack can echo names, emails and message text
in `error`, and slack_sdk's `SlackApiError` repeats the whole answer in its message)."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from handlers.slack.sender import post_to_response_url
from handlers.slack.stand_in.signing import message_event, new_event_id
from storage.models import OutboxMessage
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.support.logs import LOG_FORMATS, bot_log

QUOTED = "Anna Balson a.balson@example.org Mere Green Primary School"


def _assert_nothing_quoted(logged: str) -> None:
    for word in QUOTED.split():
        assert word not in logged, f"{word!r} reached the log"


@pytest.mark.parametrize("log_format", LOG_FORMATS)
@pytest.mark.parametrize("status", [500, 200])
def test_a_failed_call_in_a_listener_is_logged_without_slacks_answer(
    slack: SlackWorld, log_format: str, status: int
) -> None:
    slack.import_directory()
    slack.fake.fail_next("views.open", status=status, error=f"internal_error {QUOTED}")

    with bot_log(log_format) as lines:
        slack.sender.command("/support", "", user_id="UHEAD1", channel_id=SUPPORT_CHANNEL)
        slack.settle()

    logged = lines.getvalue()
    assert "unhandled SlackApiError in /support (user=UHEAD1" in logged
    assert f"HTTP {status}" in logged  # what the traceback keeps of the answer
    _assert_nothing_quoted(logged)
    slack.errors.clear()  # expected here


@pytest.mark.parametrize("log_format", LOG_FORMATS)
@pytest.mark.parametrize(
    ("status", "page"),
    [(500, None), (200, None), (502, f"<html>Bad gateway: {QUOTED}</html>")],
    ids=["500", "200", "502-page"],
)
def test_an_error_that_is_not_a_code_is_neither_logged_nor_kept_by_the_outbox(
    slack: SlackWorld, log_format: str, status: int, page: str | None
) -> None:
    # A page that is not JSON reaches the bot as `error`: "Received a response in a non-JSON
    # format: <the page>" (slack_sdk).
    slack.import_directory()
    slack.fake.fail_next(
        "chat.postMessage", status=status, error=f"fatal_error {QUOTED}", text=page, times=9
    )
    event = message_event("UHEAD1", "Our SENCO has left; EHCP reviews are due.", SUPPORT_CHANNEL)

    with bot_log(log_format) as lines:
        assert slack.sender.event(event, event_id=new_event_id())[0] == 200
        slack.settle()

    logged = lines.getvalue()
    assert f"http_{status}" in logged  # the outbox's line about it names the status instead
    _assert_nothing_quoted(logged)
    with slack.runtime.sessions() as session:
        kept = session.exec(select(col(OutboxMessage.last_error))).all()
    assert f"http_{status}" in kept
    _assert_nothing_quoted(repr(kept))


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_a_refused_home_tab_is_logged_with_a_code_only(slack: SlackWorld, log_format: str) -> None:
    slack.import_directory()
    slack.fake.fail_permanently("views.publish", f"not_allowed {QUOTED}")
    opened = {"type": "app_home_opened", "user": "UHEAD1", "tab": "home", "event_ts": "1.2"}

    with bot_log(log_format) as lines:
        assert slack.sender.event(opened, event_id=new_event_id())[0] == 200
        slack.settle()

    logged = lines.getvalue()
    assert "could not publish the home tab of UHEAD1: http_200" in logged
    _assert_nothing_quoted(logged)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_an_unreachable_response_url_is_not_logged(log_format: str) -> None:
    # Whoever holds a response_url can post to that person as the bot for 30 minutes.
    url = "http://127.0.0.1:9/commands/T0001/1234/a1b2c3capability"

    with bot_log(log_format) as lines:
        assert post_to_response_url(url, f"About {QUOTED}") == 0

    logged = lines.getvalue()
    assert "Going to retry the same request" in logged  # slack_sdk's retry, said without the URL
    assert "a1b2c3capability" not in logged and "/commands/" not in logged
    _assert_nothing_quoted(logged)
