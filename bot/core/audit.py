"""The audit log: who did what to which thing, when. Ids only, never request text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.models import AuditEntry


def record(
    session: Session,
    *,
    at: datetime,
    actor: str | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    **detail: Any,
) -> None:
    """Add an audit entry to the current transaction."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            detail=detail,
        )
    )
