"""The hub's matching rules: conflicts of interest (same trust), availability dates, and
phase and region when required; the SQL ranking keeps them exactly as the Python twin does."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from bench.directory import generate_directory, random_need
from bot.routing.matching import (
    NO_RULES,
    MatchRules,
    exclusion_reason,
    rank_candidates,
    rule_exclusion_reason,
    trusts_match,
)
from bot.routing.ranking_sql import rank_in_sql
from bot.routing.service import load_candidates
from storage.db import SessionFactory, transaction
from storage.models import Person, School
from tests.bot.routing.test_matching import need
from tests.bot.routing.test_matching import person as candidate

TODAY = date(2026, 11, 23)
STRICT = MatchRules(exclude_same_trust=True, require_phase=True, require_region=True)


def test_a_supporter_in_the_requesting_schools_trust_is_a_conflict_of_interest() -> None:
    asking = replace(need(), trust="Arden Learning Trust")
    same = replace(candidate(1, "Ann"), trust="arden  learning trust")
    other = replace(candidate(2, "Bo"), trust="Oak Trust")
    unaffiliated = candidate(3, "Cy")
    assert exclusion_reason(asking, same) == (
        "in the requesting school's trust (a conflict of interest)"
    )
    assert exclusion_reason(asking, other) is None
    assert exclusion_reason(asking, unaffiliated) is None
    allowed = replace(asking, rules=NO_RULES)
    assert exclusion_reason(allowed, same) is None
    assert not trusts_match(None, None) and not trusts_match("A", None)


def test_a_supporter_is_not_offered_anything_before_their_available_from_date() -> None:
    asking = replace(need(), today=TODAY)
    later = replace(candidate(1, "Ann"), available_from=TODAY + timedelta(days=1))
    from_today = replace(candidate(2, "Bo"), available_from=TODAY)
    assert exclusion_reason(asking, later) == "not available yet"
    assert exclusion_reason(asking, from_today) is None
    assert exclusion_reason(replace(asking, today=None), later) is None
    assert [m.candidate.name for m in rank_candidates(asking, [later, from_today])] == ["Bo"]


def test_phase_and_region_only_rank_unless_the_hub_requires_them() -> None:
    asking = need(phase="primary", region="London")
    secondary = candidate(1, "Ann", phase="secondary")
    all_through = candidate(2, "Bo", phase="all-through")
    elsewhere = candidate(3, "Cy", region="North East")
    unknown = candidate(4, "Di", phase=None, region=None)
    everyone = [secondary, all_through, elsewhere, unknown]
    assert len(rank_candidates(asking, everyone)) == 4

    phase_only = replace(asking, rules=MatchRules(require_phase=True))
    assert exclusion_reason(phase_only, secondary) == "from another phase (PHASE_MATCH=require)"
    assert [m.candidate.name for m in rank_candidates(phase_only, everyone)] == ["Bo", "Cy"]

    region_only = replace(asking, rules=MatchRules(require_region=True))
    assert exclusion_reason(region_only, elsewhere) == "from another region (REGION_MATCH=require)"
    assert [m.candidate.name for m in rank_candidates(region_only, everyone)] == ["Bo", "Ann"]


def test_a_request_whose_phase_or_region_is_unknown_is_not_filtered_by_them() -> None:
    asking = replace(need(phase=None, region=None), rules=STRICT)
    assert len(rank_candidates(asking, [candidate(1, "Ann"), candidate(2, "Bo")])) == 2


# --- the SQL twin -----------------------------------------------------------------------------
TRUSTS = ["Arden Learning Trust", "arden  learning trust", "Oak MAT", "OAK MAT", None, None]


def _spread_trusts_and_dates(session: object, rng: random.Random, people: int) -> None:
    """Give the generated schools trusts and the people availability dates, untidily."""
    schools = max(people // 10, 3)
    for school_id in range(1, schools + 1):
        session.execute(  # type: ignore[attr-defined]  # a Session
            update(School).where(School.id == school_id).values(trust=rng.choice(TRUSTS))
        )
    for person_id in range(1, people + 1):
        offset = rng.choice([None, None, -30, 0, 1, 60])
        when = None if offset is None else TODAY + timedelta(days=offset)
        session.execute(  # type: ignore[attr-defined]  # a Session
            update(Person).where(Person.id == person_id).values(available_from=when)
        )


@pytest.mark.parametrize("rules", [MatchRules(), NO_RULES, STRICT, MatchRules(require_phase=True)])
def test_sql_ranking_keeps_the_rules_exactly_as_the_python_twin(
    sessions: SessionFactory, rules: MatchRules
) -> None:
    rng = random.Random(17)
    with transaction(sessions) as session:
        slugs = generate_directory(session, 400)
        _spread_trusts_and_dates(session, rng, 400)
    with transaction(sessions) as session:
        everyone = load_candidates(session)
        compared = left_out = 0
        for _ in range(30):
            asked = random_need(rng, slugs, 400)
            asked = replace(asked, trust=rng.choice(TRUSTS), today=TODAY, rules=rules)
            expected = rank_candidates(asked, everyone)
            got = rank_in_sql(session, asked, tag_labels={})
            assert [(m.candidate, m.score) for m in got] == [
                (m.candidate, m.score) for m in expected
            ]
            compared += len(expected)
            left_out += sum(
                rule_exclusion_reason(asked, m.candidate) is not None
                for m in rank_candidates(replace(asked, rules=NO_RULES, today=None), everyone)
            )
        assert compared > 20 and left_out > 5  # the rules really left people out
