"""Read-only views of master data and stored facts (what downstream services were told)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from ingestion_service.adapters.reference_repository import load_cities
from ingestion_service.adapters.tables import cities as cities_table
from ingestion_service.adapters.tables import sales_facts
from ingestion_service.api.schemas import CityRead, SalesTotalRead
from ingestion_service.domain.scope import SalesScope, sales_scope
from shared.auth import CurrentPrincipal
from shared.problems import ProblemError


def _text(value) -> str | None:
    return None if value is None else format(value, "f")


def build_router(service) -> APIRouter:
    router = APIRouter(tags=["facts"])

    @router.get("/cities", response_model=list[CityRead], summary="Cities by adcode, with region and aliases")
    def cities(_principal: CurrentPrincipal):
        with service.sessions() as session:
            found = load_cities(session)
        return [CityRead(code=c.code, name=c.name, province=c.province, region=c.region, lng=_text(c.lng),
                         lat=_text(c.lat), gdp_100m_cny=_text(c.gdp_100m_cny), gdp_growth=_text(c.gdp_growth),
                         aliases=list(c.aliases)) for c in found]

    @router.get("/sales/total", response_model=SalesTotalRead,
                summary="Total orders over days (latest revisions), within the caller's scope",
                description="A city manager asks for one of their cities; a regional director for a city of "
                            "their regions or, without `city_code`, for the total of their regions; HQ "
                            "planners, finance and admins for any city or the national total.")
    def sales_total(principal: CurrentPrincipal, start: date, end: date,
                    city_code: str | None = Query(None, max_length=20)):
        if start > end:
            raise ProblemError(422, "invalid_period", f"start {start.isoformat()} is after end {end.isoformat()}")
        query = select(func.coalesce(func.sum(sales_facts.c.orders), 0), func.count()).where(
            sales_facts.c.day.between(start, end))
        with service.sessions() as session:
            region = None
            if city_code:
                region = session.execute(
                    select(cities_table.c.region).where(cities_table.c.code == city_code)).scalar_one_or_none()
            scope: SalesScope = sales_scope(principal.roles, principal.regions, principal.cities, city_code, region)
            if not scope.allowed:
                raise ProblemError(403, "out_of_scope", scope.reason, city_code=city_code)
            if city_code:
                query = query.where(sales_facts.c.city_code == city_code)
            elif scope.regions is not None:
                in_regions = select(cities_table.c.code).where(cities_table.c.region.in_(sorted(scope.regions)))
                query = query.where(sales_facts.c.city_code.in_(in_regions))
            orders, facts = session.execute(query).one()
        return SalesTotalRead(city_code=city_code, start=start.isoformat(), end=end.isoformat(),
                              regions=None if scope.regions is None else sorted(scope.regions),
                              orders=int(orders), facts=int(facts))

    return router
