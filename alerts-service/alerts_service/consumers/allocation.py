"""Package periods and attainment from allocation (attainment-lag rules)."""

from __future__ import annotations

from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.application.evaluation import city_of, evaluate_lag
from alerts_service.settings import AlertsSettings
from shared.events.allocation import AttainmentUpdated, PackagePublished, TargetsRevised


def make_allocation_handlers(settings: AlertsSettings) -> dict:
    def on_package(event: PackagePublished | TargetsRevised, _envelope, uow) -> None:
        FactRepository(uow.session).upsert_package(event.package_id, event.period_start, event.period_end)

    def on_attainment_updated(event: AttainmentUpdated, _envelope, uow) -> None:
        city = city_of(uow, event.city_code, event.city_name, event.region)
        evaluate_lag(uow, city, event, settings)

    return {
        PackagePublished.TYPE: on_package,
        TargetsRevised.TYPE: on_package,
        AttainmentUpdated.TYPE: on_attainment_updated,
    }
