"""Host fixtures on SQLite + embedded bus, on the real PostgreSQL, and on the real Kafka broker.

PostgreSQL and Kafka come from the environment that `make test` sets up:
`QUOTAFLOW_TEST_PG_URL` (an admin URL of the running server) and `QUOTAFLOW_TEST_KAFKA`
(bootstrap servers). A test that needs one of them FAILS, never skips, when it is missing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.bus.kafka import KafkaBus
from shared.clock import Clock
from shared.hosting import Host
from shared.service import ServiceDefinition
from shared.settings import PlatformSettings

HostFactory = Callable[..., Host]

_current_test: list[str] = [""]
_used: dict[str, set[str]] = {"postgres": set(), "kafka": set()}


@pytest.fixture(autouse=True)
def _remember_current_test(request):
    _current_test[0] = request.node.nodeid
    yield


def pytest_terminal_summary(terminalreporter):
    """Say how many tests ran on the real components (they fail, never skip, when those are missing)."""
    terminalreporter.section("real components")
    terminalreporter.write_line(
        f"{len(_used['postgres'])} tests ran on the real PostgreSQL ({os.environ.get('QUOTAFLOW_TEST_PG_URL', 'not set')})"
    )
    terminalreporter.write_line(
        f"{len(_used['kafka'])} tests ran on the real Kafka broker ({os.environ.get('QUOTAFLOW_TEST_KAFKA', 'not set')})"
    )


def pg_admin_url() -> str:
    url = os.environ.get("QUOTAFLOW_TEST_PG_URL")
    if not url:
        pytest.fail("QUOTAFLOW_TEST_PG_URL is not set: run the tests with `make test` (it starts PostgreSQL)")
    _used["postgres"].add(_current_test[0])
    return url


def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("QUOTAFLOW_TEST_KAFKA")
    if not bootstrap:
        pytest.fail("QUOTAFLOW_TEST_KAFKA is not set: run the tests with `make test` (it starts Kafka)")
    _used["kafka"].add(_current_test[0])
    return bootstrap


def create_pg_database(prefix: str) -> str:
    """A fresh database on the test server; returns its SQLAlchemy URL."""
    admin = make_url(pg_admin_url())
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def platform_for(tmp_path: Path, mode: str = "embedded", **overrides) -> PlatformSettings:
    return PlatformSettings(
        environment="test", mode=mode, data_dir=tmp_path / "data", topic_prefix=overrides.pop("topic_prefix", ""),
        **overrides,
    )


@pytest.fixture
def embedded_host(tmp_path: Path) -> Iterator[HostFactory]:
    hosts: list[Host] = []

    def factory(definitions: Sequence[ServiceDefinition], clock: Clock | None = None, **settings) -> Host:
        platform = platform_for(tmp_path, **settings)
        # explicit SQLite files: never pick up a *_DATABASE_URL from the environment
        urls = {d.name: f"sqlite:///{(platform.data_dir / f'{d.name}.db').resolve()}" for d in definitions}
        host = Host(definitions, platform, clock=clock, database_urls=urls)
        hosts.append(host)
        return host

    yield factory
    for host in hosts:
        host.stop()


@pytest.fixture
def pg_host(tmp_path: Path) -> Iterator[HostFactory]:
    """Services on the real PostgreSQL (one fresh database each) with the embedded bus."""
    hosts: list[Host] = []

    def factory(definitions: Sequence[ServiceDefinition], clock: Clock | None = None, **settings) -> Host:
        urls = {definition.name: create_pg_database(f"t_{definition.name}") for definition in definitions}
        host = Host(definitions, platform_for(tmp_path, **settings), clock=clock, database_urls=urls)
        hosts.append(host)
        return host

    yield factory
    for host in hosts:
        host.stop()


@pytest.fixture
def kafka_host(tmp_path: Path) -> Iterator[HostFactory]:
    """Services on the real PostgreSQL and the real Kafka broker (topics under a fresh prefix)."""
    hosts: list[Host] = []

    def factory(definitions: Sequence[ServiceDefinition], clock: Clock | None = None, **settings) -> Host:
        prefix = settings.pop("topic_prefix", f"t{uuid.uuid4().hex[:8]}.")
        platform = platform_for(tmp_path, mode="distributed", topic_prefix=prefix, **settings)
        urls = {definition.name: create_pg_database(f"t_{definition.name}") for definition in definitions}
        bus = KafkaBus(kafka_bootstrap(), topic_prefix=prefix, partitions=platform.kafka_partitions)
        host = Host(definitions, platform, clock=clock, bus=bus, database_urls=urls)
        hosts.append(host)
        return host

    yield factory
    for host in hosts:
        host.stop()
