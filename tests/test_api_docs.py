"""docs/openapi/*.json are what the services serve (regenerate with `make docs`)."""

import json
from pathlib import Path

from fastapi.testclient import TestClient

from services.catalog import ALL_SERVICES, load_all

ROOT = Path(__file__).resolve().parents[1]


def test_openapi_documents_are_up_to_date(embedded_host):
    host = embedded_host(load_all(list(ALL_SERVICES)))
    with TestClient(host.app()) as client:
        for name in ALL_SERVICES:
            served = client.get(f"/api/v1/{name}/openapi.json").json()
            committed = json.loads((ROOT / "docs" / "openapi" / f"{name}.json").read_text(encoding="utf-8"))
            assert served == committed, f"docs/openapi/{name}.json is stale: run `make docs`"
        combined = client.get("/openapi.json").json()
    assert set(combined["paths"]) >= {"/api/v1/allocation/packages", "/api/v1/negotiation/windows", "/healthz"}
