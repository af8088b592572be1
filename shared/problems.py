"""RFC 9457 problem details for every error, validation errors included."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.observability import request_id_var

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://quotaflow.dev/problems/"

log = logging.getLogger("quotaflow.problems")

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with problem details.

    `code` is a stable machine-readable slug (e.g. `self_approval_forbidden`); it becomes the
    problem `type` URI and is also returned as `code`.
    """

    def __init__(self, status: int, code: str, detail: str | None = None, title: str | None = None, **extra: Any):
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.extra = extra


def problem_body(
    status: int, code: str, title: str, detail: str | None, instance: str | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + code, "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return body


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError):
        body = problem_body(error.status, error.code, error.title, error.detail, request.url.path, **error.extra)
        headers = {"WWW-Authenticate": 'Bearer realm="quotaflow"'} if error.status == 401 else None
        return problem_response(error.status, body, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError):
        errors = [
            {
                "location": [str(part) for part in item.get("loc", ())],
                "message": item.get("msg"),
                "type": item.get("type"),
            }
            for item in error.errors()
        ]
        body = problem_body(
            422, "validation_error", "Request validation failed",
            f"{len(errors)} invalid field(s)", request.url.path, errors=errors,
        )
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: HTTPException):
        status = error.status_code
        code = _TITLES.get(status, "error").lower().replace(" ", "_")
        detail = error.detail if isinstance(error.detail, str) else None
        body = problem_body(status, code, _TITLES.get(status, "Error"), detail, request.url.path)
        return problem_response(status, body, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = problem_body(500, "internal_error", "Internal server error", None, request.url.path)
        return problem_response(500, body)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": _TITLES[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status in (400, 401, 403, 404, 409, 422)
}
