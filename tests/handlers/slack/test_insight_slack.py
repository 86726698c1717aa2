"""Supply and demand in Slack: the weekly digest names the largest gaps and attaches the charts
(uploaded through the outbox with Slack's current upload flow, retried on 429), and a
coordinator's App Home shows the same headline figures. Seeded with `insight_history`."""

from __future__ import annotations

import struct
from datetime import timedelta

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.entry.jobs import run_due
from bot.entry.stand_in import running_world
from bot.insight.charts import HEIGHT_PX, WIDTH_PX
from bot.outbox.owing import FILES_UPLOAD
from handlers.slack.stand_in.fake_slack import dm_channel_id
from storage.models import OutboxMessage
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, SlackWorld
from tests.handlers.slack.test_home import open_home
from tests.support.blockkit import texts
from tests.support.insight_history import AS_OF, seed_history

NORTH_EAST_GAP = (
    "No SEND supporter with capacity in the North East: 1 request waited over 10 working days."
)
WEST_MIDLANDS_GAP = (
    "SEND in the West Midlands: 1 request waited over 10 working days, with only 2 places free."
)
CHARTS = ("unmet-demand.png", "time-to-accept.png", "weekly-trend.png")
PRIVATE = ("Private", "Hannah", "Mere Green", "Tyne Bank", "UHEAD1", "Priya", "Nadia")


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def seeded(slack: SlackWorld) -> None:
    seed_history(slack.runtime.sessions)
    slack.clock.set(AS_OF)  # Monday 30 November, 09:00: the digest (mon 08:00) is due


def digest_messages(slack: SlackWorld, channel: str) -> list[dict]:  # type: ignore[type-arg]
    return [m for m in slack.fake.messages(channel) if "Weekly digest" in m.get("text", "")]


def test_the_digest_names_the_largest_gaps_and_attaches_the_charts(slack: SlackWorld) -> None:
    seeded(slack)
    assert run_due(slack.runtime)["digests_sent"] == 1
    slack.settle()
    [digest] = digest_messages(slack, COORDINATOR_CHANNEL)
    shown = texts(digest["blocks"])
    assert "Supply and demand — Autumn term 2026 so far" in shown
    assert "7 requests, 5 accepted; median time to acceptance 2 working days" in shown
    assert "(90th percentile 11 working days)" in shown
    assert NORTH_EAST_GAP in shown and WEST_MIDLANDS_GAP in shown
    assert shown.index(NORTH_EAST_GAP) < shown.index(WEST_MIDLANDS_GAP)

    files = slack.fake.files(COORDINATOR_CHANNEL)
    assert [f["name"] for f in files] == [f"digest-2026-11-30-{name}" for name in CHARTS]
    for file in files:
        assert png_size(file["content"]) == (WIDTH_PX, HEIGHT_PX)
        assert file["title"].endswith("Autumn term 2026")
    messages = slack.fake.messages(COORDINATOR_CHANNEL)
    [shared] = [m for m in messages if m.get("files")]
    assert messages.index(shared) > messages.index(digest)  # after the digest itself
    assert [f["name"] for f in shared["files"]] == [f["name"] for f in files]
    assert shared["text"].startswith("Charts for the weekly digest, week of 30 November 2026")
    # The digest names schools and supporters elsewhere; its figures and the charts do not.
    [figures] = [b for b in digest["blocks"] if "Supply and demand" in str(b)]
    said = str(figures) + str(shared) + "".join(f["title"] for f in files)
    assert not [word for word in PRIVATE if word in said]
    # The flow Slack documents: a URL per file, then one completion sharing them all.
    assert len(slack.fake.calls_to("files.getUploadURLExternal")) == 3
    [complete] = slack.fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == COORDINATOR_CHANNEL


def test_chart_uploads_are_owed_durably_and_retried_after_a_rate_limit(slack: SlackWorld) -> None:
    seeded(slack)
    slack.fake.fail_next("files.completeUploadExternal", status=429, retry_after=30)
    run_due(slack.runtime)
    slack.settle()
    assert slack.fake.files(COORDINATOR_CHANNEL) == []
    with slack.runtime.sessions() as session:
        [owed] = session.exec(select(OutboxMessage).where(OutboxMessage.method == FILES_UPLOAD))
    assert owed.status == "pending" and owed.last_error == "ratelimited"
    assert owed.next_attempt_at == AS_OF + timedelta(seconds=30)

    slack.clock.advance(seconds=31)
    slack.settle()
    assert len(slack.fake.files(COORDINATOR_CHANNEL)) == 3
    assert len(slack.fake.calls_to("files.completeUploadExternal")) == 2  # refused, then taken
    with slack.runtime.sessions() as session:
        sent = session.get(OutboxMessage, owed.id)
    assert sent is not None and sent.status == "sent"
    assert all("content_b64" not in f for f in sent.payload["files"])  # not kept once sent
    run_due(slack.runtime)  # the week's digest is not sent again, nor its charts
    slack.settle()
    assert len(slack.fake.files(COORDINATOR_CHANNEL)) == 3


def test_without_a_coordinator_channel_each_coordinator_gets_the_charts_by_dm(
    slack_settings_env: dict[str, str], clock: FixedClock
) -> None:
    env = {k: v for k, v in slack_settings_env.items() if k != "COORDINATOR_CHANNEL_ID"}
    with running_world(env, clock) as world:
        seeded(world)
        run_due(world.runtime)
        world.settle()
        dm = dm_channel_id("UCOORD")
        assert [f["name"] for f in world.fake.files(dm)] == [
            f"digest-2026-11-30-{name}" for name in CHARTS
        ]
        assert digest_messages(world, "UCOORD") or digest_messages(world, dm)


def test_a_term_with_no_requests_sends_the_digest_without_charts(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.clock.set(AS_OF)
    assert run_due(slack.runtime)["digests_sent"] == 1
    slack.settle()
    assert digest_messages(slack, COORDINATOR_CHANNEL)
    assert slack.fake.calls_to("files.getUploadURLExternal") == []


def test_the_coordinators_home_shows_the_headline_figures(slack: SlackWorld) -> None:
    seeded(slack)
    shown = texts(open_home(slack, "UCOORD")["blocks"])
    assert "Supply and demand — Autumn term 2026 so far" in shown
    assert "1 request found nobody; supporters at capacity: 2, with one place left: 1." in shown
    assert NORTH_EAST_GAP in shown
    head = texts(open_home(slack, "UHEAD1")["blocks"])
    assert "Supply and demand" not in head  # coordinators only
