"""The one place that wires ingestion's adapters into its handlers: API, workers and tests build from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from ingestion_service.adapters.raw_store import RawFileStore
from ingestion_service.adapters.read_sessions import ReadSessions
from ingestion_service.adapters.tables import inbox, outbox
from ingestion_service.api import routes_facts, routes_imports, routes_pulls
from ingestion_service.application.importer import Importer
from ingestion_service.application.progress import ProgressBoard
from ingestion_service.application.pulls import PullScheduler, load_pull_sources
from ingestion_service.application.worker import ImportWorker
from ingestion_service.config import load_historical_names, load_region_map
from ingestion_service.settings import IngestionSettings
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.web import create_service_api

DESCRIPTION = """Pull and upload CRM, ERP and weather feeds; validate without losing anything; publish facts.

Upload a file with `POST /imports?kind=...` (multipart `file`): the answer is `202` with an import
job. Follow it with `GET /imports/{id}`; rejected rows are listed in `GET /imports/{id}/errors.csv`.
Kinds: cities, outlets, sales_wide, sales_long, fulfilment, weather, weather_warnings."""


@dataclass
class IngestionService:
    settings: IngestionSettings
    sessions: ReadSessions | sessionmaker
    importer: Importer
    worker: ImportWorker
    progress: ProgressBoard
    pulls: PullScheduler


def build(context: ServiceContext, settings: IngestionSettings | None = None) -> ServiceRuntime:
    settings = settings or IngestionSettings()
    unit_of_work = context.unit_of_work_factory(outbox, inbox)
    progress = ProgressBoard()
    read_sessions = ReadSessions(context.database_url, context.engine, context.sessions)
    importer = Importer(
        unit_of_work=unit_of_work, sessions=read_sessions, raw_store=RawFileStore(context.data_dir / "raw"),
        regions=load_region_map(settings.region_map), historical_names=load_historical_names(), progress=progress,
    )
    worker = ImportWorker(importer)
    pulls = PullScheduler(load_pull_sources(settings.pull_sources), importer=importer, worker=worker,
                          unit_of_work=unit_of_work, clock=context.clock, poll_seconds=settings.pull_poll_seconds)
    service = IngestionService(settings, read_sessions, importer, worker, progress, pulls)
    app = create_service_api(
        name="ingestion", title="Quotaflow ingestion", description=DESCRIPTION,
        routers=[routes_imports.build_router(service), routes_facts.build_router(service),
                 routes_pulls.build_router(service)],
        authenticator=context.authenticator,
    )
    app.state.ingestion = service
    return ServiceRuntime(name=context.name, app=app, outbox=outbox, unit_of_work=unit_of_work,
                          consumers=[], workers=[worker, pulls, read_sessions])


SERVICE = ServiceDefinition(name="ingestion", migrations=Path(__file__).parent / "migrations", build=build)
