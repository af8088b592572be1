"""Fixtures giving the real datasets in ../shared/data (never copied into the repository)."""

from __future__ import annotations

import csv
import json as _json
import os
import threading as _threading
from collections import defaultdict
from collections import deque as _deque
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

DATA_DIR = Path(os.environ.get("DATA_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "data"))


def read_csv(relative: str) -> list[dict[str, str]]:
    path = DATA_DIR / relative
    if not path.exists():
        raise FileNotFoundError(f"real data expected at {path} (set DATA_DIR); it is not part of the repository")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def koubei_cities() -> dict[str, dict[str, str]]:
    """koubei city name → {code, name, province, region}."""
    regions = {row["province"]: row["region_7"] for row in read_csv("geo/province_region_map.csv")}
    return {
        row["koubei_city_name"]: {
            "code": row["city_adcode"],
            "name": row["koubei_city_name"],
            "province": row["province"],
            "region": regions[row["province"]],
        }
        for row in read_csv("geo/koubei_city_dim.csv")
    }


@pytest.fixture(scope="session")
def real_tmax() -> dict[str, dict[date, Decimal]]:
    """city name → day → tmax (°C) from weather/china_city_weather_daily.csv."""
    table: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for row in read_csv("weather/china_city_weather_daily.csv"):
        text = row["tmax_c"].strip()
        table[row["city_name"]][date.fromisoformat(row["date"])] = Decimal(text) if text else None
    return dict(table)


# -- a real local HTTP server acting as the WeCom robot endpoint ------------------------------------


class WeComServer:
    """Records every POST to /cgi-bin/webhook/send?key=…; answers from a per-key script
    (default: HTTP 200 {"errcode": 0, "errmsg": "ok"})."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []  # (key, JSON body)
        self.scripts: dict[str, _deque] = {}
        self.lock = _threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = _json.loads(self.rfile.read(length).decode("utf-8"))
                key = parse_qs(urlparse(self.path).query).get("key", [""])[0]
                with server.lock:
                    server.received.append((key, body))
                    script = server.scripts.get(key)
                    status, answer = script.popleft() if script else (200, {"errcode": 0, "errmsg": "ok"})
                payload = _json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = _threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/cgi-bin/webhook/send?key={key}"

    def script(self, key: str, *answers: tuple[int, dict]) -> None:
        with self.lock:
            self.scripts.setdefault(key, _deque()).extend(answers)

    def messages(self, key: str | None = None) -> list[dict]:
        with self.lock:
            return [body for k, body in self.received if key is None or k == key]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def wecom():
    server = WeComServer()
    yield server
    server.close()


@pytest.fixture
def alerts_host(embedded_host):
    """A started-on-demand host running only the alerts service, with the given AlertsSettings."""
    from alerts_service import bootstrap

    from shared.service import ServiceDefinition

    def factory(settings, clock=None):
        definition = ServiceDefinition(
            name="alerts", migrations=bootstrap.SERVICE.migrations,
            build=lambda context: bootstrap.build(context, settings),
        )
        return embedded_host([definition], clock=clock)

    return factory


@pytest.fixture
def publish():
    """publish(host, event, producer=...) puts an event on the bus as another service would."""
    from datetime import datetime as _datetime

    from shared.envelope import to_message, wrap
    from shared.timeutil import UTC as _UTC

    def send(host, *events, producer: str = "ingestion", copies: int = 1):
        messages = []
        for event in events:
            envelope = wrap(event, producer=producer, now=_datetime(2016, 7, 1, tzinfo=_UTC))
            messages.extend([to_message(envelope, event.TOPIC)] * copies)
        host.bus.publish(messages)

    return send


@pytest.fixture(scope="session")
def real_shop_days() -> dict[str, dict[date, list[tuple[str, str, int]]]]:
    """city name → day → [(shop id, category, paying customers)] from koubei/shop_daily_pay_wide.csv."""
    shops = {row["shop_id"]: (row["city_name"], row["cate_1_name"]) for row in read_csv("koubei/shop_info.csv")}
    table: dict[str, dict[date, list]] = defaultdict(lambda: defaultdict(list))
    path = DATA_DIR / "koubei" / "shop_daily_pay_wide.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        days = [date.fromisoformat(text) for text in next(reader)[1:]]
        for row in reader:
            city, category = shops[row[0]]
            for day, cell in zip(days, row[1:], strict=True):
                if cell.strip():
                    table[city][day].append((row[0], category, int(cell)))
    return {city: dict(by_day) for city, by_day in table.items()}
