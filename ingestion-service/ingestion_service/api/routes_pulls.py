"""Configured HTTP pull sources: list them, run one now."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ingestion_service.api.schemas import PullRunRead
from shared.auth import CurrentPrincipal, require_roles
from shared.problems import ProblemError


def build_router(service) -> APIRouter:
    router = APIRouter(tags=["pulls"])

    @router.get("/pulls", summary="The configured HTTP pull sources")
    def sources(_principal: CurrentPrincipal) -> list[dict]:
        return [{"name": s.name, "url": s.url, "kind": s.kind, "format": s.format, "every_seconds": s.every_seconds}
                for s in service.pulls.sources.values()]

    @router.post("/pulls/{name}/run", response_model=PullRunRead, dependencies=[require_roles("hq_planner", "admin")],
                 summary="Pull a source now; every page fetched becomes an import job")
    async def run(name: str):
        if name not in service.pulls.sources:
            raise ProblemError(404, "pull_source_not_found", f"no pull source named {name}")
        outcome = await run_in_threadpool(service.pulls.run, name)
        return PullRunRead(source=outcome.source, status=outcome.status, job_ids=outcome.job_ids)

    return router
