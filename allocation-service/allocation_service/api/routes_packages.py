"""Packages and versions, manual revisions with If-Match, period close, attainment."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Header, Path, Response

from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.api.deps import MAX_VERSION, AllocationContext, etag, parse_if_match
from allocation_service.api.schemas import PackageTargetsUpdate
from allocation_service.application import attainment as live
from allocation_service.application.codec import dec, version_line_json
from allocation_service.application.packages import current_version, require_package, revise_manually
from allocation_service.domain.attainment import Attainment
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.problems import ProblemError


def package_summary(row) -> dict:
    return {
        "id": row.id, "name": row.name, "scenario_id": row.scenario_id,
        "period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(),
        "metric": row.metric, "model": row.model, "current_version": row.current_version,
        "published_at": row.published_at.isoformat(), "finalized": bool(row.finalized),
        "superseded_by": row.superseded_by,
        "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
    }


def visible_lines(version, principal: Principal, daily: bool) -> list[dict]:
    return [
        version_line_json(line, daily)
        for _, line in sorted(version.lines.items())
        if principal.sees_city(line.city_code, line.region)
    ]


def attainment_json(item: Attainment) -> dict:
    return {
        "key": item.key, "as_of": item.as_of.isoformat(), "period_target": dec(item.period_target),
        "target_to_date": dec(item.target_to_date), "actual_to_date": dec(item.actual_to_date),
        "attainment_pct": dec(item.attainment_pct), "projection": dec(item.projection), "rank": item.rank,
    }


def build_router(ctx: AllocationContext) -> APIRouter:
    router = APIRouter(prefix="/packages", tags=["packages"])

    @router.get("")
    def list_packages(_principal: CurrentPrincipal) -> list[dict]:
        with ctx.sessions() as session:
            return [package_summary(row) for row in PackageRepository(session, ctx.cache_key).packages()]

    @router.get("/{package_id}")
    def read(package_id: str, principal: CurrentPrincipal, response: Response, daily: bool = False) -> dict:
        """The current version (lines in the caller's scope). ETag = the version number."""
        with ctx.sessions() as session:
            repository = PackageRepository(session, ctx.cache_key)
            row = require_package(repository, package_id)
            version = current_version(repository, row)
        response.headers["ETag"] = etag(row.current_version)
        return {**package_summary(row), "version": version.number, "total": dec(version.total),
                "provenance": vars(version.provenance), "lines": visible_lines(version, principal, daily)}

    @router.get("/{package_id}/versions")
    def versions(package_id: str, _principal: CurrentPrincipal) -> list[dict]:
        with ctx.sessions() as session:
            repository = PackageRepository(session, ctx.cache_key)
            require_package(repository, package_id)
            return [
                {"number": r.number, "total": dec(r.total), "source": r.source, "reference": r.reference,
                 "note": r.note, "created_at": r.created_at.isoformat()}
                for r in repository.versions(package_id)
            ]

    @router.get("/{package_id}/versions/{number}")
    def read_version(package_id: str, principal: CurrentPrincipal, number: int = Path(ge=1, le=MAX_VERSION),
                     daily: bool = False) -> dict:
        with ctx.sessions() as session:
            repository = PackageRepository(session, ctx.cache_key)
            require_package(repository, package_id)
            version = repository.version(package_id, number)
        if version is None:
            raise ProblemError(404, "version_not_found", f"{package_id} has no version {number}")
        return {"package_id": package_id, "number": version.number, "total": dec(version.total),
                "provenance": vars(version.provenance), "lines": visible_lines(version, principal, daily)}

    @router.patch("/{package_id}/targets", dependencies=[require_roles("hq_planner")])
    def revise(package_id: str, body: PackageTargetsUpdate, principal: CurrentPrincipal, response: Response,
               if_match: str | None = Header(None)) -> dict:
        """Every manual change makes a new version (provenance `manual`, the author as reference); If-Match must
        name the current version (else 409 `stale_version`).

        The package total is kept by default: the change of the named cities is offset over the other cities
        of the same region in proportion to their allocation weights, exactly (largest remainder, ties by city
        code; a city never goes below zero), as negotiation's `keep_total` does. When a region cannot absorb it
        (no other city, or not without a negative target): 409 `total_mismatch`. Send
        `"allow_total_change": true` to change only the named cities and let the total move."""
        expected = parse_if_match(if_match)
        with ctx.unit_of_work() as uow:
            number = revise_manually(uow, package_id, expected, body.targets, body.note, principal.subject,
                                     ctx.cache_key, allow_total_change=body.allow_total_change)
            uow.commit()
        response.headers["ETag"] = etag(number)
        return {"package_id": package_id, "version": number}

    @router.post("/{package_id}/close", dependencies=[require_roles("hq_planner", "finance")])
    def close(package_id: str, _principal: CurrentPrincipal) -> dict:
        """Declare the period's actuals final (emits `allocation.period_actuals_finalized` once)."""
        with ctx.unit_of_work() as uow:
            repository = PackageRepository(uow.session, ctx.cache_key)
            row = require_package(repository, package_id)
            emitted = live.finalize(uow, repository, row)
            uow.commit()
        return {"package_id": package_id, "finalized": True, "emitted": emitted}

    @router.get("/{package_id}/attainment")
    def attainment(package_id: str, principal: CurrentPrincipal,
                   level: Literal["city", "region", "channel"] = "city", as_of: date | None = None) -> dict:
        """Attainment to date by city, region or channel, over the cities in the caller's scope only (a city
        manager's regions and channels add up their own cities). `as_of` defaults to the last day with actuals;
        it is never later than today (Asia/Shanghai) nor the period's end."""
        with ctx.sessions() as session:
            repository = PackageRepository(session, ctx.cache_key)
            row = require_package(repository, package_id)
            version = current_version(repository, row)
            cities = live.city_attainments(session, repository, row, as_of, today=live.today(ctx.clock))
            cities = [a for a in cities if principal.sees_city(a.key, version.lines[a.key].region)]
            if level == "region":
                items = live.region_attainments(repository, row, cities)
            elif level == "channel":
                items = live.channel_attainments(session, row, cities)
            else:
                items = cities
                names = {code: line.city_name for code, line in version.lines.items()}
        rows = [attainment_json(item) for item in items]
        if level == "city":
            for body in rows:
                body["city_name"] = names[body["key"]]
        return {"package_id": package_id, "level": level, "items": rows}

    return router
