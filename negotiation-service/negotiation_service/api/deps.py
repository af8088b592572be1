"""What routes share: the caller as a domain Actor, and domain errors as RFC 9457 problems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import sessionmaker

from negotiation_service.domain.actors import Actor
from negotiation_service.domain.audit import jsonable
from negotiation_service.domain.errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    NotFoundError,
    RuleViolation,
)
from shared.auth import CurrentPrincipal
from shared.outbox import UnitOfWork
from shared.problems import problem_body, problem_response

RESERVED = frozenset({"type", "title", "status", "code", "detail", "instance", "request_id"})
STATUS_BY_ERROR = ((ForbiddenError, 403), (ConflictError, 409), (NotFoundError, 404), (RuleViolation, 422))


@dataclass(frozen=True)
class RouteDeps:
    unit_of_work: Callable[[], UnitOfWork]
    sessions: sessionmaker
    pdf_dir: Path | None


def current_actor(principal: CurrentPrincipal) -> Actor:
    return Actor(principal.subject, frozenset(principal.roles), frozenset(principal.regions),
                 frozenset(principal.cities))


CurrentActor = Annotated[Actor, Depends(current_actor)]


def status_for(error: DomainError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


def install_domain_error_handler(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, error: DomainError):
        status = status_for(error)
        extra = {key: jsonable(value) for key, value in error.details.items() if key not in RESERVED}
        body = problem_body(status, error.code, _title(status), error.message, request.url.path, **extra)
        return problem_response(status, body)


def _title(status: int) -> str:
    return {403: "Forbidden", 404: "Not found", 409: "Conflict", 422: "Unprocessable content"}.get(status, "Error")
