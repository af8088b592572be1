"""Master data as the parsers need it: the city directory and the outlets by id."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingestion_service.adapters.fact_store import city_from_row, outlet_from_row
from ingestion_service.adapters.tables import cities, outlets
from ingestion_service.domain.cities import City, CityDirectory
from ingestion_service.domain.facts import Outlet


def load_cities(session: Session) -> list[City]:
    return [city_from_row(row) for row in session.execute(select(cities).order_by(cities.c.code))]


def load_directory(session: Session, historical_names: Mapping[str, str]) -> CityDirectory:
    return CityDirectory(load_cities(session), historical_names)


def load_outlets(session: Session) -> dict[str, Outlet]:
    return {row.outlet_id: outlet_from_row(row) for row in session.execute(select(outlets))}
