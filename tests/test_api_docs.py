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


def test_docs_pages_load_their_assets_from_the_service_not_a_cdn(embedded_host):
    host = embedded_host(load_all(["allocation"]))
    with TestClient(host.app()) as client:
        for prefix in ("", "/api/v1/allocation"):
            for page, assets in (("docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("redoc", ("redoc.standalone.js",))):
                html = client.get(f"{prefix}/{page}")
                assert html.status_code == 200 and "cdn." not in html.text and "googleapis" not in html.text
                assert f"{prefix}/openapi.json" in html.text
                for asset in assets:
                    url = f"{prefix}/_docs-assets/{asset}"
                    assert url in html.text
                    served = client.get(url)
                    assert served.status_code == 200 and len(served.content) > 100_000, url
