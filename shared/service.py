"""What a service gives the composition root, and what the root gives a service.

Each service's `bootstrap.py` exposes `SERVICE = ServiceDefinition(...)`; its `build(context)` wires
adapters into handlers and returns a `ServiceRuntime`. The API, the consumers and the tests all
build from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI
from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from shared.auth import Authenticator
from shared.bus.base import Bus
from shared.clock import Clock
from shared.consumer import ConsumerSpec
from shared.outbox import OutboxSignal, UnitOfWork
from shared.settings import PlatformSettings


class Worker(Protocol):
    """A background activity (a scheduler, a puller): started after migrations, stopped before the bus."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class ServiceContext:
    name: str
    platform: PlatformSettings
    database_url: str
    engine: Engine
    sessions: sessionmaker
    clock: Clock
    bus: Bus
    authenticator: Authenticator
    signal: OutboxSignal
    data_dir: Path

    def unit_of_work_factory(self, outbox: Table, inbox: Table) -> Callable[[], UnitOfWork]:
        def factory() -> UnitOfWork:
            return UnitOfWork(
                self.sessions, outbox, inbox, producer=self.name, clock=self.clock, signal=self.signal
            )

        return factory


@dataclass
class ServiceRuntime:
    name: str
    app: FastAPI
    outbox: Table
    unit_of_work: Callable[[], UnitOfWork]
    consumers: list[ConsumerSpec] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    migrations: Path
    build: Callable[[ServiceContext], ServiceRuntime]
    database_url_env: str = ""

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"
