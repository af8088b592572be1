"""The one place that wires the negotiation service: API, consumers, the window-closing worker."""

from __future__ import annotations

from pathlib import Path

from negotiation_service.adapters.audit_store import ensure_audit_head
from negotiation_service.adapters.tables import inbox, outbox
from negotiation_service.api.deps import RouteDeps, install_domain_error_handler
from negotiation_service.api.routes_records import records_router
from negotiation_service.api.routes_requests import requests_router
from negotiation_service.consumers.handlers import make_handlers
from negotiation_service.scheduler import WindowCloser
from negotiation_service.settings import NegotiationSettings
from shared.consumer import ConsumerSpec
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.web import create_service_api

DESCRIPTION = """A 72-hour negotiation window on each published target package: adjustment requests
with reasons, joint approval by the regional director and finance, a final version that keeps head
office's total, an archived PDF, a hash-chained audit trail and the integrity record (诚信档案)."""


def build(context: ServiceContext, settings: NegotiationSettings | None = None) -> ServiceRuntime:
    settings = settings or NegotiationSettings()
    ensure_audit_head(context.engine)
    unit_of_work = context.unit_of_work_factory(outbox, inbox)
    pdf_dir = context.data_dir / "pdf"
    deps = RouteDeps(unit_of_work=unit_of_work, sessions=context.sessions, pdf_dir=pdf_dir)
    app = create_service_api(
        name=context.name, title="Quotaflow negotiation", description=DESCRIPTION,
        routers=[requests_router(deps), records_router(deps)], authenticator=context.authenticator,
    )
    install_domain_error_handler(app)
    closer = WindowCloser(unit_of_work, context.clock, pdf_dir, settings.scheduler_poll_seconds,
                          settings.replica_id)
    consumer = ConsumerSpec(name="negotiation.windows", handlers=make_handlers(settings, pdf_dir))
    return ServiceRuntime(name=context.name, app=app, outbox=outbox, unit_of_work=unit_of_work,
                          consumers=[consumer], workers=[closer])


SERVICE = ServiceDefinition(name="negotiation", migrations=Path(__file__).parent / "migrations", build=build)
