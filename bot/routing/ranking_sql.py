# SQLModel types table attributes as Python values, which Core `select()`, `and_()` and
# `or_()` overloads reject; the expressions are SQLAlchemy columns at run time.
# mypy: disable-error-code="call-overload, list-item, arg-type"
"""Ranking in the database: filter and order supporters in SQL, load only the top few.

The order is `bot.routing.matching`'s (see `Match.score`), written as SQL so a directory
of 100,000 supporters costs one indexed query rather than loading everyone as objects. The
rows that come back are re-ranked by `rank_candidates`, which words the reasons and applies
the exact Python sort key to them. No IN-list grows with the directory (PostgreSQL allows at
most 65,535 parameters in one statement): the only lists are the request's tags, the phase,
region and trust spellings that match, and the people already offered this request. The
hub's rules (`Need.rules`) are filters of their own, in `_allowed_by_rules`.

The statement is built once per shape (`_Shape`: which filters a need switches on; each
database compiles it its own way) and reused with the need's values bound as parameters, so
a call costs three round trips (the spellings in use, the ranking, the winners' roles and
tags) rather than SQLAlchemy building a statement of a hundred clauses each time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot.routing.matching import (
    SUPPORTER_ROLES,
    Candidate,
    Match,
    Need,
    fitting_roles,
    phases_match,
    rank_candidates,
    regions_match,
    trusts_match,
)
from storage.folding import casefold_order
from storage.models import (
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    MemberRole,
    Person,
    PersonExpertise,
    PersonRole,
    Platform,
    School,
)

# Ids per IN-list when everyone is ranked: far below PostgreSQL's 65,535 parameters.
_CHUNK = 5_000


def _direct_address() -> ColumnElement[str]:
    """`bot.reach.people.direct_address` in SQL: where a candidate's offer goes."""
    prefers_teams = and_(
        col(Person.preferred_platform) == Platform.TEAMS, col(Person.teams_user_id).is_not(None)
    )
    return case(
        (prefers_teams, Person.teams_user_id),
        else_=func.coalesce(Person.slack_user_id, Person.teams_user_id),
    )


@dataclass(frozen=True)
class _Shape:
    """What decides the text of the ranking statement: which of the need's filters apply.
    Everything else about a need is a bound parameter."""

    requester: bool
    school: bool
    excluded: bool
    today: bool
    same_trust: bool  # EXCLUDE_SAME_TRUST, and the requesting school has a trust
    require_phase: bool
    require_region: bool
    only_person: bool
    limited: bool


def rank_in_sql(
    session: Session,
    need: Need,
    *,
    limit: int | None = None,
    tag_labels: Mapping[str, str],
    only_person_id: int | None = None,
) -> list[Match]:
    """The best `limit` candidates for `need` (everyone when None), best first.

    `only_person_id` asks whether one person may be offered it (their match, or nothing).
    """
    if not need.tags:
        return []
    shape = _shape_of(session, need, only_person_id=only_person_id, limit=limit)
    params = _params(need, _spellings(session, need), only_person_id=only_person_id, limit=limit)
    rows = session.execute(_ranked_query(shape), params).all()
    return rank_candidates(need, _candidates(session, rows), tag_labels=tag_labels)


def _shape_of(
    session: Session, need: Need, *, only_person_id: int | None, limit: int | None
) -> _Shape:
    return _Shape(
        requester=need.requester_person_id is not None,
        school=need.school_id is not None,
        excluded=bool(need.excluded_person_ids),
        today=need.today is not None,
        same_trust=bool(need.rules.exclude_same_trust and need.trust),
        require_phase=bool(need.rules.require_phase and need.phase),
        require_region=bool(need.rules.require_region and need.region),
        only_person=only_person_id is not None,
        limited=limit is not None,
    )


def _params(
    need: Need,
    spellings: Mapping[str, list[str]],
    *,
    only_person_id: int | None,
    limit: int | None,
) -> dict[str, Any]:
    """The need's values for the statement's parameters (those its shape leaves out unused)."""
    return {
        "tags": sorted(need.tags),
        "supporter_roles": sorted(SUPPORTER_ROLES),
        "fitting_roles": sorted(fitting_roles(need)),
        "requester": need.requester_person_id,
        "school": need.school_id,
        "excluded": sorted(need.excluded_person_ids),
        "today": need.today,
        "phases": spellings.get("phase", []),
        "regions": spellings.get("region", []),
        "trusts": spellings.get("trust", []),
        "only_person": only_person_id,
        "limit": limit,
    }


@lru_cache(maxsize=256)
def _ranked_query(shape: _Shape) -> Any:
    """SELECT the candidates who may be offered a need of this shape, in ranking order.

    The work grows with the people sharing a tag, not with the directory or its history:
    each candidate's active count and last start are index look-ups, worked out once per
    candidate (a materialised CTE) rather than aggregated over every deployment.
    """
    candidates = _candidates_sharing_a_tag(shape)
    phase_fit = col(School.phase).in_(bindparam("phases", expanding=True))
    region_fit = col(School.region).in_(bindparam("regions", expanding=True))
    name_order = casefold_order(candidates.c.name)
    query = (
        select(
            candidates.c.id,
            candidates.c.user_id,
            candidates.c.address,
            candidates.c.name,
            candidates.c.school_id,
            candidates.c.capacity,
            candidates.c.available,
            School.phase,
            School.region,
            candidates.c.active,
            candidates.c.at,
        )
        .add_columns(candidates.c.available_from, School.trust)  # apart: select() types 10 at most
        .add_columns(name_order.label("name_order"))
        .select_from(candidates)
        .outerjoin(School, col(School.id) == candidates.c.school_id)
        .where(candidates.c.active < candidates.c.capacity)
        .where(*_allowed_by_rules(shape, phase_fit, region_fit))
        .order_by(
            candidates.c.covered.desc(),
            candidates.c.role_misfit,
            case((phase_fit, 0), else_=1),
            case((region_fit, 0), else_=1),
            candidates.c.active,
            candidates.c.at.is_not(None),  # never deployed first (the Python key's -inf)
            candidates.c.at,
            name_order,  # the re-ranking sorts by the same folded names (Candidate.name_order)
            candidates.c.id,
        )
    )
    if shape.limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


def _candidates_sharing_a_tag(shape: _Shape) -> Any:
    """Everyone who shares a tag with the need and passes the per-person rules, with how
    many tags they cover, their active count, last start and whether their role fits."""
    covered = (
        select(PersonExpertise.person_id, func.count().label("covered"))
        .where(col(PersonExpertise.tag_slug).in_(bindparam("tags", expanding=True)))
        .group_by(PersonExpertise.person_id)
        .subquery()
    )
    query = (
        select(
            Person.id,
            func.coalesce(Person.slack_user_id, Person.teams_user_id).label("user_id"),
            _direct_address().label("address"),
            Person.name,
            Person.school_id,
            Person.capacity,
            Person.available,
            Person.available_from,
            covered.c.covered,
            _active_load().label("active"),
            _last_started().label("at"),
            case((_holds_role("fitting_roles"), 0), else_=1).label("role_misfit"),
        )
        .select_from(covered)
        .join(Person, covered.c.person_id == Person.id)
        .where(*_eligible(shape))
    )
    if shape.only_person:
        query = query.where(Person.id == bindparam("only_person"))
    return query.cte("candidates").prefix_with("MATERIALIZED")


def _active_load() -> Any:
    """The candidate's load (`bot.members`' one rule for capacity): active deployments they
    lead plus those they joined as a colleague, each counted through an index."""
    return _active_deployments() + _colleague_places()


def _colleague_places() -> Any:
    """Active deployments the candidate joined as a colleague (shadows use no capacity)."""
    return (
        select(func.count())
        .select_from(DeploymentMember)
        .join(Deployment, col(Deployment.id) == col(DeploymentMember.deployment_id))
        .where(
            col(DeploymentMember.person_id) == Person.id,
            col(DeploymentMember.removed_at).is_(None),
            col(DeploymentMember.role) == MemberRole.COLLEAGUE,
            col(Deployment.status) == DeploymentStatus.ACTIVE,
        )
        .correlate(Person)
        .scalar_subquery()
    )


def _active_deployments() -> Any:
    """The candidate's active deployments, counted through the (supporter_id, ...) index."""
    return (
        select(func.count())
        .where(Deployment.supporter_id == Person.id, Deployment.status == "active")
        .correlate(Person)
        .scalar_subquery()
    )


def _last_started() -> Any:
    """The candidate's latest deployment start: the last entry of (supporter_id, started_at)."""
    return (
        select(func.max(Deployment.started_at))
        .where(Deployment.supporter_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )


def _eligible(shape: _Shape) -> list[ColumnElement[bool]]:
    """The SQL form of `exclusion_reason(...) is None` but for capacity left (checked on the
    active count outside) and shared expertise (the inner join)."""
    conditions: list[ColumnElement[bool]] = [
        _holds_role("supporter_roles"),
        col(Person.erased_at).is_(None),
        col(Person.available).is_(True),
        Person.capacity > 0,
    ]
    if shape.requester:
        conditions.append(Person.id != bindparam("requester"))
    if shape.school:
        conditions.append(
            or_(col(Person.school_id).is_(None), col(Person.school_id) != bindparam("school"))
        )
    if shape.excluded:
        conditions.append(col(Person.id).not_in(bindparam("excluded", expanding=True)))
    if shape.today:
        conditions.append(
            or_(
                col(Person.available_from).is_(None),
                col(Person.available_from) <= bindparam("today"),
            )
        )
    return conditions


def _allowed_by_rules(shape: _Shape, phase_fit: Any, region_fit: Any) -> list[ColumnElement[bool]]:
    """The SQL form of `rule_exclusion_reason(...) is None` on the school: the trust
    conflict, and phase and region when the hub requires them (availability is per person,
    in `_eligible`)."""
    conditions: list[ColumnElement[bool]] = []
    if shape.same_trust:
        same_trust = col(School.trust).in_(bindparam("trusts", expanding=True))
        conditions.append(or_(col(School.trust).is_(None), ~same_trust))
    if shape.require_phase:
        conditions.append(phase_fit)
    if shape.require_region:
        conditions.append(region_fit)
    return conditions


def _holds_role(roles: str) -> ColumnElement[bool]:
    """Whether the person holds one of the roles bound to the parameter `roles`."""
    return exists().where(
        and_(
            col(PersonRole.person_id) == col(Person.id),
            col(PersonRole.role).in_(bindparam(roles, expanding=True)),
        )
    )


def _spellings(session: Session, need: Need) -> dict[str, list[str]]:
    """The spellings in use of the need's phase, region and (when the trust rule applies)
    trust, in one round trip: few distinct values, compared in Python so the rule (case,
    spacing, all-through) stays `matching`'s own."""
    wanted = {
        "phase": (need.phase, phases_match),
        "region": (need.region, regions_match),
        "trust": (need.trust if need.rules.exclude_same_trust else None, trusts_match),
    }
    kinds = tuple(kind for kind, (value, _) in wanted.items() if value)
    found: dict[str, list[str]] = {kind: [] for kind in kinds}
    if not kinds:
        return found
    for kind, value in session.execute(_spellings_query(kinds)):
        wanted_value, same = wanted[kind]
        if same(wanted_value, value):
            found[kind].append(value)
    return found


_SPELLED = {"phase": School.phase, "region": School.region, "trust": School.trust}


@lru_cache(maxsize=8)
def _spellings_query(kinds: tuple[str, ...]) -> Any:
    """The distinct non-empty values of these school columns, each row tagged with its kind."""
    parts: list[Any] = [
        select(literal_column(f"'{kind}'").label("kind"), col(_SPELLED[kind]).label("value"))
        .where(col(_SPELLED[kind]).is_not(None))
        .distinct()
        for kind in kinds
    ]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _candidates(session: Session, rows: Sequence[Any]) -> list[Candidate]:
    """Candidates for the few rows ranked, with their roles and tags (one query each)."""
    held: dict[str, dict[int, set[str]]] = {"role": defaultdict(set), "tag": defaultdict(set)}
    for start in range(0, len(rows), _CHUNK):
        ids = [row.id for row in rows[start : start + _CHUNK]]
        for kind, person_id, value in session.execute(_roles_and_tags_query(), {"ids": ids}):
            held[kind][person_id].add(value)
    roles, tags = held["role"], held["tag"]
    return [
        Candidate(
            person_id=row.id,
            user_id=row.user_id,
            address=row.address,
            name=row.name,
            roles=frozenset(roles[row.id]),
            tags=frozenset(tags[row.id]),
            school_id=row.school_id,
            phase=row.phase,
            region=row.region,
            capacity=row.capacity,
            active_deployments=int(row.active),
            last_deployed_at=row.at,
            available=row.available,
            trust=row.trust,
            available_from=row.available_from,
            name_order=row.name_order,
        )
        for row in rows
    ]


@lru_cache(maxsize=1)
def _roles_and_tags_query() -> Any:
    """The roles and tags of the people bound to `ids`, in one round trip."""
    ids: Any = bindparam("ids", expanding=True)
    return union_all(
        select(literal_column("'role'"), PersonRole.person_id, PersonRole.role).where(
            col(PersonRole.person_id).in_(ids)
        ),
        select(literal_column("'tag'"), PersonExpertise.person_id, PersonExpertise.tag_slug).where(
            col(PersonExpertise.person_id).in_(ids)
        ),
    )
