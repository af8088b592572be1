"""Runs any set of services in one process: databases migrated, relays, consumers and workers
started, each service's API mounted at `/api/v1/<name>`, health and metrics at the root.

Embedded mode: SQLite files and the embedded bus. Distributed mode: PostgreSQL and Kafka. The code
path is the same; only the bus and the database URLs differ.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import func, select, text

from shared.auth import Authenticator, load_api_keys, require_roles
from shared.bus.base import Bus
from shared.bus.embedded import EmbeddedBus
from shared.bus.kafka import KafkaBus
from shared.clock import Clock, ReplayClock, SystemClock
from shared.consumer import EventConsumer
from shared.db import make_engine, session_factory
from shared.docs_pages import install_docs_pages
from shared.events import DEAD_LETTER_TOPIC, registry
from shared.migrations import upgrade
from shared.observability import RequestIdMiddleware
from shared.outbox import OutboxSignal
from shared.problems import ProblemError, install_problem_handlers
from shared.relay import OutboxRelay
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.settings import PlatformSettings, database_url

log = logging.getLogger("quotaflow.host")


def make_bus(platform: PlatformSettings) -> Bus:
    if platform.mode == "embedded":
        platform.data_dir.mkdir(parents=True, exist_ok=True)
        return EmbeddedBus(str((platform.data_dir / "bus.db").resolve()), topic_prefix=platform.topic_prefix)
    return KafkaBus(
        platform.kafka_bootstrap, topic_prefix=platform.topic_prefix, partitions=platform.kafka_partitions
    )


def _clock_from(platform: PlatformSettings) -> Clock:
    if platform.replay_clock_start:
        return ReplayClock(datetime.fromisoformat(platform.replay_clock_start))
    return SystemClock()


class ClockSet(BaseModel):
    now: AwareDatetime


@dataclass
class HostedService:
    definition: ServiceDefinition
    context: ServiceContext
    runtime: ServiceRuntime
    relay: OutboxRelay
    consumers: list[EventConsumer]


class Host:
    def __init__(
        self,
        definitions: Sequence[ServiceDefinition],
        platform: PlatformSettings | None = None,
        *,
        clock: Clock | None = None,
        bus: Bus | None = None,
        database_urls: dict[str, str] | None = None,
    ) -> None:
        self.platform = platform or PlatformSettings()
        self.clock = clock or _clock_from(self.platform)
        self.bus = bus or make_bus(self.platform)
        self.authenticator = Authenticator(
            self.platform.jwt_secret.get_secret_value(),
            self.platform.jwt_issuer,
            load_api_keys(self.platform.api_keys_file),
        )
        self.services: dict[str, HostedService] = {}
        urls = database_urls or {}
        for definition in definitions:
            url = database_url(
                definition.name,
                urls.get(definition.name) or os.environ.get(f"{definition.name.upper()}_DATABASE_URL"),
                self.platform,
            )
            self.services[definition.name] = self._build(definition, url)
        self.started = False

    def _build(self, definition: ServiceDefinition, url: str) -> HostedService:
        engine = make_engine(url)
        upgrade(definition.migrations, engine, definition.version_table)
        signal = OutboxSignal()
        context = ServiceContext(
            name=definition.name,
            platform=self.platform,
            database_url=url,
            engine=engine,
            sessions=session_factory(engine),
            clock=self.clock,
            bus=self.bus,
            authenticator=self.authenticator,
            signal=signal,
            data_dir=self.platform.data_dir / definition.name,
        )
        context.data_dir.mkdir(parents=True, exist_ok=True)
        runtime = definition.build(context)
        relay = OutboxRelay(name=definition.name, engine=engine, outbox=runtime.outbox, bus=self.bus, signal=signal)
        consumers = [EventConsumer(spec, bus=self.bus, unit_of_work=runtime.unit_of_work) for spec in runtime.consumers]
        return HostedService(definition, context, runtime, relay, consumers)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        self.bus.ensure_topics(registry.topics() + [DEAD_LETTER_TOPIC])
        for hosted in self.services.values():
            hosted.relay.start()
        for hosted in self.services.values():
            for consumer in hosted.consumers:
                consumer.start()
            for worker in hosted.runtime.workers:
                worker.start()
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        for hosted in self.services.values():
            for worker in hosted.runtime.workers:
                worker.stop()
        for hosted in self.services.values():
            for consumer in hosted.consumers:
                consumer.stop()
        for hosted in self.services.values():
            hosted.relay.stop()
        self.bus.close()
        for hosted in self.services.values():
            hosted.context.engine.dispose()
        self.started = False

    # -- quiescence (tests, demo, bench) -------------------------------------------------------
    def unsent_events(self) -> int:
        total = 0
        for hosted in self.services.values():
            outbox = hosted.runtime.outbox
            with hosted.context.engine.connect() as connection:
                total += connection.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                ).scalar_one()
        return total

    def consumers_idle_since(self, instant: float) -> bool:
        return all(
            consumer.idle_since is not None and consumer.idle_since >= instant
            for hosted in self.services.values()
            for consumer in hosted.consumers
        )

    def wait_until_quiet(self, timeout: float = 120.0) -> None:
        """Block until every outbox is relayed and every consumer has caught up (twice in a row)."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while time.monotonic() < deadline:
            if self.unsent_events() == 0:
                mark = time.monotonic()
                while time.monotonic() < deadline and not self.consumers_idle_since(mark):
                    time.sleep(0.02)
                if self.unsent_events() == 0 and self.consumers_idle_since(mark):
                    quiet_rounds += 1
                    if quiet_rounds >= 2:
                        return
                    continue
            quiet_rounds = 0
            time.sleep(0.02)
        raise TimeoutError(f"the system did not become quiet within {timeout:.0f}s")

    # -- HTTP ------------------------------------------------------------------------------
    def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        for name, hosted in self.services.items():
            try:
                with hosted.context.engine.connect() as connection:
                    connection.execute(text("select 1"))
                checks[f"db:{name}"] = "ok"
            except Exception as error:  # noqa: BLE001
                checks[f"db:{name}"] = f"error: {error}"
        try:
            self.bus.ping()
            checks[f"bus:{self.bus.kind}"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks[f"bus:{self.bus.kind}"] = f"error: {error}"
        return checks

    def app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_app: FastAPI):
            self.start()
            try:
                yield
            finally:
                self.stop()

        root = FastAPI(
            title="Quotaflow",
            description="Regional sales targets that grow from data. Each service's API is under /api/v1/<service>.",
            version="1.0.0",
            lifespan=lifespan,
            docs_url=None,
            redoc_url=None,
        )
        install_docs_pages(root)
        install_problem_handlers(root)
        root.add_middleware(RequestIdMiddleware)
        root.state.host = self
        root.state.authenticator = self.authenticator

        @root.get("/healthz", tags=["system"])
        def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @root.get("/readyz", tags=["system"])
        def readyz():
            checks = self.readiness()
            ready = all(value == "ok" for value in checks.values())
            return JSONResponse({"status": "ready" if ready else "not_ready", "checks": checks},
                                status_code=200 if ready else 503)

        @root.get("/metrics", tags=["system"])
        def metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        @root.get("/_system/quiet", tags=["system"])
        def quiet() -> dict[str, object]:
            """For drivers of several processes: unsent events, whether every consumer is caught up,
            and how many events were applied so far (unchanged between two looks = nothing moving)."""
            consumers = [consumer for hosted in self.services.values() for consumer in hosted.consumers]
            return {
                "unsent_events": self.unsent_events(),
                "consumers_caught_up": all(consumer.idle_since is not None for consumer in consumers),
                "processed": sum(consumer.processed for consumer in consumers),
            }

        @root.get("/_system/clock", tags=["system"])
        def get_clock() -> dict[str, str]:
            return {"now": self.clock.now().isoformat(), "kind": type(self.clock).__name__}

        @root.put("/_system/clock", tags=["system"], dependencies=[require_roles("admin")])
        def set_clock(body: ClockSet) -> dict[str, str]:
            """Move a replay clock forward (development and tests only; admin role)."""
            if not isinstance(self.clock, ReplayClock):
                raise ProblemError(409, "clock_not_replayable", "This host runs on the real clock")
            try:
                self.clock.set(body.now)
            except ValueError as error:
                raise ProblemError(409, "clock_backwards", str(error)) from error
            return {"now": self.clock.now().isoformat(), "kind": "ReplayClock"}

        for name, hosted in self.services.items():
            root.mount(f"/api/v1/{name}", hosted.runtime.app)

        def combined_openapi():
            if root.openapi_schema:
                return root.openapi_schema
            schema = FastAPI.openapi(root)
            schema["security"] = [{"bearer": []}, {"apiKey": []}]
            for name, hosted in self.services.items():
                sub = hosted.runtime.app.openapi()
                for path, item in sub.get("paths", {}).items():
                    schema.setdefault("paths", {})[f"/api/v1/{name}{path}"] = item
                for key, value in sub.get("components", {}).items():
                    schema.setdefault("components", {}).setdefault(key, {}).update(value)
            root.openapi_schema = schema
            return schema

        root.openapi = combined_openapi
        return root
