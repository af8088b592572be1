"""One handler per subscribed event type. The consumer runner commits; handlers never do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from negotiation_service.application import integrity, windows
from negotiation_service.settings import NegotiationSettings
from shared.envelope import Envelope
from shared.events.allocation import PackagePublished, PeriodActualsFinalized, TargetsRevised
from shared.outbox import UnitOfWork


def make_handlers(settings: NegotiationSettings, pdf_dir: Path | None = None) -> dict:
    duration = timedelta(hours=settings.window_hours)

    def on_package_published(event: PackagePublished, _envelope: Envelope, uow: UnitOfWork) -> None:
        windows.open_for_package(uow, event, duration, settings.offset_policy)

    def on_period_actuals_finalized(event: PeriodActualsFinalized, _envelope: Envelope, uow: UnitOfWork) -> None:
        integrity.score_period(uow, event)

    def on_targets_revised(event: TargetsRevised, _envelope: Envelope, uow: UnitOfWork) -> None:
        windows.record_revision(uow, event, pdf_dir)

    return {PackagePublished.TYPE: on_package_published, PeriodActualsFinalized.TYPE: on_period_actuals_finalized,
            TargetsRevised.TYPE: on_targets_revised}
