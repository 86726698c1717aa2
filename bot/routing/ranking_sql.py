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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, case, exists, false, func, or_, select
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
# Where casefold() differs from PostgreSQL's lower() in the alphabets names use.
_FOLDS_LOWER_MISSES = (("ß", "ss"), ("ſ", "s"), ("ς", "σ"))


def _direct_address() -> ColumnElement[str]:
    """`bot.reach.people.direct_address` in SQL: where a candidate's offer goes."""
    prefers_teams = and_(
        col(Person.preferred_platform) == Platform.TEAMS, col(Person.teams_user_id).is_not(None)
    )
    return case(
        (prefers_teams, Person.teams_user_id),
        else_=func.coalesce(Person.slack_user_id, Person.teams_user_id),
    )


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
    query = _ranked_query(session, need, only_person_id)
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return rank_candidates(need, _candidates(session, rows), tag_labels=tag_labels)


def _ranked_query(session: Session, need: Need, only_person_id: int | None) -> Any:
    """SELECT the candidates who may be offered `need`, in ranking order.

    The work grows with the people sharing a tag, not with the directory or its history:
    each candidate's active count and last start are index look-ups, worked out once per
    candidate (a materialised CTE) rather than aggregated over every deployment.
    """
    candidates = _candidates_sharing_a_tag(need, only_person_id)
    phase_fit = _spelled_as(session, School.phase, need.phase, phases_match)
    region_fit = _spelled_as(session, School.region, need.region, regions_match)
    return (
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
        .select_from(candidates)
        .outerjoin(School, col(School.id) == candidates.c.school_id)
        .where(candidates.c.active < candidates.c.capacity)
        .where(*_allowed_by_rules(session, need, phase_fit, region_fit))
        .order_by(
            candidates.c.covered.desc(),
            candidates.c.role_misfit,
            case((phase_fit, 0), else_=1),
            case((region_fit, 0), else_=1),
            candidates.c.active,
            candidates.c.at.is_not(None),  # never deployed first (the Python key's -inf)
            candidates.c.at,
            _casefolded(session, candidates.c.name),
            candidates.c.id,
        )
    )


def _candidates_sharing_a_tag(need: Need, only_person_id: int | None) -> Any:
    """Everyone who shares a tag with `need` and passes the per-person rules, with how many
    tags they cover, their active count, last start and whether their role fits."""
    covered = (
        select(PersonExpertise.person_id, func.count().label("covered"))
        .where(col(PersonExpertise.tag_slug).in_(sorted(need.tags)))
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
            case((_holds_role(fitting_roles(need)), 0), else_=1).label("role_misfit"),
        )
        .select_from(covered)
        .join(Person, covered.c.person_id == Person.id)
        .where(*_eligible(need))
    )
    if only_person_id is not None:
        query = query.where(Person.id == only_person_id)
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


def _eligible(need: Need) -> list[ColumnElement[bool]]:
    """The SQL form of `exclusion_reason(...) is None` but for capacity left (checked on the
    active count outside) and shared expertise (the inner join)."""
    conditions: list[ColumnElement[bool]] = [
        _holds_role(SUPPORTER_ROLES),
        col(Person.erased_at).is_(None),
        col(Person.available).is_(True),
        Person.capacity > 0,
    ]
    if need.requester_person_id is not None:
        conditions.append(Person.id != need.requester_person_id)
    if need.school_id is not None:
        conditions.append(
            or_(col(Person.school_id).is_(None), col(Person.school_id) != need.school_id)
        )
    if need.excluded_person_ids:
        conditions.append(col(Person.id).not_in(sorted(need.excluded_person_ids)))
    if need.today is not None:
        conditions.append(
            or_(col(Person.available_from).is_(None), col(Person.available_from) <= need.today)
        )
    return conditions


def _allowed_by_rules(
    session: Session, need: Need, phase_fit: Any, region_fit: Any
) -> list[ColumnElement[bool]]:
    """The SQL form of `rule_exclusion_reason(...) is None` on the school: the trust
    conflict, and phase and region when the hub requires them (availability is per person,
    in `_eligible`)."""
    conditions: list[ColumnElement[bool]] = []
    if need.rules.exclude_same_trust and need.trust:
        same_trust = _spelled_as(session, School.trust, need.trust, trusts_match)
        conditions.append(or_(col(School.trust).is_(None), ~same_trust))
    if need.rules.require_phase and need.phase:
        conditions.append(phase_fit)
    if need.rules.require_region and need.region:
        conditions.append(region_fit)
    return conditions


def _holds_role(roles: Iterable[str]) -> ColumnElement[bool]:
    return exists().where(
        and_(col(PersonRole.person_id) == col(Person.id), col(PersonRole.role).in_(sorted(roles)))
    )


def _spelled_as(session: Session, column: Any, wanted: str | None, same: Any) -> Any:
    """`column IN (the spellings in use that match `wanted`)`: few distinct values, compared
    in Python so the rule (case, spacing, all-through) stays `matching`'s own."""
    if not wanted:
        return false()
    spellings = [
        value
        for value in session.execute(select(column).where(column.is_not(None)).distinct()).scalars()
        if same(wanted, value)
    ]
    return column.in_(spellings) if spellings else false()


def _casefolded(session: Session, column: Any) -> Any:
    """The name as Python's `str.casefold()` orders it: SQLite calls Python's own (registered
    in `storage.db`); on PostgreSQL `lower()` plus the folds it lacks for Latin and Greek
    (ß, ſ, final sigma). Codepoint order ("C"), as Python compares strings."""
    if session.get_bind().dialect.name == "sqlite":
        return func.casefold(column)
    folded = func.lower(column)
    for letter, fold in _FOLDS_LOWER_MISSES:
        folded = func.replace(folded, letter, fold)
    return folded.collate("C")


def _candidates(session: Session, rows: Sequence[Any]) -> list[Candidate]:
    """Candidates for the few rows ranked, with their roles and tags (one query each)."""
    roles: dict[int, set[str]] = defaultdict(set)
    tags: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(rows), _CHUNK):
        ids = [row.id for row in rows[start : start + _CHUNK]]
        for person_id, role in session.execute(
            select(PersonRole.person_id, PersonRole.role).where(col(PersonRole.person_id).in_(ids))
        ):
            roles[person_id].add(role)
        for person_id, tag in session.execute(
            select(PersonExpertise.person_id, PersonExpertise.tag_slug).where(
                col(PersonExpertise.person_id).in_(ids)
            )
        ):
            tags[person_id].add(tag)
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
        )
        for row in rows
    ]
