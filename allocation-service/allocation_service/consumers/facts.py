"""Facts from ingestion: stored in bulk (latest revision wins); actuals drive live attainment."""

from __future__ import annotations

from allocation_service.adapters import fact_store
from shared.events.ingestion import CitiesRecorded, FulfilmentRecorded, OutletsRecorded


def on_cities_recorded(event: CitiesRecorded, _envelope, uow) -> None:
    fact_store.record_cities(uow.session, event.cities)


def on_outlets_recorded(event: OutletsRecorded, _envelope, uow) -> None:
    fact_store.record_outlets(uow.session, event.city_code, event.outlets)


def on_fulfilment_recorded(event: FulfilmentRecorded, _envelope, uow) -> None:
    fact_store.record_fulfilments(uow.session, event.city_code, event.fulfilments)
