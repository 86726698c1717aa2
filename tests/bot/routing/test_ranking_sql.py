"""Ranking in SQL gives exactly the in-memory ranking, and scales past PostgreSQL's limits."""

from __future__ import annotations

import io
import random

import pytest

from bench.directory import generate_directory, random_need
from bot.core.clock import FixedClock
from bot.directory.service import import_directory
from bot.routing import ranking_sql
from bot.routing.matching import Need, rank_candidates
from bot.routing.ranking_sql import rank_in_sql
from bot.routing.service import load_candidates
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from tests.conftest import truncate_everything
from tests.support.sql_trace import statements_sent

LABELS = {"send": "SEND", "maths": "Maths"}


def _shape(matches: list) -> list[tuple]:
    return [(m.candidate, m.score, m.covered_tags, m.reasons) for m in matches]


def test_sql_ranking_equals_the_in_memory_ranking(sessions: SessionFactory) -> None:
    rng = random.Random(11)
    with transaction(sessions) as session:
        slugs = generate_directory(session, 600)
    with transaction(sessions) as session:
        everyone = load_candidates(session)
        compared = 0
        for _ in range(40):
            need = random_need(rng, slugs, 600)
            expected = rank_candidates(need, everyone, tag_labels=LABELS)
            assert _shape(rank_in_sql(session, need, tag_labels=LABELS)) == _shape(expected)
            top = rank_in_sql(session, need, limit=3, tag_labels=LABELS)
            assert _shape(top) == _shape(expected[:3])
            compared += len(expected)
        assert compared > 1000  # the needs really matched people, not empty lists


def test_one_person_is_ranked_alone_or_not_at_all(sessions: SessionFactory) -> None:
    rng = random.Random(3)
    with transaction(sessions) as session:
        slugs = generate_directory(session, 200)
    with transaction(sessions) as session:
        ranked: list = []
        while len(ranked) < 3:  # a need that several people fit
            need = random_need(rng, slugs, 200)
            ranked = rank_in_sql(session, need, tag_labels=LABELS)
        middle = ranked[len(ranked) // 2]
        fits, unfit = middle.candidate.person_id, need.requester_person_id
        [alone] = rank_in_sql(session, need, tag_labels=LABELS, only_person_id=fits)
        assert _shape([alone]) == _shape([middle])
        assert rank_in_sql(session, need, tag_labels=LABELS, only_person_id=unfit) == []


def test_a_ranking_is_three_statements_built_once_per_shape(sessions: SessionFactory) -> None:
    rng = random.Random(8)
    with transaction(sessions) as session:
        slugs = generate_directory(session, 100)
    ranking_sql._ranked_query.cache_clear()
    with transaction(sessions) as session, statements_sent(session.get_bind()) as sent:
        for _ in range(4):  # needs of one shape: tags, school, requester, exclusions
            rank_in_sql(session, random_need(rng, slugs, 100), limit=3, tag_labels=LABELS)
    statements = [statement for statement, _ in sent]
    # The spellings in use, the ranking, the winners' roles and tags: one round trip each.
    assert len(statements) == 4 * 3, statements
    cache = ranking_sql._ranked_query.cache_info()
    assert (cache.misses, cache.hits) == (1, 3)


@pytest.mark.slow
def test_more_supporters_than_postgresql_allows_parameters(postgres_url: str) -> None:
    """70,000 supporters: an IN-list of every supporter once failed on PostgreSQL (the
    65,535-parameter limit is PostgreSQL's; SQLite is covered above)."""
    engine = make_engine(postgres_url)
    sessions = make_session_factory(engine)
    try:
        _rank_among_70_000(sessions)
    finally:
        truncate_everything(engine)
        engine.dispose()


def _rank_among_70_000(sessions: SessionFactory) -> None:
    rng = random.Random(5)
    with transaction(sessions) as session:
        slugs = generate_directory(session, 70_000)
    with transaction(sessions) as session:
        need = random_need(rng, slugs, 70_000)
        top = rank_in_sql(session, need, limit=3, tag_labels=LABELS)
        assert len(top) == 3
        assert [m.score for m in top] == sorted(m.score for m in top)


def test_people_alike_but_for_their_names_rank_in_one_order_limited_or_not(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Names PostgreSQL folds otherwise than `str.casefold()` ("ﬁ" spelled as one letter):
    the database's top few are the first few of the whole ranking, in its order."""
    names = ["Soﬁa Ames", "Sofib Bell", "SOFIC COLE", "Raǰ Dunn", "Rajb Eyre", "Ἀϐρα Ford"]
    rows = "".join(
        f"U01FOLD{n},{name},sle,Other School,primary,London,maths\n" for n, name in enumerate(names)
    )
    header = "slack_user_id,name,roles,school,phase,region,expertise\n"
    assert import_directory(sessions, io.StringIO(header + rows), now=clock.now()).ok
    need = Need(request_id=0, tags=frozenset({"maths"}), school_id=None, phase=None, region=None)
    with sessions() as session:
        everyone = [m.candidate.name for m in rank_in_sql(session, need, tag_labels=LABELS)]
        assert sorted(everyone) == sorted(names)
        for limit in range(1, len(names)):
            top = rank_in_sql(session, need, limit=limit, tag_labels=LABELS)
            assert [m.candidate.name for m in top] == everyone[:limit], limit
