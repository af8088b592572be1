"""Scheduled HTTP pulls against a real local HTTP server playing the CRM and the weather service."""

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ingestion_service.adapters.http_pull import HttpFetcher, PullError

from shared.clock import ReplayClock
from shared.timeutil import SHANGHAI

CITIES = "city_adcode,city,province\n330100,杭州市,浙江省\n".encode()
OUTLETS = "shop_id,city_name,cate_1_name\n1,杭州,美食\n".encode()
PAGE_1 = b"date,shop_id,pay_count\n2016-07-01,1,10\n"
PAGE_2 = b"date,shop_id,pay_count\n2016-07-02,1,12\n2016-07-03,9,1\n"
OPEN_METEO = json.dumps({
    "latitude": 30.25, "longitude": 120.125,
    "daily": {"time": ["2016-07-02", "2016-07-03"], "temperature_2m_max": [35.0, 36.4],
              "temperature_2m_min": [26.1, None], "weather_code": [1, 95]},
}).encode()


class Peer(BaseHTTPRequestHandler):
    """The CRM: /sales pages with ETag, cursor and Link; fails the first request with 503."""

    log: list[tuple[str, str | None]] = []
    fail_next = 1

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Peer.log.append((self.path, self.headers.get("If-None-Match")))
        if self.path.startswith("/sales") and Peer.fail_next:
            Peer.fail_next -= 1
            return self._send(503, b"busy", [("Retry-After", "0")])
        if self.path == "/sales" or self.path.startswith("/sales?"):
            if self.headers.get("If-None-Match") == '"v1"':
                return self._send(304)
            return self._send(200, PAGE_1, [("ETag", '"v1"'), ("Link", '</sales/page2>; rel="next"'),
                                            ("Content-Type", "text/csv")])
        if self.path == "/sales/page2":
            return self._send(200, PAGE_2, [("X-Next-Cursor", "2016-07-03"), ("Content-Type", "text/csv")])
        if self.path.startswith("/forecast"):
            return self._send(200, OPEN_METEO, [("Content-Type", "application/json")])
        if self.path == "/forbidden":
            return self._send(403, b"no")
        return self._send(404)


@pytest.fixture
def peer():
    Peer.log, Peer.fail_next = [], 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _sources(tmp_path, base: str, poll: str, monkeypatch):
    path = tmp_path / "sources.yaml"
    path.write_text(f"""
sources:
  - name: crm-sales
    url: {base}/sales
    kind: sales_long
    every_seconds: 3600
    cursor_param: since
  - name: hangzhou-forecast
    url: {base}/forecast?latitude=30.25&longitude=120.125&daily=temperature_2m_max,temperature_2m_min,weather_code
    kind: weather
    format: open_meteo
    city: 杭州
    weather_kind: forecast
    every_seconds: 3600
""", encoding="utf-8")
    monkeypatch.setenv("INGESTION_PULL_SOURCES", str(path))
    monkeypatch.setenv("INGESTION_PULL_POLL_SECONDS", poll)


def test_pull_with_retry_pagination_etag_and_cursor(api_factory, peer, tmp_path, monkeypatch):
    _sources(tmp_path, peer, "3600", monkeypatch)
    api = api_factory()
    api.import_and_wait("cities", CITIES)
    api.import_and_wait("outlets", OUTLETS)

    first = api.client.post("/api/v1/ingestion/pulls/crm-sales/run", headers=api.headers).json()
    assert first["status"] == "submitted"
    jobs = [api.wait_for_job(job_id) for job_id in first["job_ids"]]
    assert [(j["source"], j["accepted"], j["rejected"]) for j in jobs] == [
        ("pull:crm-sales", 1, 0), ("pull:crm-sales", 1, 1)]
    assert Peer.log == [("/sales", None), ("/sales", None), ("/sales/page2", None)]

    second = api.client.post("/api/v1/ingestion/pulls/crm-sales/run", headers=api.headers).json()
    assert (second["status"], second["job_ids"]) == ("not_modified", [])
    assert Peer.log[-1] == ("/sales?since=2016-07-03", '"v1"')
    total = api.get("/sales/total", params={"start": "2016-07-01", "end": "2016-07-31"}).json()
    assert total["orders"] == 22


def test_open_meteo_forecast_pull(api_factory, peer, tmp_path, monkeypatch):
    _sources(tmp_path, peer, "3600", monkeypatch)
    api = api_factory(ReplayClock(datetime(2016, 7, 2, 0, 30, tzinfo=SHANGHAI)))
    api.import_and_wait("cities", CITIES)
    outcome = api.client.post("/api/v1/ingestion/pulls/hangzhou-forecast/run", headers=api.headers).json()
    [job] = [api.wait_for_job(job_id) for job_id in outcome["job_ids"]]
    assert (job["kind"], job["accepted"], job["rejected"]) == ("weather", 2, 0)
    [event] = api.outbox_events("ingestion.weather_recorded")
    issued = "2016-07-02"  # the day of the pull in Asia/Shanghai; in UTC it is still 07-01 16:30
    assert event["data"]["days"] == [
        {"day": "2016-07-02", "kind": "forecast", "issued_on": issued, "tmax_c": "35.0", "tmin_c": "26.1",
         "text": "晴间多云", "revision": 1},
        {"day": "2016-07-03", "kind": "forecast", "issued_on": issued, "tmax_c": "36.4", "tmin_c": None,
         "text": "雷阵雨", "revision": 1},
    ]


def test_the_scheduler_pulls_due_sources_by_itself(api_factory, peer, tmp_path, monkeypatch):
    _sources(tmp_path, peer, "0.05", monkeypatch)
    api = api_factory()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len([p for p, _ in Peer.log if p.startswith("/forecast")]) < 1:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len([p for p, _ in Peer.log if p.startswith("/forecast")]) == 1  # due once an hour: pulled once
    sources = {job["source"] for job in api.get("/imports").json()}
    assert "pull:hangzhou-forecast" in sources


def test_fetcher_gives_up_after_bounded_retries_and_does_not_retry_client_errors(peer):
    waits = []
    fetcher = HttpFetcher(retries=2, backoff_seconds=0.01, sleep=waits.append)
    Peer.fail_next = 5
    with pytest.raises(PullError, match="giving up after 3 attempts"):
        fetcher.fetch(f"{peer}/sales")
    assert waits == [0.0, 0.0]  # Retry-After: 0 honoured
    with pytest.raises(PullError, match="answered 403"):
        fetcher.fetch(f"{peer}/forbidden")
    assert Peer.log[-1] == ("/forbidden", None)
    assert [p for p, _ in Peer.log].count("/forbidden") == 1
    closed = HttpFetcher(retries=1, backoff_seconds=0.01, sleep=waits.append)
    with pytest.raises(PullError, match="ConnectError"):
        closed.fetch("http://127.0.0.1:9/nothing")
    assert waits[-1] == 0.01
