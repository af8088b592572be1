"""City master data from ingestion."""

from __future__ import annotations

from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.domain.cities import CityInfo
from shared.events.ingestion import CitiesRecorded


def on_cities_recorded(event: CitiesRecorded, _envelope, uow) -> None:
    facts = FactRepository(uow.session)
    for city in event.cities:
        facts.upsert_city(CityInfo(city.code, city.name, city.region, city.province))
