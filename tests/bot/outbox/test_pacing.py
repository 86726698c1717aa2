"""Pacing: token buckets per key and pauses after a 429, on a fake clock (no real waiting)."""

from __future__ import annotations

import pytest

from bot.outbox.pacing import Limit, Pacer, TooLongAWait


class FakeTime:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def pacer(fake_time: FakeTime) -> Pacer:
    return Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)


def test_sends_go_at_the_steady_rate(pacer: Pacer, fake_time: FakeTime) -> None:
    limit = Limit("slack:chat.postMessage", per_second=2)
    waits = [pacer.acquire([limit]) for _ in range(5)]
    assert waits == [0, 0.5, 0.5, 0.5, 0.5]
    assert fake_time.now == pytest.approx(102.0)


def test_a_burst_goes_at_once_after_a_quiet_spell(pacer: Pacer, fake_time: FakeTime) -> None:
    limit = Limit("slack:channel:C1", per_second=1, burst=3)
    assert [pacer.acquire([limit]) for _ in range(4)] == [0, 0, 0, 1.0]
    fake_time.now += 10  # quiet: the bucket refills, but never beyond the burst
    assert [pacer.acquire([limit]) for _ in range(4)] == [0, 0, 0, 1.0]


def test_the_strictest_limit_decides_and_other_keys_are_free(pacer: Pacer) -> None:
    workspace = Limit("slack:chat.postMessage", per_second=10)
    channel = Limit("slack:channel:C1", per_second=1)
    other = Limit("slack:channel:C2", per_second=1)
    assert pacer.acquire([workspace, channel]) == 0
    assert pacer.acquire([workspace, channel]) == pytest.approx(1.0)
    # C2's first post waits for the workspace's pace (a tenth of a second), not C1's second.
    assert pacer.acquire([workspace, other]) == pytest.approx(0.1)


def test_a_pause_holds_every_send_under_its_keys(pacer: Pacer, fake_time: FakeTime) -> None:
    method = Limit("slack:chat.update", per_second=100)
    unrelated = Limit("slack:chat.postEphemeral", per_second=100)
    pacer.pause([method.key], 30)
    assert pacer.acquire([unrelated]) == 0
    assert pacer.acquire([method]) == pytest.approx(30)
    assert pacer.acquire([method]) == pytest.approx(0.01)  # then the steady rate again


def test_a_pause_begun_while_waiting_is_honoured(fake_time: FakeTime) -> None:
    limit = Limit("slack:chat.postMessage", per_second=1)

    def sleep(seconds: float) -> None:
        fake_time.sleep(seconds)
        if len(fake_time.slept) == 1:  # another worker got a 429 meanwhile
            pacer.pause([limit.key], 5)

    pacer = Pacer(monotonic=fake_time.monotonic, sleep=sleep)
    pacer.acquire([limit])
    start = fake_time.now
    pacer.acquire([limit])
    assert fake_time.now - start == pytest.approx(6.0)


def test_too_long_a_wait_is_refused_without_counting(pacer: Pacer) -> None:
    limit = Limit("slack:chat.postMessage", per_second=1)
    pacer.pause([limit.key], 60)
    with pytest.raises(TooLongAWait) as refused:
        pacer.acquire([limit], max_wait=20)
    assert refused.value.seconds == pytest.approx(60)
    assert pacer.acquire([limit], max_wait=120) == pytest.approx(60)
