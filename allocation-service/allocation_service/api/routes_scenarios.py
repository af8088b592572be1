"""Scenarios: generate, list, read, compare, discard, publish."""

from __future__ import annotations

import json

from fastapi import APIRouter, Header, Query, Response

from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.api.deps import AllocationContext, etag, parse_if_match
from allocation_service.api.schemas import ScenarioCreate, ScenarioPublish
from allocation_service.application import scenarios
from shared.auth import CurrentPrincipal, require_roles

PLANNERS = ("hq_planner",)
READERS = ("hq_planner", "finance")  # scenarios are planning work: every city's figures (admin always)


def scenario_body(row, daily: bool = False) -> dict:
    plan = json.loads(row.result)
    if not daily:
        for line in plan["lines"]:
            line.pop("daily", None)
    return {
        "id": row.id, "name": row.name, "status": row.status, "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(), "metric": row.metric, "model": row.model,
        "total": format(row.total, "f"), "package_id": row.package_id, "created_by": row.created_by,
        "created_at": row.created_at.isoformat(), "version": row.version, "request": json.loads(row.spec),
        **plan,
    }


def build_router(ctx: AllocationContext) -> APIRouter:
    router = APIRouter(prefix="/scenarios", tags=["scenarios"])

    @router.post("", status_code=201, dependencies=[require_roles(*PLANNERS)])
    def generate(body: ScenarioCreate, principal: CurrentPrincipal, response: Response) -> dict:
        """Generate a what-if package (not published): basis, tiers, model, reconciliation, phasing, budget."""
        with ctx.unit_of_work() as uow:
            scenario_id = scenarios.create_scenario(uow, body, principal.subject, ctx.settings.history_years)
            uow.commit()
        with ctx.sessions() as session:
            row = PackageRepository(session).scenario(scenario_id)
        response.headers["ETag"] = etag(row.version)
        response.headers["Location"] = f"scenarios/{scenario_id}"
        return scenario_body(row)

    @router.get("", dependencies=[require_roles(*READERS)])
    def list_scenarios(_principal: CurrentPrincipal, status: str | None = None) -> list[dict]:
        with ctx.sessions() as session:
            rows = PackageRepository(session).scenarios(status)
        return [
            {"id": r.id, "name": r.name, "status": r.status, "period_start": r.period_start.isoformat(),
             "period_end": r.period_end.isoformat(), "metric": r.metric, "model": r.model,
             "total": format(r.total, "f"), "package_id": r.package_id, "version": r.version}
            for r in rows
        ]

    @router.get("/compare", dependencies=[require_roles(*READERS)])
    def compare(_principal: CurrentPrincipal, ids: list[str] = Query(..., max_length=10)) -> dict:
        """Per city, the targets and tiers of two or more scenarios side by side."""
        with ctx.sessions() as session:
            return scenarios.compare(PackageRepository(session), ids)

    @router.get("/{scenario_id}", dependencies=[require_roles(*READERS)])
    def read(scenario_id: str, _principal: CurrentPrincipal, response: Response, daily: bool = False) -> dict:
        with ctx.sessions() as session:
            row = scenarios.require_scenario(PackageRepository(session), scenario_id)
        response.headers["ETag"] = etag(row.version)
        return scenario_body(row, daily)

    @router.post("/{scenario_id}/discard", dependencies=[require_roles(*PLANNERS)])
    def discard(scenario_id: str, _principal: CurrentPrincipal, if_match: str | None = Header(None)) -> dict:
        with ctx.unit_of_work() as uow:
            scenarios.discard(uow, scenario_id, parse_if_match(if_match, required=False))
            uow.commit()
        return {"id": scenario_id, "status": "discarded"}

    @router.post("/{scenario_id}/publish", status_code=201, dependencies=[require_roles(*PLANNERS)])
    def publish(scenario_id: str, _principal: CurrentPrincipal, response: Response,
                body: ScenarioPublish | None = None, if_match: str | None = Header(None)) -> dict:
        """Publish as package version 1 (emits `allocation.package_published`).

        One live package per period and metric: when one is already published for exactly this period and
        metric, 409 `package_exists_for_period` unless the body says `"supersede": true`, which marks the
        earlier package superseded (it then takes no uplifts, attainment or edits)."""
        with ctx.unit_of_work() as uow:
            package_id = scenarios.publish(uow, scenario_id, body.name if body else None,
                                           parse_if_match(if_match, required=False), ctx.cache_key,
                                           supersede=bool(body and body.supersede))
            uow.commit()
        response.headers["ETag"] = etag(1)
        response.headers["Location"] = f"packages/{package_id}"
        return {"package_id": package_id, "version": 1, "scenario_id": scenario_id}

    return router
