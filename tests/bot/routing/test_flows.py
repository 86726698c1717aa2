"""Routing flows around a just-submitted form. On SQLite and PostgreSQL."""

from __future__ import annotations

import io

from sqlmodel import func, select

from bot.core.clock import FixedClock
from bot.core.context import ServiceContext
from bot.core.school_calendar import load_calendar
from bot.core.settings import load_settings
from bot.core.vocabulary import default_vocabulary
from bot.directory.service import COLUMNS, import_directory
from bot.requests.intake import submit_request
from bot.requests.views import Draft
from bot.routing.flows import find_support_if_new
from bot.routing.service import confirm_request
from storage.db import SessionFactory, transaction
from storage.models import Offer

DIRECTORY = "\n".join(
    [
        ",".join(COLUMNS),
        "UHEAD,Hannah Head,,head,Mere Green Primary School,103413,primary,West Midlands,,1,,",
        "UNLE1,Nadia Leader,,nle,Oak Hill Primary School,103500,primary,West Midlands,send,2,,",
    ]
)


def test_a_form_the_head_already_sent_out_is_not_offered_twice(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s"}, env_file=None
    )
    vocabulary = default_vocabulary()
    assert import_directory(sessions, io.StringIO(DIRECTORY + "\n"), now=clock.now()).ok
    ctx = ServiceContext(settings, vocabulary, load_calendar(settings), clock.now())
    with transaction(sessions) as session:
        outcome = submit_request(
            session,
            settings,
            vocabulary,
            now=clock.now(),
            user="UHEAD",
            user_name="Hannah Head",
            draft=Draft(title="SEND review", description="Our SENCO has left.", tags=("send",)),
            source="command",
            source_key="view:V1",
        )
    # *Find support* pressed between the form's acknowledgement and the offer that follows it.
    with transaction(sessions) as session:
        confirm_request(session, ctx, actor="UHEAD", request_id=outcome.summary.id)
    with transaction(sessions) as session:
        find_support_if_new(session, ctx, actor="UHEAD", outcome=outcome)
    with sessions() as session:
        assert session.exec(select(func.count()).select_from(Offer)).one() == 1
