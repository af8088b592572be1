"""Read-only views of master data and stored facts (what downstream services were told)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from ingestion_service.adapters.reference_repository import load_cities
from ingestion_service.adapters.tables import sales_facts
from ingestion_service.api.schemas import CityRead, SalesTotalRead
from shared.auth import CurrentPrincipal


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

    @router.get("/sales/total", response_model=SalesTotalRead, summary="Total orders over days (latest revisions)")
    def sales_total(_principal: CurrentPrincipal, start: date, end: date, city_code: str | None = Query(None)):
        query = select(func.coalesce(func.sum(sales_facts.c.orders), 0), func.count()).where(
            sales_facts.c.day.between(start, end))
        if city_code:
            query = query.where(sales_facts.c.city_code == city_code)
        with service.sessions() as session:
            orders, facts = session.execute(query).one()
        return SalesTotalRead(city_code=city_code, start=start.isoformat(), end=end.isoformat(),
                              orders=int(orders), facts=int(facts))

    return router
