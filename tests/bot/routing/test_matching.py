"""Ranking supporters: who is a candidate, in what order, and the reasons given.

The expected orders were worked out by hand from the rules, using the directory in
tests/fixtures/routing_directory.csv; the comments say why each person is where they are.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.routing.matching import (
    LEADERSHIP_TAGS,
    MAX_REASONS_LENGTH,
    Candidate,
    Match,
    Need,
    exclusion_reason,
    phases_match,
    rank_candidates,
    regions_match,
)
from storage.models import REGIONS

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "routing_directory.csv"
NINE_REGIONS = set(REGIONS)
TAG_LABELS = {
    "send": "SEND",
    "maths": "maths",
    "leadership": "leadership",
    "ofsted-readiness": "Ofsted readiness",
    "academy-transition": "academy transition",
    "governance": "governance",
    "school-business-management": "school business management",
    "early-years": "early years",
    "phonics": "phonics",
    "safeguarding": "safeguarding",
    "behaviour": "behaviour",
    "attendance": "attendance",
}


def _split(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(";") if part.strip())


def load_directory(path: Path = FIXTURE) -> list[Candidate]:
    """The fixture as Candidates: person ids by row (from 1), school ids by first appearance."""
    schools: dict[str, int] = {}
    people = []
    with path.open(newline="", encoding="utf-8") as handle:
        for person_id, row in enumerate(csv.DictReader(handle), start=1):
            school = row["school"].strip()
            if school and school not in schools:
                schools[school] = len(schools) + 1
            last = row["last_deployed"].strip()
            people.append(
                Candidate(
                    person_id=person_id,
                    user_id=row["slack_user_id"],
                    name=row["name"],
                    roles=_split(row["roles"]),
                    tags=_split(row["expertise"]),
                    school_id=schools.get(school),
                    phase=row["phase"] or None,
                    region=row["region"] or None,
                    capacity=int(row["capacity"] or 1),
                    active_deployments=int(row["active_deployments"] or 0),
                    last_deployed_at=(
                        datetime.fromisoformat(last).replace(tzinfo=UTC) if last else None
                    ),
                    available=row["available"].strip().lower() == "true",
                )
            )
    return people


DIRECTORY = load_directory()
BY_NAME = {person.name: person for person in DIRECTORY}


def request_from(requester: str, tags: str, *, excluded: Iterable[str] = ()) -> Need:
    """A request from the named head's school, for `;`-separated tags."""
    head = BY_NAME[requester]
    return Need(
        request_id=1,
        tags=_split(tags),
        school_id=head.school_id,
        phase=head.phase,
        region=head.region,
        excluded_person_ids=frozenset(BY_NAME[name].person_id for name in excluded),
        requester_person_id=head.person_id,
    )


def names(matches: list[Match]) -> list[str]:
    return [match.candidate.name for match in matches]


def ranked(need: Need, people: Iterable[Candidate] = DIRECTORY) -> list[Match]:
    return rank_candidates(need, people, tag_labels=TAG_LABELS)


def person(
    person_id: int,
    name: str,
    *,
    roles: str = "sle",
    tags: str = "maths",
    school_id: int | None = None,
    phase: str | None = "primary",
    region: str | None = "London",
    capacity: int = 2,
    active: int = 0,
    last: datetime | None = None,
    available: bool = True,
) -> Candidate:
    """A made-up candidate for the rule-by-rule tests."""
    return Candidate(
        person_id=person_id,
        user_id=f"U{person_id:08d}",
        name=name,
        roles=_split(roles),
        tags=_split(tags),
        school_id=school_id if school_id is not None else 1000 + person_id,
        phase=phase,
        region=region,
        capacity=capacity,
        active_deployments=active,
        last_deployed_at=last,
        available=available,
    )


def need(
    tags: str = "maths",
    *,
    phase: str | None = "primary",
    region: str | None = "London",
    school_id: int | None = 1,
    excluded: Iterable[int] = (),
    requester: int | None = None,
) -> Need:
    return Need(
        request_id=7,
        tags=_split(tags),
        school_id=school_id,
        phase=phase,
        region=region,
        excluded_person_ids=frozenset(excluded),
        requester_person_id=requester,
    )


# --- the fixture itself ---------------------------------------------------------------------


def test_the_fixture_is_a_realistic_directory() -> None:
    assert len(DIRECTORY) >= 45
    assert len({p.user_id for p in DIRECTORY}) == len(DIRECTORY)
    assert {p.region for p in DIRECTORY} == NINE_REGIONS
    roles = {role for p in DIRECTORY for role in p.roles}
    assert roles == {"nle", "sle", "specialist", "head", "coordinator"}
    assert {p.capacity for p in DIRECTORY} == {0, 1, 2, 3}
    assert {p.phase for p in DIRECTORY} >= {"primary", "secondary", "all-through", "special"}
    assert any(p.active_deployments for p in DIRECTORY)
    assert any(not p.available for p in DIRECTORY)
    assert any(p.active_deployments >= p.capacity > 0 for p in DIRECTORY)


# --- realistic requests: the top three, by hand -----------------------------------------------

REQUESTS = [
    pytest.param(
        # A West Midlands primary head wants help with SEND and maths.
        request_from("Helen Whitfield", "send;maths"),
        [
            # Covers both, a specialist (fits a specialism), same phase and region, 0 active.
            "Tomasz Nowak",
            # Same as Tomasz on every point but one: 1 of 2 deployments already active.
            "Claire Ashworth",
            # Both tags, SLE, primary, but East Midlands: same phase outranks Imran Qureshi's
            # same region (he is secondary). Rajinder Sandhu (own school), Priya Chauhan
            # (away), Sarah Booth (full) and Alison Grant (coordinator) are not candidates;
            # Gareth Pryce covers both but is an NLE, so he comes after every SLE/specialist.
            "Nadia Hussain",
        ],
        id="send-and-maths-primary-west-midlands",
    ),
    pytest.param(
        # A North West secondary head: leadership and Ofsted readiness (whole-school).
        request_from("Lorraine Pickup", "leadership;ofsted-readiness"),
        [
            # NLE covering both, secondary, North West, 1 active, last deployed November 2025.
            "Margaret Ellison",
            # Identical except last deployed January 2026, more recently than Margaret.
            "David Okafor",
            # NLE covering both, secondary, but Yorkshire: behind both North West NLEs yet
            # ahead of Stephen Hartley, who covers both in the North West but is an SLE.
            "Andrew Kerr",
        ],
        id="leadership-secondary-north-west",
    ),
    pytest.param(
        # A Yorkshire primary head: phonics and early years.
        request_from("Paul Akroyd", "phonics;early-years"),
        [
            # Both tags, specialist, primary, Yorkshire, 0 active and never deployed.
            "Amira Patel",
            # The same, but deployed before (June 2025): never deployed ranks first.
            "Joanne Lister",
            # Both tags, SLE, an all-through school (fits primary), Yorkshire, 1 active. Ahead
            # of Martin Hollis (both tags, primary, 0 active) because he is in the North West:
            # region outranks fairness. Liam Doherty and Tomasz Nowak only cover phonics.
            "Kathryn Moss",
        ],
        id="phonics-early-years-primary-yorkshire",
    ),
    pytest.param(
        # A London special school head: safeguarding.
        request_from("Yetunde Bakare", "safeguarding"),
        [
            # Specialist, special school, London; 1 active does not matter against phase/region.
            "Olusegun Adeyemi",
            # Specialist, special school, but South East.
            "Marcus Bell",
            # SLE in London, but all-through does not match special, so behind Marcus. Then
            # Oliver Faulkner (neither), then Rebecca Stone, an NLE (role does not fit);
            # Jonathan Pike is a head only.
            "Grace O'Neill",
        ],
        id="safeguarding-special-london",
    ),
    pytest.param(
        # A South West all-through head: school business management and governance.
        request_from("Nicholas Blake", "school-business-management;governance"),
        [
            # Both tags, specialist, secondary (fits all-through), South West.
            "Philip Trent",
            # Both, SLE, primary (fits all-through), but East of England.
            "Susan Armitage",
            # Both, specialist, South West, but a special school does not fit all-through.
            # Janet Cross covers both, all-through, South West, but is an NLE: governance is
            # a specialism here, not leadership, so she comes fourth.
            "Colin Webb",
        ],
        id="business-and-governance-all-through-south-west",
    ),
    pytest.param(
        # An East Midlands secondary head: behaviour, attendance and leadership (mixed: the
        # leadership tag makes it an NLE's request).
        request_from("Angela Moore", "behaviour;attendance;leadership"),
        [
            # All three, NLE, secondary, East Midlands.
            "Robert Fenwick",
            # All three, but an SLE: covering the whole need outranks role fit.
            "Kirsty Lang",
            # Two of three, NLE, secondary, East Midlands: ahead of Lucy Gray, who also covers
            # two of three in the same place but is an SLE.
            "Samuel Osei",
        ],
        id="behaviour-attendance-leadership-east-midlands",
    ),
    pytest.param(
        # A North East secondary head's maths request, second round: Ian Robson was offered
        # it first and declined. Mark Tweddle works at the requesting school.
        request_from("Alan Scott", "maths", excluded=["Ian Robson"]),
        [
            # Maths, specialist, secondary, North East, 0 active, last deployed May 2025.
            "Daniel Reay",
            # The same but last deployed February 2026, more recently.
            "Sophie Milburn",
            # The same place and role but 1 deployment active. Imran Qureshi (secondary,
            # West Midlands) comes next.
            "Emma Charlton",
        ],
        id="maths-secondary-north-east-second-round",
    ),
]


@pytest.mark.parametrize(("request_need", "expected"), REQUESTS)
def test_realistic_requests_rank_the_expected_top_three(
    request_need: Need, expected: list[str]
) -> None:
    assert names(ranked(request_need))[:3] == expected


def test_the_rest_of_the_first_request_follows_the_rules() -> None:
    order = names(ranked(request_from("Helen Whitfield", "send;maths")))
    # Then Imran (both, SLE, region only), Gareth (both, NLE); then one tag each.
    assert order[3:5] == ["Imran Qureshi", "Gareth Pryce"]
    assert set(order[5:]) == {
        "Bethany Cole",
        "Ian Robson",
        "Emma Charlton",
        "Daniel Reay",
        "Sophie Milburn",
        "Mark Tweddle",
        "Olusegun Adeyemi",
        "Marcus Bell",
    }
    # One tag each; Bethany is the only one of them in a West Midlands primary.
    assert order[5] == "Bethany Cole"


@pytest.mark.parametrize(("request_need", "expected"), REQUESTS)
def test_ranked_people_are_exactly_those_with_no_exclusion_reason(
    request_need: Need, expected: list[str]
) -> None:
    ranked_ids = {match.candidate.person_id for match in ranked(request_need)}
    eligible = {p.person_id for p in DIRECTORY if exclusion_reason(request_need, p) is None}
    assert ranked_ids == eligible
    assert len(ranked_ids) >= 3


# --- who is not a candidate, and why ----------------------------------------------------------

SEND_MATHS_WEST_MIDLANDS = request_from("Helen Whitfield", "send;maths")


@pytest.mark.parametrize(
    ("request_need", "who", "reason"),
    [
        (SEND_MATHS_WEST_MIDLANDS, "Sarah Booth", "at capacity (1 of 1 deployment)"),
        (SEND_MATHS_WEST_MIDLANDS, "Priya Chauhan", "marked away"),
        (SEND_MATHS_WEST_MIDLANDS, "Rajinder Sandhu", "from the requesting school"),
        (SEND_MATHS_WEST_MIDLANDS, "Megan Ford", "no shared expertise"),
        (SEND_MATHS_WEST_MIDLANDS, "Alison Grant", "not a supporter (coordinator)"),
        (SEND_MATHS_WEST_MIDLANDS, "Helen Whitfield", "not a supporter (head)"),
        (SEND_MATHS_WEST_MIDLANDS, "Ruth Hamilton", "not a supporter (coordinator)"),
        (request_from("Yetunde Bakare", "safeguarding"), "Jonathan Pike", "not a supporter (head)"),
        (
            request_from("Angela Moore", "english"),
            "Adaeze Nwosu",
            "at capacity (2 of 2 deployments)",
        ),
        (request_from("Lorraine Pickup", "leadership"), "Graham Tuck", "marked away"),
        (
            request_from("Alan Scott", "maths", excluded=["Ian Robson"]),
            "Ian Robson",
            "already offered or declined",
        ),
        (request_from("Alan Scott", "maths"), "Mark Tweddle", "from the requesting school"),
    ],
)
def test_exclusion_reasons_in_the_directory(request_need: Need, who: str, reason: str) -> None:
    candidate = BY_NAME[who]
    assert exclusion_reason(request_need, candidate) == reason
    assert who not in names(ranked(request_need))


def test_a_supporter_who_made_the_request_is_not_offered_it() -> None:
    # Fiona Marsh (an NLE) asks, from a school not in the directory, for leadership help.
    fiona = BY_NAME["Fiona Marsh"]
    request = Need(
        request_id=3,
        tags=frozenset({"leadership"}),
        school_id=None,
        phase="primary",
        region="North West",
        requester_person_id=fiona.person_id,
    )
    assert exclusion_reason(request, fiona) == "made the request"
    assert "Fiona Marsh" not in names(ranked(request))
    other = Need(request_id=4, tags=request.tags, school_id=None, phase=None, region=None)
    assert exclusion_reason(other, fiona) is None


def test_capacity_zero_and_full_are_excluded_and_one_spare_place_is_enough() -> None:
    maths = need()
    assert exclusion_reason(maths, person(1, "A", capacity=0)) == (
        "takes no deployments (capacity 0)"
    )
    assert exclusion_reason(maths, person(2, "B", capacity=2, active=2)) == (
        "at capacity (2 of 2 deployments)"
    )
    assert exclusion_reason(maths, person(3, "C", capacity=2, active=3)) is not None
    assert exclusion_reason(maths, person(4, "D", capacity=3, active=2)) is None


def test_each_exclusion_on_its_own() -> None:
    maths = need(school_id=50, excluded=[9], requester=8)
    assert exclusion_reason(maths, person(1, "Fine")) is None
    assert exclusion_reason(maths, person(2, "Away", available=False)) == "marked away"
    assert exclusion_reason(maths, person(3, "Same school", school_id=50)) == (
        "from the requesting school"
    )
    assert exclusion_reason(maths, person(8, "Requester")) == "made the request"
    assert exclusion_reason(maths, person(9, "Declined")) == "already offered or declined"
    assert exclusion_reason(maths, person(4, "Other", tags="science")) == "no shared expertise"
    assert exclusion_reason(maths, person(5, "Head", roles="head")) == "not a supporter (head)"
    assert exclusion_reason(maths, person(6, "Both", roles="head;coordinator")) == (
        "not a supporter (coordinator, head)"
    )
    assert exclusion_reason(maths, person(7, "NLE and head", roles="head;nle")) is None
    people = [person(i, name) for i, name in [(1, "Fine"), (8, "Requester"), (9, "Declined")]]
    assert names(ranked(maths, people)) == ["Fine"]


def test_a_request_without_a_school_excludes_nobody_for_their_school() -> None:
    assert exclusion_reason(need(school_id=None), person(1, "A", school_id=None)) is None


# --- the ranking rules, one at a time ---------------------------------------------------------


def test_fewer_active_deployments_first_then_longest_since_last_deployed() -> None:
    long_ago = datetime(2025, 1, 6, tzinfo=UTC)
    lately = datetime(2026, 3, 2, tzinfo=UTC)
    people = [
        person(1, "Busy, never deployed", active=1, capacity=3),
        person(2, "Free, deployed lately", last=lately),
        person(3, "Free, deployed long ago", last=long_ago),
        person(4, "Free, never deployed"),
    ]
    assert names(ranked(need(), people)) == [
        "Free, never deployed",
        "Free, deployed long ago",
        "Free, deployed lately",
        "Busy, never deployed",
    ]


def test_fairness_compares_instants_whatever_the_timezone() -> None:
    bst = timezone(timedelta(hours=1))
    earlier = person(1, "Zed", last=datetime(2026, 4, 1, 9, 30, tzinfo=bst))  # 08:30 UTC
    later = person(2, "Amy", last=datetime(2026, 4, 1, 9, 0, tzinfo=UTC))
    assert names(ranked(need(), [later, earlier])) == ["Zed", "Amy"]


def test_covering_all_tags_beats_same_phase_and_region_with_some() -> None:
    whole = person(1, "Covers all", tags="send;maths", phase="secondary", region="North East")
    part = person(2, "Covers maths", tags="maths", phase="primary", region="London")
    more = person(3, "Covers two of three", tags="send;maths", phase="primary", region="London")
    assert names(ranked(need("send;maths"), [part, whole])) == ["Covers all", "Covers maths"]
    three = need("send;maths;phonics")
    assert names(ranked(three, [part, more])) == ["Covers two of three", "Covers maths"]


def test_an_nle_fits_a_leadership_need_better_than_a_nearer_sle() -> None:
    sle = person(1, "Local SLE", roles="sle", tags="leadership")
    nle = person(2, "Distant NLE", roles="nle", tags="leadership", phase="secondary", region="X")
    assert names(ranked(need("leadership"), [sle, nle])) == ["Distant NLE", "Local SLE"]


def test_an_sle_or_specialist_fits_a_specialism_better_than_a_nearer_nle() -> None:
    nle = person(1, "Local NLE", roles="nle;head", tags="maths")
    sle = person(2, "Distant SLE", roles="sle", tags="maths", phase="secondary", region="X")
    specialist = person(3, "Distant specialist", roles="specialist", phase=None, region="X")
    assert names(ranked(need("maths"), [nle, sle, specialist])) == [
        "Distant SLE",
        "Distant specialist",
        "Local NLE",
    ]


def test_a_mixed_request_with_any_leadership_tag_is_an_nle_need() -> None:
    nle = person(1, "NLE", roles="nle", tags="leadership;behaviour", region="X")
    sle = person(2, "SLE", roles="sle", tags="leadership;behaviour")
    assert names(ranked(need("behaviour;leadership"), [sle, nle])) == ["NLE", "SLE"]
    # Without a leadership tag the same pair goes the other way.
    assert names(ranked(need("behaviour"), [sle, nle])) == ["SLE", "NLE"]


@pytest.mark.parametrize("tag", sorted(LEADERSHIP_TAGS))
def test_every_leadership_tag_makes_an_nle_need(tag: str) -> None:
    nle = person(1, "NLE", roles="nle", tags=tag, region="X")
    sle = person(2, "SLE", roles="sle", tags=tag)
    assert names(ranked(need(tag), [sle, nle])) == ["NLE", "SLE"]


def test_governance_is_a_specialism_not_leadership() -> None:
    assert "governance" not in LEADERSHIP_TAGS
    nle = person(1, "NLE", roles="nle", tags="governance")
    specialist = person(2, "Clerk", roles="specialist", tags="governance", region="X")
    assert names(ranked(need("governance"), [nle, specialist])) == ["Clerk", "NLE"]


def test_someone_holding_both_roles_fits_either_kind_of_need() -> None:
    both = person(1, "Both", roles="nle;sle", tags="leadership;maths", region="X")
    nle = person(2, "NLE", roles="nle", tags="leadership;maths")
    sle = person(3, "SLE", roles="sle", tags="leadership;maths")
    assert names(ranked(need("leadership"), [both, nle, sle])) == ["NLE", "Both", "SLE"]
    assert names(ranked(need("maths"), [both, nle, sle])) == ["SLE", "Both", "NLE"]


def test_same_phase_outranks_same_region() -> None:
    phase = person(1, "Same phase", region="North East")
    region = person(2, "Same region", phase="secondary")
    assert names(ranked(need(), [region, phase])) == ["Same phase", "Same region"]


@pytest.mark.parametrize(
    ("need_phase", "candidate_phase", "expected"),
    [
        ("primary", "primary", True),
        ("primary", "all-through", True),
        ("all-through", "primary", True),
        ("secondary", "all-through", True),
        ("all-through", "secondary", True),
        ("all-through", "all-through", True),
        ("special", "special", True),
        ("special", "all-through", False),
        ("all-through", "special", False),
        ("primary", "special", False),
        ("primary", "secondary", False),
        ("nursery", "primary", False),
        ("16-plus", "secondary", False),
        ("Primary ", "primary", True),
        (None, "primary", False),
        ("primary", None, False),
        (None, None, False),
    ],
)
def test_phases_match(need_phase: str | None, candidate_phase: str | None, expected: bool) -> None:
    assert phases_match(need_phase, candidate_phase) is expected


def test_regions_match_ignoring_case_and_spacing_but_not_when_unknown() -> None:
    assert regions_match("Yorkshire and the Humber", "yorkshire  and the humber")
    assert not regions_match("North East", "North West")
    assert not regions_match(None, None)


def test_name_then_person_id_break_complete_ties() -> None:
    people = [person(3, "Beth"), person(2, "amy"), person(5, "Amy"), person(1, "Amy")]
    assert [m.candidate.person_id for m in ranked(need(), people)] == [1, 2, 5, 3]


# --- determinism and the score ----------------------------------------------------------------


@pytest.mark.parametrize(("request_need", "expected"), REQUESTS)
def test_shuffled_input_gives_the_same_order(request_need: Need, expected: list[str]) -> None:
    first = ranked(request_need)
    for seed in range(5):
        people = list(DIRECTORY)
        random.Random(seed).shuffle(people)
        assert ranked(request_need, people) == first


def test_the_score_is_the_sort_key_used() -> None:
    matches = ranked(request_from("Angela Moore", "behaviour;attendance;leadership"))
    assert [m.score for m in matches] == sorted(m.score for m in matches)
    robert, kirsty, samuel = matches[:3]
    assert robert.score[:6] == (-1, -3, 0, 0, 0, 1)  # all, three, NLE, phase, region, 1 active
    assert kirsty.score[2] == 1  # an SLE on an NLE need
    assert samuel.score[:2] > kirsty.score[:2]  # two of three tags sorts after all three
    assert samuel.covered_tags == frozenset({"behaviour", "leadership"})
    assert robert.covered_tags == frozenset({"behaviour", "attendance", "leadership"})


def test_the_same_person_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="given twice"):
        ranked(need(), [person(1, "A"), person(1, "A")])


def test_nobody_to_rank_gives_an_empty_list() -> None:
    assert ranked(need(), []) == []
    assert ranked(need(tags=""), [person(1, "A")]) == []


# --- reasons --------------------------------------------------------------------------------


def _reasons_for(request_need: Need, who: str, labels: Mapping[str, str] | None = None) -> str:
    if labels is None:
        matches = rank_candidates(request_need, DIRECTORY)
    else:
        matches = rank_candidates(request_need, DIRECTORY, tag_labels=labels)
    return next(m.reasons for m in matches if m.candidate.name == who)


def test_reasons_say_what_is_covered_role_phase_region_load_and_last_deployment() -> None:
    assert _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Tomasz Nowak", TAG_LABELS) == (
        "maths and SEND (all needs); specialist for a specialism; same phase (primary); "
        "same region (West Midlands); 0 of 1 deployment active; never deployed"
    )


def test_reasons_name_a_role_that_does_not_fit_and_a_partial_cover() -> None:
    assert _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Gareth Pryce", TAG_LABELS) == (
        "maths and SEND (all needs); NLE, not an SLE or specialist; same phase (primary); "
        "same region (West Midlands); 0 of 1 deployment active; never deployed"
    )
    assert _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Bethany Cole", TAG_LABELS) == (
        "maths (1 of 2 needs); SLE for a specialism; same phase (primary); "
        "same region (West Midlands); 0 of 3 deployments active; last deployed September 2025"
    )


def test_reasons_leave_out_phase_and_region_that_do_not_match() -> None:
    assert _reasons_for(request_from("Yetunde Bakare", "safeguarding"), "Oliver Faulkner") == (
        "safeguarding; specialist for a specialism; 0 of 2 deployments active; "
        "last deployed October 2025"
    )


def test_reasons_say_when_a_phase_fits_without_being_the_same() -> None:
    all_through = person(1, "A", phase="all-through")
    [match] = rank_candidates(need(), [all_through])
    assert match.reasons == (
        "maths; SLE for a specialism; phase fits (all-through); same region (London); "
        "0 of 2 deployments active; never deployed"
    )


def test_reasons_shorten_step_by_step_until_they_fit() -> None:
    # In full 179 characters; without the phase and region wording 152; with the last
    # deployment shortened too, 138, which fits.
    reasons = _reasons_for(request_from("Paul Akroyd", "phonics;early-years"), "Kathryn Moss")
    assert reasons == (
        "early-years and phonics (all needs); SLE for a specialism; all-through; "
        "Yorkshire and the Humber; 1 of 2 deployments active; last Feb 2026"
    )


def test_long_reasons_shorten_phase_and_region_first() -> None:
    # In full this would be 152 characters, so phase and region lose their wording.
    assert _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Claire Ashworth", TAG_LABELS) == (
        "maths and SEND (all needs); SLE for a specialism; primary; West Midlands; "
        "1 of 2 deployments active; last deployed March 2026"
    )


def test_reasons_fall_back_to_the_slug_without_a_label() -> None:
    reasons = _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Tomasz Nowak")
    assert reasons.startswith("maths and send (all needs); ")
    labelled = _reasons_for(SEND_MATHS_WEST_MIDLANDS, "Tomasz Nowak", {"send": "SEND"})
    assert labelled.startswith("maths and SEND (all needs); ")


@pytest.mark.parametrize(("request_need", "expected"), REQUESTS)
def test_reasons_are_short_enough_for_every_match(request_need: Need, expected: list[str]) -> None:
    for match in ranked(request_need):
        assert 0 < len(match.reasons) <= MAX_REASONS_LENGTH, match.reasons


def test_very_long_labels_list_fewer_tags_rather_than_overflow() -> None:
    tags = "a;b;c;d;e"
    labels = {slug: f"a rather long label for area {slug.upper()}" for slug in tags.split(";")}
    someone = person(
        1, "A", tags=tags, region="Yorkshire and the Humber", last=datetime(2025, 9, 1, tzinfo=UTC)
    )
    request = need(tags, region="Yorkshire and the Humber")
    [match] = rank_candidates(request, [someone], tag_labels=labels)
    assert len(match.reasons) <= MAX_REASONS_LENGTH
    assert match.reasons.startswith("a rather long label for area A")
    assert (
        "more (all needs); SLE; primary; Yorkshire and the Humber; 0/2 active; last Sep 2025"
        in (match.reasons)
    )
