"""The FastAPI app of one service: problem details for every error, the caller's principal."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from shared.auth import Authenticator
from shared.docs_pages import install_docs_pages
from shared.problems import PROBLEM_RESPONSES, install_problem_handlers

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "code"],
}


def create_service_api(
    *,
    name: str,
    title: str,
    description: str,
    routers: Iterable[APIRouter],
    authenticator: Authenticator,
    version: str = "1.0.0",
) -> FastAPI:
    """A service's API, mounted by the composition root at `/api/v1/<name>`."""
    app = FastAPI(title=title, description=description, version=version, responses=PROBLEM_RESPONSES,
                  docs_url=None, redoc_url=None)
    install_docs_pages(app)
    app.state.authenticator = authenticator
    app.state.service_name = name
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)
    original_openapi = app.openapi

    def openapi_with_problem():
        if app.openapi_schema:
            return app.openapi_schema
        schema = original_openapi()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        schema["components"].setdefault("securitySchemes", {}).update(
            {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            }
        )
        schema["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi_with_problem
    return app
