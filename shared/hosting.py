"""Runs any set of services in one process: databases migrated, relays, consumers and workers
started, each service's API mounted at `/api/v1/<name>`, health and metrics at the root.

Embedded mode: SQLite files and the embedded bus. Distributed mode: PostgreSQL and Kafka. The code
path is the same; only the bus and the database URLs differ.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
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

    def quiet_state(self) -> dict[str, object]:
        """What a quiet check needs, read in this order: the end of the bus log (`log_end`, a number
        that grows with every record appended; -1 while a publish is in flight), the consumers' lag
        (`backlog`), the unsent outbox rows, and whether every worker that follows the clock has seen
        its current date (`settled`).

        Quiet means: in every process `backlog == 0`, `unsent_events == 0` and `settled`, and the
        log end read AFTER all of them equal to the first `log_end`. That is sound because a handler
        commits its outbox rows before its bus offset and a relay appends to the log before it marks
        its rows sent: a row written after its outbox was counted comes from a record that was
        either still uncommitted (counted in `backlog`) or appended after `log_end` was read."""
        log_end = self.bus.log_end()
        consumers = [consumer for hosted in self.services.values() for consumer in hosted.consumers]
        backlog = sum(self.bus.backlog(consumer.spec.name, consumer.spec.topics) for consumer in consumers)
        return {
            "log_end": -1 if log_end is None else log_end,
            "backlog": backlog,
            "unsent_events": self.unsent_events(),
            "settled": all(worker.settled() for hosted in self.services.values()
                           for worker in hosted.runtime.workers if hasattr(worker, "settled")),
            "processed": sum(consumer.processed for consumer in consumers),
        }

    def wait_until_quiet(self, timeout: float = 120.0, settle: float = 0.02) -> None:
        """Block until nothing is left to do in this host (see `quiet_state`)."""
        wait_until_quiet(lambda: [self.quiet_state()], self.bus.log_end, timeout, settle)

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
            """For drivers of several processes: the end of the bus log, the consumers' lag, unsent
            outbox rows, whether clock-following workers have settled, events applied so far.
            Quiet = in every process no lag, no unsent row, settled, and the log end read after
            them all unchanged (see `Host.quiet_state`). 503 while the bus cannot say."""
            try:
                return self.quiet_state()
            except Exception as error:  # noqa: BLE001 - e.g. the broker's group coordinator is loading
                return JSONResponse({"detail": f"{type(error).__name__}: {error}"}, status_code=503)

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


def wait_until_quiet(look: Callable[[], list[dict]], log_end: Callable[[], int], timeout: float,
                     settle: float) -> None:
    """Look (`Host.quiet_state` of every process, in turn) until every process is quiet and the
    log end read afterwards is still the one the first look began with."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    pause = settle  # doubled up to 0.1 s: a long wait must not take the CPU from the work it waits for
    while time.monotonic() < deadline:
        try:
            states = look()
            if (states[0]["log_end"] >= 0
                    and all(s["backlog"] == 0 and s["unsent_events"] == 0 and s["settled"] for s in states)
                    and log_end() == states[0]["log_end"]):
                return
        except Exception as error:  # noqa: BLE001 - e.g. a broker restarting its group coordinator: look again
            last_error = error
        time.sleep(pause)
        pause = min(pause * 2, max(settle, 0.1))
    detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
    raise TimeoutError(f"the system did not become quiet within {timeout:.0f}s{detail}")
