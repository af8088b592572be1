"""Start the whole system and drive it over HTTP: embedded (one process) or distributed (one process
per service over Kafka and PostgreSQL). The demo, the e2e tests and the benchmarks use the same
driver, so what they check is what a user would see through REST."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import httpx
import uvicorn

from services.catalog import ALL_SERVICES, load_all
from shared.auth import Authenticator
from shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningSystem:
    """What a driver needs: a base URL per service, a clock to move, a way to wait until quiet."""

    def __init__(self, urls: dict[str, str], authenticator: Authenticator) -> None:
        self.urls = urls
        self.authenticator = authenticator
        self.http = httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0))

    def api(self, service: str, path: str) -> str:
        return f"{self.urls[service]}/api/v1/{service}{path}"

    def processes(self) -> list[str]:
        return sorted(set(self.urls.values()))

    def set_clock(self, instant: datetime) -> None:
        token = self.authenticator.mint("system-driver", ["admin"])
        for base in self.processes():
            response = self.http.put(f"{base}/_system/clock", json={"now": instant.isoformat()},
                                     headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()

    def wait_quiet(self, timeout: float = 300.0, settle: float = 0.25) -> None:
        """Until no outbox holds unsent events, every consumer is caught up and nothing was applied
        between two looks across every process."""
        deadline = time.monotonic() + timeout
        previous = None
        while time.monotonic() < deadline:
            responses = [self.http.get(f"{base}/_system/quiet") for base in self.processes()]
            if any(response.status_code != 200 for response in responses):  # e.g. a busy database: look again
                previous = None
                time.sleep(settle)
                continue
            states = [response.json() for response in responses]
            quiet = all(s["unsent_events"] == 0 and s["consumers_caught_up"] for s in states)
            processed = [s["processed"] for s in states]
            if quiet and processed == previous:
                return
            previous = processed if quiet else None
            time.sleep(settle)
        raise TimeoutError(f"the system did not become quiet within {timeout:.0f}s")

    def let_workers_catch_up(self) -> None:
        """Give the workers that follow the clock (alerts' calendar) time to see its last move:
        they poll about once a second in their own processes."""
        time.sleep(2.5)

    def close(self) -> None:
        self.http.close()


class EmbeddedSystem(RunningSystem):
    """All services in this process (uvicorn in a thread), SQLite files, the embedded bus."""

    def __init__(self, platform: PlatformSettings, port: int | None = None) -> None:
        from shared.hosting import Host

        self.host = Host(load_all(list(ALL_SERVICES)), platform)
        self.port = port or free_port()
        config = uvicorn.Config(self.host.app(), host="127.0.0.1", port=self.port, log_config=None,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)
        self.thread.start()
        base = f"http://127.0.0.1:{self.port}"
        super().__init__({name: base for name in ALL_SERVICES}, self.host.authenticator)
        _wait_ready(self.http, [base])

    def set_clock(self, instant: datetime) -> None:
        """Through REST like any driver; then the workers that follow the clock look at once
        instead of at their next poll."""
        super().set_clock(instant)
        for worker in self._workers():
            if hasattr(worker, "wake"):
                worker.wake()

    def wait_quiet(self, timeout: float = 300.0, settle: float = 0.03, looks: int = 3) -> None:
        """In this process, without HTTP: no outbox holds unsent events, every consumer is idle,
        every worker that follows the clock has seen its current date (`settled()`), and nothing
        was applied across `looks` looks `settle` seconds apart. A consumer counts as idle from
        its last empty poll until its next poll returns records, so a record just appended can
        look idle for a moment: the repeated looks, with the relays' and consumers' counts
        unchanged, cover that."""
        deadline = time.monotonic() + timeout
        consumers = [consumer for hosted in self.host.services.values() for consumer in hosted.consumers]
        previous, stable = None, 0
        while time.monotonic() < deadline:
            processed = [consumer.processed for consumer in consumers]
            # consumers idle before and after the outbox count: an event relayed in between is seen
            quiet = (all(consumer.idle_since is not None for consumer in consumers)
                     and all(worker.settled() for worker in self._workers() if hasattr(worker, "settled"))
                     and self.host.unsent_events() == 0
                     and all(consumer.idle_since is not None for consumer in consumers))
            stable = stable + 1 if quiet and processed == previous else (1 if quiet else 0)
            if stable >= looks:
                return
            previous = processed if quiet else None
            time.sleep(settle)
        raise TimeoutError(f"the system did not become quiet within {timeout:.0f}s")

    def let_workers_catch_up(self) -> None:
        pass  # they are woken by `set_clock`, and `wait_quiet` waits until they have settled

    def _workers(self) -> list:
        return [worker for hosted in self.host.services.values() for worker in hosted.runtime.workers]

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        super().close()


class DistributedSystem(RunningSystem):
    """One `python -m services run --target <name> --mode distributed` process per service."""

    def __init__(self, env: dict[str, str], log_dir: Path, ports: dict[str, int] | None = None) -> None:
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        ports = ports or {name: free_port() for name in ALL_SERVICES}
        self.children: dict[str, subprocess.Popen] = {}
        full_env = {**os.environ, **env, "QUOTAFLOW_MODE": "distributed"}
        for name in ALL_SERVICES:
            log = open(log_dir / f"{name}.log", "wb")
            self.children[name] = subprocess.Popen(
                [sys.executable, "-m", "services", "run", "--target", name, "--mode", "distributed",
                 "--port", str(ports[name])],
                cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        platform = PlatformSettings(**_platform_overrides(full_env))
        authenticator = Authenticator(platform.jwt_secret.get_secret_value(), platform.jwt_issuer)
        urls = {name: f"http://127.0.0.1:{ports[name]}" for name in ALL_SERVICES}
        super().__init__(urls, authenticator)
        try:
            _wait_ready(self.http, list(urls.values()), children=self.children, log_dir=log_dir)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        super().close()


def _platform_overrides(env: dict[str, str]) -> dict[str, str]:
    return {key[len("QUOTAFLOW_"):].lower(): value for key, value in env.items()
            if key in ("QUOTAFLOW_JWT_SECRET", "QUOTAFLOW_JWT_ISSUER")}


def _wait_ready(http: httpx.Client, bases: list[str], *, timeout: float = 120.0,
                children: dict[str, subprocess.Popen] | None = None, log_dir: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    pending = list(bases)
    while pending and time.monotonic() < deadline:
        for name, child in (children or {}).items():
            if child.poll() is not None:
                tail = (log_dir / f"{name}.log").read_text(errors="replace")[-3000:] if log_dir else ""
                raise RuntimeError(f"service {name} exited with {child.returncode}:\n{tail}")
        for base in list(pending):
            try:
                if http.get(f"{base}/readyz", timeout=5).status_code == 200:
                    pending.remove(base)
            except httpx.HTTPError:
                pass
        time.sleep(0.3)
    if pending:
        raise TimeoutError(f"not ready within {timeout:.0f}s: {pending}")
