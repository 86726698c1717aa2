"""Errors a person can fix or should be told about; handlers turn them into friendly replies."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the person should be told, in words fit to show them."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotAllowed(UserFacingError):
    """The person may not do this (their role or relationship to the request says no).

    Carries what was refused so the edge can record it in the audit log after the rollback.
    """

    def __init__(
        self, message: str, *, action: str = "", subject_type: str = "", subject_id: int | str = ""
    ) -> None:
        super().__init__(message)
        self.action = action
        self.subject_type = subject_type
        self.subject_id = subject_id


class NotFound(UserFacingError):
    """The thing the click or command refers to does not exist (any more)."""


class Conflict(UserFacingError):
    """The thing exists but its state no longer allows this (already accepted, cancelled…)."""


class InvalidInput(UserFacingError):
    """Form input that fails validation; `errors` maps field (block id) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))
