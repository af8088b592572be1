import json
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ingestion_service.config import load_historical_names, load_region_map
from ingestion_service.domain.cities import City, CityDirectory
from sqlalchemy import select

DATA_DIR = Path(os.environ.get("DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").exists():
        pytest.fail(f"the real data is expected under {DATA_DIR} (set DATA_DIR)")
    return DATA_DIR


@pytest.fixture(scope="session")
def regions():
    return load_region_map()


@pytest.fixture()
def small_directory():
    return CityDirectory(
        [
            City("330100", "杭州市", "浙江省", "华东"),
            City("330200", "宁波市", "浙江省", "华东"),
            City("530800", "普洱市", "云南省", "西南"),
        ],
        load_historical_names(),
    )



# -- API helpers: upload through the real API and wait for the job ---------------------------------
BASE = "/api/v1/ingestion"


class IngestionApi:
    def __init__(self, host, client) -> None:
        self.host = host
        self.client = client
        self.headers = self.auth("hq_planner")

    def auth(self, *roles: str) -> dict[str, str]:
        token = self.host.authenticator.mint("u_planner", list(roles))
        return {"Authorization": f"Bearer {token}"}

    def upload(self, kind: str, data: bytes, filename: str = "upload.csv", headers=None):
        return self.client.post(f"{BASE}/imports", params={"kind": kind}, headers=headers or self.headers,
                                files={"file": (filename, data, "application/octet-stream")})

    def wait_for_job(self, job_id: str, timeout: float = 600.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.client.get(f"{BASE}/imports/{job_id}", headers=self.headers).json()
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.02)
        raise TimeoutError(f"job {job_id} did not finish")

    def import_and_wait(self, kind: str, data: bytes, filename: str = "upload.csv") -> dict:
        response = self.upload(kind, data, filename)
        assert response.status_code == 202, response.text
        return self.wait_for_job(response.json()["id"])

    def get(self, path: str, **kwargs):
        return self.client.get(f"{BASE}{path}", headers=kwargs.pop("headers", self.headers), **kwargs)

    def outbox_events(self, event_type: str | None = None) -> list[dict]:
        hosted = self.host.services["ingestion"]
        outbox = hosted.runtime.outbox
        query = select(outbox.c.event_type, outbox.c.event_key, outbox.c.envelope).order_by(outbox.c.id)
        with hosted.context.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [{"type": row.event_type, "key": row.event_key, **json.loads(row.envelope)}
                for row in rows if event_type is None or row.event_type == event_type]


@pytest.fixture
def api(embedded_host):
    from ingestion_service.bootstrap import SERVICE

    host = embedded_host([SERVICE])
    with TestClient(host.app()) as client:
        yield IngestionApi(host, client)


@pytest.fixture
def api_factory(embedded_host):
    """Build the API after the test has set its environment (e.g. INGESTION_PULL_SOURCES)."""
    from ingestion_service.bootstrap import SERVICE

    clients = []

    def factory(clock=None) -> IngestionApi:
        host = embedded_host([SERVICE], clock=clock)
        client = TestClient(host.app())
        client.__enter__()
        clients.append(client)
        return IngestionApi(host, client)

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def pg_api(pg_host):
    """The same API on the real PostgreSQL (fresh database) with the embedded bus."""
    from ingestion_service.bootstrap import SERVICE

    host = pg_host([SERVICE])
    with TestClient(host.app()) as client:
        yield IngestionApi(host, client)
