"""The one place that wires the alerts service: tables, consumers, workers and the API."""

from __future__ import annotations

import logging
from pathlib import Path

from alerts_service.adapters.rule_repository import RuleRepository
from alerts_service.adapters.tables import inbox, outbox
from alerts_service.api import routes_alerts, routes_rules
from alerts_service.api.deps import AlertsWiring
from alerts_service.application.calendar_worker import CalendarWorker
from alerts_service.application.delivery_worker import DeliveryWorker
from alerts_service.consumers.allocation import make_allocation_handlers
from alerts_service.consumers.reference import on_cities_recorded
from alerts_service.consumers.sales import make_sales_handlers
from alerts_service.consumers.weather import make_weather_handlers
from alerts_service.domain.rule_yaml import load_rules_yaml
from alerts_service.settings import AlertsSettings
from shared.consumer import ConsumerSpec
from shared.events.ingestion import CitiesRecorded
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.web import create_service_api

log = logging.getLogger("quotaflow.alerts")
DEFAULT_RULES_FILE = Path(__file__).parent / "rules" / "default_rules.yaml"

DESCRIPTION = """Rules as data (heat spells, calendar windows, sales cliffs, attainment lag), quota
uplifts requested from allocation (idempotent by uplift id), alert history with acknowledgement,
and WeCom group-robot / webhook notifications with a delivery log."""


def build(context: ServiceContext, settings: AlertsSettings | None = None) -> ServiceRuntime:
    settings = settings or AlertsSettings()
    unit_of_work = context.unit_of_work_factory(outbox, inbox)
    delivery = DeliveryWorker(context.sessions, settings)
    _seed_rules(unit_of_work, settings)

    app = create_service_api(
        name=context.name, title="Quotaflow alerts", description=DESCRIPTION,
        routers=[routes_rules.router, routes_alerts.router], authenticator=context.authenticator,
    )
    app.state.alerts = AlertsWiring(context.sessions, unit_of_work, settings, delivery.wake)

    consumers = [
        ConsumerSpec(name="alerts.reference", handlers={CitiesRecorded.TYPE: on_cities_recorded}),
        ConsumerSpec(name="alerts.weather", handlers=make_weather_handlers(settings)),
        ConsumerSpec(name="alerts.sales", handlers=make_sales_handlers(settings)),
        ConsumerSpec(name="alerts.allocation", handlers=make_allocation_handlers(settings)),
    ]
    workers = [delivery, CalendarWorker(unit_of_work, context.clock, settings)]
    return ServiceRuntime(
        name=context.name, app=app, outbox=outbox, unit_of_work=unit_of_work, consumers=consumers, workers=workers
    )


def _seed_rules(unit_of_work, settings: AlertsSettings) -> None:
    files = ([str(DEFAULT_RULES_FILE)] if settings.seed_default_rules else []) + list(settings.seed_rules_files)
    if not files:
        return
    with unit_of_work() as uow:
        repository = RuleRepository(uow.session)
        if repository.current():
            return
        for path in files:
            document = load_rules_yaml(Path(path).read_text(encoding="utf-8"))
            for name, regions in document.groups.items():
                repository.put_group(name, list(regions), uow.now())
            for rule in document.rules:
                repository.save_new(rule, uow.now(), "seed")
        uow.commit()
    log.info("seeded rules from %s", ", ".join(files))


SERVICE = ServiceDefinition(name="alerts", migrations=Path(__file__).parent / "migrations", build=build)
