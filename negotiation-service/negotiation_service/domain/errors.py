"""Domain errors. Each carries a stable machine `code`; the API maps the class to an HTTP status.

ForbiddenError → 403, ConflictError → 409, RuleViolation → 422, NotFoundError → 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class DomainError(Exception):
    code: str = "domain_error"

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class ForbiddenError(DomainError):
    """The actor may not do this (scope, role, self-approval, view-only restriction)."""


class ConflictError(DomainError):
    """The thing is not in a state that allows this (closed window, decided request, stale version)."""


class RuleViolation(DomainError):
    """The input breaks a rule (naive datetime, non-positive claim, unknown city...)."""


class NotFoundError(DomainError):
    """The referenced thing does not exist."""


class WindowClosedError(ConflictError):
    def __init__(self, at: datetime, closes_at: datetime) -> None:
        super().__init__(
            "window_closed",
            f"the negotiation window closed at {closes_at.isoformat()}; action at {at.isoformat()} refused",
            closes_at=closes_at,
            at=at,
        )


def require_aware(value: datetime, what: str = "time") -> datetime:
    """Refuse naive datetimes loudly instead of comparing them wrongly (casebook C13)."""
    if not isinstance(value, datetime):
        raise RuleViolation("not_a_datetime", f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise RuleViolation(
            "naive_datetime", f"{what} must carry a time zone offset: {value.isoformat()}", field=what
        )
    return value
