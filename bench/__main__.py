"""`python -m bench` (or `make bench`): how the hot paths compare with plain baselines.

Machines here are shared and noisy, so nothing is judged in seconds: each benchmark times
the real code and a simple baseline of the same size in the same run, best of several
repeats, and prints the ratio. Watch the ratios between commits, not the times.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from bot.core.clock import FixedClock
from bot.core.vocabulary import default_vocabulary
from bot.entry.runtime import prepare_database
from bot.outbox.owing import owe_post
from bot.requests.tagging import infer_tags
from bot.routing.matching import Candidate, Need, rank_candidates
from handlers.slack.sender import Deliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import make_engine, make_session_factory, transaction

REPEATS = 5


def best_of(work: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def report(name: str, real: float, baseline: float, what: str) -> None:
    print(f"{name:<28} {real / baseline:8.1f}×  ({what})")


def bench_ranking() -> None:
    vocabulary = default_vocabulary()
    slugs = list(vocabulary.slugs)
    rng = random.Random(7)
    now = datetime(2026, 11, 23, tzinfo=UTC)
    candidates = [
        Candidate(
            person_id=n,
            slack_user_id=f"U{n:05d}",
            name=f"Person {n}",
            roles=frozenset({rng.choice(["nle", "sle", "specialist"])}),
            tags=frozenset(rng.sample(slugs, 3)),
            school_id=n,
            phase=rng.choice(["primary", "secondary"]),
            region=rng.choice(["London", "West Midlands", "North East"]),
            capacity=2,
            active_deployments=rng.randint(0, 1),
            last_deployed_at=now - timedelta(days=rng.randint(1, 400)),
        )
        for n in range(2000)
    ]
    need = Need(
        request_id=1, tags=frozenset(slugs[:3]), school_id=-1, phase="primary", region="London"
    )
    labels = {tag.slug: tag.label for tag in vocabulary.tags}
    real = best_of(lambda: rank_candidates(need, candidates, tag_labels=labels))
    keys = [(c.active_deployments, c.name, c.person_id) for c in candidates]
    baseline = best_of(lambda: sorted(keys))
    report("rank 2,000 candidates", real, baseline, "vs sorting 2,000 tuples")


def bench_tagging() -> None:
    vocabulary = default_vocabulary()
    texts = [
        "Our SENCO is off and EHCP reviews are due; KS2 maths is also a worry.",
        "Attendance is 89% and PA is rising. Ofsted in the autumn. Help with behaviour please.",
        "New head of maths, struggling with curriculum sequencing and assessment data.",
    ] * 100
    real = best_of(lambda: [infer_tags(text, vocabulary) for text in texts])
    word = re.compile(r"\w+")
    baseline = best_of(lambda: [word.findall(text.lower()) for text in texts])
    report("infer tags, 300 requests", real, baseline, "vs splitting them into words")


def bench_outbox() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    with FakeSlack(clock=clock) as fake, tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        prepare_database(engine)
        sessions = make_session_factory(engine)
        client = WebClient(token="xoxb-bench", base_url=fake.url, retry_handlers=[])
        deliverer = Deliverer(sessions, client, clock)
        count = 100

        def through_outbox() -> None:
            with transaction(sessions) as session:
                for n in range(count):
                    owe_post(session, now=clock.now(), channel="C0BENCH", text=f"message {n}")
            deliverer.drain()

        def direct() -> None:
            for n in range(count):
                client.chat_postMessage(channel="C0BENCH", text=f"message {n}")

        real = best_of(through_outbox, repeats=3)
        baseline = best_of(direct, repeats=3)
        engine.dispose()
    report("deliver 100 via the outbox", real, baseline, "vs 100 direct chat.postMessage calls")


def bench_slack_burst() -> None:
    from bench.slack_burst import report_burst

    for line in report_burst():
        print(line)


def main() -> None:
    """Run every benchmark and print its ratio."""
    print("benchmark                       ratio   (baseline measured in this run)")
    bench_ranking()
    bench_tagging()
    bench_outbox()
    bench_slack_burst()


if __name__ == "__main__":
    main()
