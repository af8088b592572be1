"""The one place that wires the allocation service: tables, units of work, API, consumers."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from allocation_service.adapters.tables import inbox, outbox
from allocation_service.api import routes_packages, routes_scenarios, routes_views
from allocation_service.api.deps import AllocationContext
from allocation_service.application.attainment import on_daily_sales
from allocation_service.application.packages import on_targets_finalized, on_uplift_requested
from allocation_service.consumers.facts import on_cities_recorded, on_fulfilment_recorded, on_outlets_recorded
from allocation_service.settings import AllocationSettings
from shared.consumer import ConsumerSpec
from shared.events.alerts import UpliftRequested
from shared.events.ingestion import CitiesRecorded, DailySalesRecorded, FulfilmentRecorded, OutletsRecorded
from shared.events.negotiation import TargetsFinalized
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.web import create_service_api

DESCRIPTION = """Targets that grow from data: heat map, tiers, target models, exact reconciliation to a
head-office total, phasing by last year's daily shape (Chinese holidays aware), expense budgets,
scenarios → immutable package versions, and live attainment."""


def build(context: ServiceContext, settings: AllocationSettings | None = None) -> ServiceRuntime:
    settings = settings or AllocationSettings()
    unit_of_work = context.unit_of_work_factory(outbox, inbox)
    ctx = AllocationContext(
        unit_of_work=unit_of_work, sessions=context.sessions, clock=context.clock, settings=settings,
        data_dir=context.data_dir, cache_key=context.database_url,
    )
    app = create_service_api(
        name="allocation", title="Quotaflow allocation", description=DESCRIPTION,
        routers=[routes_views.build_router(ctx), routes_scenarios.build_router(ctx), routes_packages.build_router(ctx)],
        authenticator=context.authenticator,
    )
    facts = ConsumerSpec(
        name="allocation.facts",
        handlers={
            DailySalesRecorded.TYPE: partial(on_daily_sales, cache_key=ctx.cache_key,
                                             throttle_seconds=settings.attainment_throttle_seconds),
            OutletsRecorded.TYPE: on_outlets_recorded,
            CitiesRecorded.TYPE: on_cities_recorded,
            FulfilmentRecorded.TYPE: on_fulfilment_recorded,
        },
    )
    uplifts = ConsumerSpec(
        name="allocation.uplifts",
        handlers={UpliftRequested.TYPE: partial(on_uplift_requested, cache_key=ctx.cache_key)},
    )
    negotiated = ConsumerSpec(
        name="allocation.negotiation",
        handlers={TargetsFinalized.TYPE: partial(on_targets_finalized, cache_key=ctx.cache_key)},
    )
    return ServiceRuntime(name=context.name, app=app, outbox=outbox, unit_of_work=unit_of_work,
                          consumers=[facts, uplifts, negotiated])


SERVICE = ServiceDefinition(name="allocation", migrations=Path(__file__).parent / "migrations", build=build)
