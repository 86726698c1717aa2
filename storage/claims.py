"""Claiming due rows so that two processes never work on the same one.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` inside the claiming transaction. Elsewhere
(SQLite): a conditional `UPDATE … WHERE <still claimable>`, whose row count says who won.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, inspect, select, update
from sqlmodel import Session, SQLModel


def _primary_key(model: type[SQLModel]) -> Any:
    """The table's one integer primary key column (`id`, or e.g. a plan's `deployment_id`)."""
    [pk] = inspect(model).primary_key
    return pk


def claim_rows(
    session: Session,
    model: type[SQLModel],
    claimable: ColumnElement[bool],
    values: dict[str, Any],
    *,
    order_by: Any,
    limit: int,
) -> list[int]:
    """Set `values` on up to `limit` rows matching `claimable`; return the ids this call won.

    The caller commits. A row claimed by another transaction is skipped, never taken twice.
    """
    pk = _primary_key(model)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                select(pk)
                .where(claimable)
                .order_by(order_by)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(update(model).where(pk.in_(ids)).values(**values))
        return ids
    won = []
    for row_id in session.scalars(select(pk).where(claimable).order_by(order_by).limit(limit)):
        result = session.execute(update(model).where(pk == row_id, claimable).values(**values))
        if result.rowcount == 1:  # type: ignore[attr-defined]  # a DML result is a CursorResult
            won.append(row_id)
    return won


def serialise_claims(session: Session, key: int) -> None:
    """Make claims under `key` wait for each other until this transaction ends, so a claim
    that looks at rows another is taking sees them taken (PostgreSQL: a transaction-level
    advisory lock; SQLite already runs one writing transaction at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(key)))


def postpone_rows(
    session: Session,
    model: type[SQLModel],
    due: ColumnElement[bool],
    column: str,
    until: Any,
) -> int:
    """Set `column` to `until` on every row matching `due` (which `until` must take it out
    of); returns how many this call moved. The caller commits; a row another transaction
    holds is left to it."""
    pk = _primary_key(model)
    moved = 0
    while ids := claim_rows(session, model, due, {column: until}, order_by=pk, limit=500):
        moved += len(ids)
    return moved
