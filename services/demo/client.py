"""What the demo does over REST, as its people would: bearer tokens per person, uploads followed
as import jobs, JSON calls that fail loudly with the service's problem document."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.system import RunningSystem


class DemoError(RuntimeError):
    """A step of the scenario did not go as a user would expect."""


class Client:
    def __init__(self, system: RunningSystem) -> None:
        self.system = system
        self.http = system.http
        self.tokens: dict[str, str] = {}

    def login(self, who: str, roles: list[str], regions: list[str] = (), cities: list[str] = (),
              name: str | None = None) -> None:
        self.tokens[who] = self.system.authenticator.mint(who, roles, regions=regions, cities=cities, name=name)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, service: str, path: str, *, expect: tuple[int, ...] = (200, 201),
             headers: Mapping[str, str] | None = None, **kwargs) -> Any:
        response = self.http.request(method, self.system.api(service, path),
                                     headers={**self.headers(who), **(headers or {})}, **kwargs)
        if response.status_code not in expect:
            raise DemoError(f"{method} /api/v1/{service}{path} as {who} answered {response.status_code}: "
                            f"{response.text[:2000]}")
        content_type = response.headers.get("content-type", "")
        return response.json() if content_type.startswith(("application/json", "application/problem+json")) \
            else response

    def get(self, who: str, service: str, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.call(who, "GET", service, path, params=params)

    def post(self, who: str, service: str, path: str, body: Any = None, **kwargs) -> Any:
        return self.call(who, "POST", service, path, json=body, **kwargs)

    def get_all(self, who: str, service: str, path: str, params: Mapping[str, Any] | None = None,
                page: int = 1000) -> list:
        """Every item of an offset-paged list."""
        items: list = []
        while True:
            batch = self.get(who, service, path, {**(params or {}), "limit": page, "offset": len(items)})
            items.extend(batch)
            if len(batch) < page:
                return items

    def upload(self, who: str, path: Path, kind: str, timeout: float = 1800.0) -> dict:
        """POST /ingestion/imports (202) and follow the job until it has run."""
        with path.open("rb") as handle:
            job = self.call(who, "POST", "ingestion", "/imports", expect=(202,), params={"kind": kind},
                            files={"file": (path.name, handle, "text/csv")})
        deadline = time.monotonic() + timeout
        pause = 0.02
        while job["status"] not in ("succeeded", "failed"):
            if time.monotonic() > deadline:
                raise DemoError(f"import job {job['id']} ({kind}, {path.name}) did not finish in {timeout:.0f}s")
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)  # a day's upload runs in well under a second: look often
            job = self.get(who, "ingestion", f"/imports/{job['id']}")
        if job["status"] != "succeeded":
            raise DemoError(f"import of {path.name} as {kind} failed: {job['problem_code']}: {job['problem_detail']}")
        return job
