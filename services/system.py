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
from shared.hosting import wait_until_quiet
from shared.settings import PlatformSettings

NOT_QUIET = {"log_end": -1, "backlog": 1, "unsent_events": 1, "settled": False}

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

    def wait_quiet(self, timeout: float = 300.0, settle: float = 0.05) -> None:
        """Until nothing is left to do in any process (`Host.quiet_state`, over HTTP)."""

        def look() -> list[dict]:
            states = []
            for base in self.processes():  # in turn: the first one's log end is read before every other look
                response = self.http.get(f"{base}/_system/quiet")
                states.append(response.json() if response.status_code == 200 else NOT_QUIET)  # e.g. a busy database
            return states

        def log_end() -> int:
            response = self.http.get(f"{self.processes()[0]}/_system/quiet")
            return response.json()["log_end"] if response.status_code == 200 else -1

        wait_until_quiet(look, log_end, timeout, settle)

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

    def wait_quiet(self, timeout: float = 300.0, settle: float = 0.01) -> None:
        """In this process, without HTTP (`Host.wait_until_quiet`)."""
        self.host.wait_until_quiet(timeout, settle)

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
