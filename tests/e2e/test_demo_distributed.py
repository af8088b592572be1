"""The demo's scenario in both modes gives the same figures, exactly.

One run in embedded mode (all four services in this process, SQLite, the embedded bus) and one in
distributed mode (one process per service, fresh PostgreSQL databases on `QUOTAFLOW_TEST_PG_URL`'s
server, the real Kafka broker at `QUOTAFLOW_TEST_KAFKA` under a fresh topic prefix), both driven
through REST by the same driver (`services.demo.driver.run_scenario`) on the real data, each with
its own local WeCom robot endpoint. `summary["figures"]` is compared as a whole: imports, heat
map, every package's targets (generated, negotiated, final after heat-wave uplifts), every city's
tier, target, actual and attainment, every alert occasion, the requests and their outcomes, the
closed windows, the integrity record and the audit chain.

Length: the whole scenario, 2016-07-01…2016-09-30 (92 days, three month closes with their integrity
scores), about 5 minutes per mode on the 2-core machine (9.7 min for the test, measured).
`QUOTAFLOW_E2E_UNTIL=YYYY-MM-DD` stops both runs earlier (e.g. 2016-07-07 for a quick look: the
history load, planning, the windows closing on their own on 07-03, the first heat-wave uplifts and
cliffs, no month close).

Besides the equality, exact figures computed in the test from the CSV files: head office's total
(1.3 × the base, half up), and every city's actual over the replayed days.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from services.catalog import ALL_SERVICES
from services.demo.data import default_data_dir, missing_files
from services.demo.driver import run_scenario
from services.demo.scenario import load_scenario
from services.demo.wecom import LocalWeComRobots
from services.system import DistributedSystem, EmbeddedSystem
from shared.settings import PlatformSettings
from tests.fixtures import create_pg_database, kafka_bootstrap

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.kafka]

UNTIL = date.fromisoformat(os.environ.get("QUOTAFLOW_E2E_UNTIL", "2016-09-30"))


def _data_dir() -> Path:
    data_dir = default_data_dir()
    missing = missing_files(data_dir)
    if missing:
        pytest.fail(f"the real data is missing (DATA_DIR={data_dir}): {', '.join(map(str, missing))}")
    return data_dir


def _run_embedded(tmp_path: Path, data_dir: Path, scenario, monkeypatch) -> dict:
    with LocalWeComRobots() as robots:
        for name, value in robots.alerts_env().items():
            monkeypatch.setenv(name, value)
        for name in ALL_SERVICES:  # `make test` exports the PostgreSQL URLs: embedded means SQLite
            monkeypatch.delenv(f"{name.upper()}_DATABASE_URL", raising=False)
        platform = PlatformSettings(environment="test", mode="embedded", data_dir=tmp_path / "embedded" / "system",
                                    replay_clock_start=scenario.clock.start.isoformat())
        system = EmbeddedSystem(platform)
        try:
            return run_scenario(system, data_dir, tmp_path / "embedded", scenario=scenario, until=UNTIL,
                                robot_messages=robots.received)
        finally:
            system.close()


def _run_distributed(tmp_path: Path, data_dir: Path, scenario) -> dict:
    with LocalWeComRobots() as robots:
        env = {
            "QUOTAFLOW_ENVIRONMENT": "test",
            "QUOTAFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap(),
            "QUOTAFLOW_TOPIC_PREFIX": f"e2e{uuid.uuid4().hex[:8]}.",
            "QUOTAFLOW_DATA_DIR": str(tmp_path / "distributed" / "system"),
            "QUOTAFLOW_REPLAY_CLOCK_START": scenario.clock.start.isoformat(),
            **{f"{name.upper()}_DATABASE_URL": create_pg_database(f"e2e_{name}") for name in ALL_SERVICES},
            **robots.alerts_env(),
        }
        system = DistributedSystem(env, tmp_path / "distributed" / "logs")
        try:
            return run_scenario(system, data_dir, tmp_path / "distributed", scenario=scenario, until=UNTIL,
                                robot_messages=robots.received)
        finally:
            system.close()


def _csv_orders(data_dir: Path, first: date, last: date) -> tuple[int, dict[str, int]]:
    """Paying customers of every shop on first…last, from the wide file and the shop table read here
    with the csv module (independent of the services): (total, per city adcode)."""
    with (data_dir / "geo" / "koubei_city_dim.csv").open(encoding="utf-8-sig", newline="") as handle:
        code_of = {row["koubei_city_name"]: row["city_adcode"] for row in csv.DictReader(handle)}
    with (data_dir / "koubei" / "shop_info.csv").open(encoding="utf-8-sig", newline="") as handle:
        city_of = {row["shop_id"]: code_of[row["city_name"]] for row in csv.DictReader(handle)}
    per_city: dict[str, int] = {}
    with (data_dir / "koubei" / "shop_daily_pay_wide.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        wanted = [i for i, text in enumerate(header[1:], 1) if first.isoformat() <= text <= last.isoformat()]
        for row in rows:
            orders = sum(int(row[i]) for i in wanted if i < len(row) and row[i])
            code = city_of[row[0]]
            per_city[code] = per_city.get(code, 0) + orders
    return sum(per_city.values()), per_city


def _differences(left, right, path: str = "") -> list[str]:
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right), key=str):
            if key not in left or key not in right:
                found.append(f"{path}/{key}: only in {'embedded' if key in left else 'distributed'}")
            else:
                found.extend(_differences(left[key], right[key], f"{path}/{key}"))
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [d for i, (a, b) in enumerate(zip(left, right)) for d in _differences(a, b, f"{path}[{i}]")]
    return [] if left == right else [f"{path}: embedded {json.dumps(left, ensure_ascii=False)[:300]} "
                                     f"!= distributed {json.dumps(right, ensure_ascii=False)[:300]}"]


def test_distributed_run_gives_the_embedded_figures(tmp_path, monkeypatch):
    data_dir = _data_dir()
    scenario = load_scenario()
    embedded = _run_embedded(tmp_path, data_dir, scenario, monkeypatch)
    distributed = _run_distributed(tmp_path, data_dir, scenario)
    for name, summary in (("embedded", embedded), ("distributed", distributed)):
        (tmp_path / f"summary_{name}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))

    figures = embedded["figures"]
    # The run did what the scenario says, so that equality below means something.
    assert figures["replayed"] == {"first_day": "2016-07-01", "last_day": UNTIL.isoformat(),
                                   "days": (UNTIL - date(2016, 7, 1)).days + 1}
    assert all(job["rejected"] == 0 for job in figures["imports"].values())
    assert figures["imports"]["sales_history"]["accepted"] == 366_982
    assert {w["status"] for w in figures["windows"].values()} == {"closed"}
    assert {r["request"]: r["status"] for r in figures["requests"]} == {
        "chengdu-aug": "approved", "guangzhou-jul": "rejected", "hangzhou-sep": "approved",
        "nanjing-jul": "expired", "shanghai-aug": "rejected", "shenzhen-q3": "approved", "wuhan-jul": "approved",
    }
    assert len(figures["cities"]) == 122
    assert figures["alerts"]["by_kind"].get("weather_spell", 0) > 0
    assert figures["alerts"]["uplifts"]
    assert figures["integrity"]["audit_chain"]["ok"]
    # Exact figures, computed here from the CSV files: head office's total is 1.3 × the base, half up,
    # and what attainment counts as actual is what the replayed days of the wide file hold.
    q3 = figures["packages"]["q3"]
    assert q3["generated"]["hq_total"] == q3["target"] == "25349750"
    assert Decimal(q3["generated"]["base_total"]).quantize(Decimal("0.01")) == Decimal("19499807.67")
    assert (Decimal(q3["generated"]["base_total"]) * Decimal("1.3")).quantize(Decimal(1), ROUND_HALF_UP) == 25_349_750
    assert q3["negotiated_target"] == "25349750"  # approved changes are offset over the other cities
    total, per_city = _csv_orders(data_dir, date(2016, 7, 1), UNTIL)
    assert int(q3["actual"]) == total
    assert sum(int(city["actual"]) for city in figures["cities"]) == total
    for city in figures["cities"]:
        assert int(city["actual"]) == per_city.get(city["city_code"], 0), city["city"]
    if UNTIL >= date(2016, 9, 30):  # every period closed: each approved claim scored on its final actual
        assert all(package["finalized"] for package in figures["packages"].values())
        scored = {item["request"]: item for item in figures["integrity"]["scored"]}
        assert sorted(scored) == ["chengdu-aug", "hangzhou-sep", "shenzhen-q3", "wuhan-jul"]
        code_of = {city["city"]: city["city_code"] for city in figures["cities"]}
        for item in scored.values():
            first, last = (date.fromisoformat(day) for day in figures["packages"][item["package"]]["period"])
            actual = _csv_orders(data_dir, first, last)[1][code_of[item["city"]]]
            claim = Decimal(item["claim"])
            assert int(item["actual"]) == actual, item["request"]
            assert Decimal(item["deviation"]) == (abs(actual - claim) / claim).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            assert item["flagged"] is False  # deviations 0.28 % … 18.82 %, none above 40 %
    for summary in (embedded, distributed):
        assert all(Path(path).read_bytes().startswith(b"%PDF") for path in summary["run"]["pdfs"].values())
        assert len(summary["run"]["pdfs"]) == len(scenario.packages)
        assert summary["run"]["wecom_messages"]["received"] > 0

    differences = _differences(figures, distributed["figures"])
    assert not differences, "the distributed run differs from the embedded one:\n" + "\n".join(differences[:40])
