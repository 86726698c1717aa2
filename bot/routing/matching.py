"""The ranking core of routing: which supporters fit a request, in what order, and why.

Pure and deterministic: plain `Candidate`s and a `Need` in, ordered `Match`es out. No
database, no Slack, no clock; the routing service builds the inputs and stores the results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from types import MappingProxyType

from bot.core.clock import as_utc
from storage.models import SUPPORTER_ROLES as _SUPPORTER_ROLES

SUPPORTER_ROLES: frozenset[str] = frozenset(_SUPPORTER_ROLES)

# Whole-school needs, which an NLE (a head who supports other schools) fits best. Governance
# is deliberately not here: governing boards are supported by National Leaders of Governance
# (experienced chairs and clerks), recorded in the directory as specialists, so a governance
# need is treated as a specialism like SEND or school business management.
LEADERSHIP_TAGS: frozenset[str] = frozenset(
    {"leadership", "ofsted-readiness", "academy-transition"}
)

# Reasons longer than this are reworded more briefly (see `_reasons`).
MAX_REASONS_LENGTH = 150

_NO_LABELS: Mapping[str, str] = MappingProxyType({})
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Candidate:
    """A person who might be offered a request, with what routing needs to know about them."""

    person_id: int
    user_id: str  # their Slack user id, else their Teams user id (bot.reach.people)
    name: str
    roles: frozenset[str]  # subset of {"nle", "sle", "specialist", "coordinator", "head"}
    tags: frozenset[str]  # expertise tag slugs
    school_id: int | None
    phase: str | None  # the candidate's school phase
    region: str | None
    capacity: int  # most deployments at once
    active_deployments: int
    last_deployed_at: datetime | None  # most recent deployment start, aware UTC
    available: bool = True  # False when marked away
    address: str = ""  # where their offer goes (bot.reach.people.direct_address); "": user_id
    trust: str | None = None  # the multi-academy trust of the candidate's school
    available_from: date | None = None  # not offered anything before this local date
    # The name casefolded as the database sorts it (storage.folding.casefold_order), for the
    # ranking to order ties as the SQL did; None: `str.casefold()`, the same on SQLite.
    name_order: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class MatchRules:
    """The hub's rules on who may be offered a request (EXCLUDE_SAME_TRUST, PHASE_MATCH,
    REGION_MATCH): with `require_*` off, phase and region only rank a match higher."""

    exclude_same_trust: bool = True
    require_phase: bool = False
    require_region: bool = False


NO_RULES = MatchRules(exclude_same_trust=False)


@dataclass(frozen=True)
class Need:
    """What a request asks for, and who must not be offered it."""

    request_id: int
    tags: frozenset[str]
    school_id: int | None  # the requesting school (its own staff are excluded)
    phase: str | None
    region: str | None
    excluded_person_ids: frozenset[int] = frozenset()  # already asked, or supported it
    requester_person_id: int | None = None
    trust: str | None = None  # the requesting school's multi-academy trust
    today: date | None = None  # the local date, for `Candidate.available_from`
    rules: MatchRules = MatchRules()


@dataclass(frozen=True)
class Match:
    """One ranked candidate: the sort key used, the request tags covered and why, in words.

    `score` is ascending (the best match has the smallest score):
    `(-share of the request's tags covered (a Fraction, so -1 means all), -tags covered,
    0 if the role fits else 1, 0 if the phase fits else 1, 0 if same region else 1,
    active deployments, last deployment start as a POSIX timestamp (-inf if never),
    name casefolded (as the database sorts it: `Candidate.name_order`), person_id)`.
    """

    candidate: Candidate
    score: tuple
    covered_tags: frozenset[str]
    reasons: str


def needs_leadership(tags: Iterable[str]) -> bool:
    """Whether a request is a whole-school leadership need (any tag in `LEADERSHIP_TAGS`)."""
    return not LEADERSHIP_TAGS.isdisjoint(tags)


def fitting_roles(need: Need) -> frozenset[str]:
    """The supporter roles that fit a need: an NLE for leadership, else an SLE or specialist."""
    return frozenset({"nle"}) if needs_leadership(need.tags) else frozenset({"sle", "specialist"})


def phases_match(need_phase: str | None, candidate_phase: str | None) -> bool:
    """Whether two phases match: all-through fits primary and secondary; special only special."""
    if not need_phase or not candidate_phase:
        return False
    a, b = need_phase.strip().casefold(), candidate_phase.strip().casefold()
    if a == b:
        return True
    return {a, b} in ({"all-through", "primary"}, {"all-through", "secondary"})


def regions_match(need_region: str | None, candidate_region: str | None) -> bool:
    """Whether two regions are the same, ignoring case and spacing."""
    if not need_region or not candidate_region:
        return False
    return _normalise(need_region) == _normalise(candidate_region)


def trusts_match(need_trust: str | None, candidate_trust: str | None) -> bool:
    """Whether two schools are in the same trust, ignoring case and spacing."""
    if not need_trust or not candidate_trust:
        return False
    return _normalise(need_trust) == _normalise(candidate_trust)


def exclusion_reason(need: Need, candidate: Candidate) -> str | None:
    """Why `candidate` cannot be offered `need` (the first reason that applies), or None."""
    if candidate.roles.isdisjoint(SUPPORTER_ROLES):
        held = ", ".join(sorted(candidate.roles)) or "no role"
        return f"not a supporter ({held})"
    if need.requester_person_id is not None and candidate.person_id == need.requester_person_id:
        return "made the request"
    if need.school_id is not None and candidate.school_id == need.school_id:
        return "from the requesting school"
    if candidate.person_id in need.excluded_person_ids:
        return "already offered or declined"
    if candidate.tags.isdisjoint(need.tags):
        return "no shared expertise"
    if not candidate.available:
        return "marked away"
    if candidate.capacity <= 0:
        return "takes no deployments (capacity 0)"
    if candidate.active_deployments >= candidate.capacity:
        return f"at capacity ({_load(candidate)})"
    return rule_exclusion_reason(need, candidate)


def rule_exclusion_reason(need: Need, candidate: Candidate) -> str | None:
    """Why the hub's rules (`Need.rules`) or the supporter's availability date keep an
    otherwise suitable `candidate` from `need`, in words for coordinators; or None."""
    return rules_objection(
        need,
        trust=candidate.trust,
        available_from=candidate.available_from,
        phase=candidate.phase,
        region=candidate.region,
    )


def rules_objection(
    need: Need,
    *,
    trust: str | None,
    available_from: date | None,
    phase: str | None,
    region: str | None,
) -> str | None:
    """Why the hub's rules or an availability date keep a supporter (from a school in `trust`,
    `phase` and `region`) from `need`, in words for coordinators; or None."""
    if need.rules.exclude_same_trust and trusts_match(need.trust, trust):
        return "in the requesting school's trust (a conflict of interest)"
    if need.today and available_from and available_from > need.today:
        return "not available yet"
    if need.rules.require_phase and need.phase and not phases_match(need.phase, phase):
        return "from another phase (PHASE_MATCH=require)"
    if need.rules.require_region and need.region and not regions_match(need.region, region):
        return "from another region (REGION_MATCH=require)"
    return None


def rank_candidates(
    need: Need, candidates: Iterable[Candidate], *, tag_labels: Mapping[str, str] = _NO_LABELS
) -> list[Match]:
    """Everyone who may be offered `need`, best first, each with the key and reasons used.

    Ranking is lexicographic (see `Match.score`): need covered, role fit, phase, region,
    fewest active deployments, longest since last deployed, then name and person id.
    """
    seen: set[int] = set()
    matches: list[Match] = []
    for candidate in candidates:
        if candidate.person_id in seen:
            raise ValueError(f"candidate {candidate.person_id} given twice")
        seen.add(candidate.person_id)
        if exclusion_reason(need, candidate) is None:
            matches.append(_match(need, candidate, tag_labels))
    matches.sort(key=lambda match: match.score)
    return matches


def _match(need: Need, candidate: Candidate, tag_labels: Mapping[str, str]) -> Match:
    covered = need.tags & candidate.tags
    role_fit = not candidate.roles.isdisjoint(fitting_roles(need))
    phase_fit = phases_match(need.phase, candidate.phase)
    region_fit = regions_match(need.region, candidate.region)
    last = candidate.last_deployed_at
    score = (
        -Fraction(len(covered), len(need.tags)),
        -len(covered),
        0 if role_fit else 1,
        0 if phase_fit else 1,
        0 if region_fit else 1,
        candidate.active_deployments,
        float("-inf") if last is None else as_utc(last).timestamp(),
        candidate.name.casefold() if candidate.name_order is None else candidate.name_order,
        candidate.person_id,
    )
    reasons = _reasons(need, candidate, covered, role_fit, phase_fit, region_fit, tag_labels)
    return Match(candidate=candidate, score=score, covered_tags=covered, reasons=reasons)


def _reasons(
    need: Need,
    candidate: Candidate,
    covered: frozenset[str],
    role_fit: bool,
    phase_fit: bool,
    region_fit: bool,
    tag_labels: Mapping[str, str],
) -> str:
    """Say why in words; each part has shorter wordings used in turn until the text fits."""
    coverage = _coverage_wordings(need, covered, tag_labels)
    phase: list[str] = []
    if phase_fit:
        same = _normalise(need.phase or "") == _normalise(candidate.phase or "")
        phase = [
            f"{'same phase' if same else 'phase fits'} ({candidate.phase})",
            f"{candidate.phase}",
        ]
    region = [f"same region ({candidate.region})", f"{candidate.region}"] if region_fit else []
    load = [
        f"{_load(candidate)} active",
        f"{candidate.active_deployments}/{candidate.capacity} active",
    ]
    fit = _fit_wordings(need, candidate, role_fit)
    parts = [coverage, fit, phase, region, load, _recency_wordings(candidate)]
    return _shortest_that_fits(parts, len(coverage))


def _coverage_wordings(
    need: Need, covered: frozenset[str], tag_labels: Mapping[str, str]
) -> list[str]:
    """The needs covered, then wordings naming fewer of them."""
    labels = sorted((tag_labels.get(slug) or slug for slug in covered), key=str.casefold)
    if len(need.tags) == 1:
        share = ""
    elif covered == need.tags:
        share = " (all needs)"
    else:
        share = f" ({len(covered)} of {len(need.tags)} needs)"
    coverage = [_join(labels) + share]
    return coverage + [_some(labels, shown) + share for shown in range(len(labels) - 1, 0, -1)]


def _fit_wordings(need: Need, candidate: Candidate, role_fit: bool) -> list[str]:
    """How the supporter's role fits the need, long then short."""
    leadership = needs_leadership(need.tags)
    role = _role_name(candidate, leadership)
    if role_fit:
        return [f"{role} for {'leadership' if leadership else 'a specialism'}", role]
    if leadership:
        return [f"{role}, not an NLE"]
    return [f"{role}, not an SLE or specialist", f"{role}, not an SLE"]


def _recency_wordings(candidate: Candidate) -> list[str]:
    """When they were last deployed, long then short."""
    last = candidate.last_deployed_at
    if last is None:
        return ["never deployed"]
    when = as_utc(last)
    month = _MONTHS[when.month - 1]
    return [f"last deployed {month} {when.year}", f"last {month[:3]} {when.year}"]


def _shortest_that_fits(parts: list[list[str]], coverage_wordings: int) -> str:
    """The parts in reading order, shortened until they fit: phase and region first, then
    the last deployment, then the load, then the role, and only then fewer tags."""
    steps = [(2, 3), (5,), (4,), (1,)] + [(0,)] * (coverage_wordings - 1)
    levels = [0] * len(parts)
    text = _render(parts, levels)
    for step in steps:
        if len(text) <= MAX_REASONS_LENGTH:
            return text
        for index in step:
            levels[index] = min(levels[index] + 1, len(parts[index]) - 1)
        text = _render(parts, levels)
    if len(text) <= MAX_REASONS_LENGTH:
        return text
    return text[: MAX_REASONS_LENGTH - 1] + "…"


def _render(parts: list[list[str]], levels: list[int]) -> str:
    return "; ".join(alts[level] for alts, level in zip(parts, levels, strict=True) if alts)


def _role_name(candidate: Candidate, leadership: bool) -> str:
    """The supporter role to name: the one that fits the need if held, else the first held."""
    preference = ("nle", "sle", "specialist") if leadership else ("sle", "specialist", "nle")
    for role in preference:
        if role in candidate.roles:
            return "specialist" if role == "specialist" else role.upper()
    return "supporter"


def _load(candidate: Candidate) -> str:
    noun = "deployment" if candidate.capacity == 1 else "deployments"
    return f"{candidate.active_deployments} of {candidate.capacity} {noun}"


def _join(labels: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def _some(labels: list[str], shown: int) -> str:
    return ", ".join(labels[:shown]) + f" +{len(labels) - shown} more"


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()
