"""Latency in distributed mode: a daily actual entering ingestion → attainment updated, and → a
sales-cliff alert fired; beside a raw kafka-python produce → consume round trip on the same broker.

Setup (not timed): four service processes on PostgreSQL + Kafka with a replay clock; cities and
outlets imported; the real daily sales of June 2016 for every shop uploaded (the cliff rule's
baseline is the same weekday of the previous four weeks); the seed's sales-cliff rule imported
(no delivery channel); a Q3-2016 package generated from that history and published.

Samples: the real sales cliffs of Q3 2016, found independently in the CSV with the seed's rule
(drop ≥ 40 % below the mean of the same weekday over the previous 4 weeks, holidays and make-up
days left out, ≥ 3 baseline days, baseline ≥ 200), in date order, at most 2 per city and
BENCH_LATENCY_SAMPLES (default 30) in all. Per sample: that city's real days since its previous
sample (or July 1) are uploaded (not timed), the system waits until quiet, the clock moves to the day's evening; then the
timed part: HTTP upload of that one day's real rows for that one city (sales_long CSV) → the
`allocation.attainment_updated` event for (city, day) and the `alerts.alert_fired` event for (city,
day) arrive at a listener on the broker (assigned to the topics' ends before the upload).

Baseline: N produce → consume round trips of a 1 KB message on a fresh 1-partition topic on the
same broker (acks=all, flush, then poll), in the same run.

Goal (issue 7): p95 under 0.5 s.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import chinese_calendar
from _common import (
    DATA_DIR,
    WIDE_FILE,
    FreshDatabases,
    Row,
    headers,
    import_file,
    kafka_bootstrap,
    log,
    percentile,
    print_table,
    require_data,
    start_distributed,
    upload,
    wait_job,
    yes_no,
)
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from shared.timeutil import SHANGHAI

SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "30"))
PER_CITY = 2
RAW_SAMPLES = int(os.environ.get("BENCH_LATENCY_RAW_SAMPLES", "200"))
SAMPLE_TIMEOUT = 15.0
GOAL_SECONDS = 0.5
HISTORY = (date(2016, 6, 1), date(2016, 6, 30))
PERIOD = (date(2016, 7, 1), date(2016, 9, 30))
ATTAINMENT_TOPIC = "quotaflow.allocation.attainment"
ALERTS_TOPIC = "quotaflow.alerts"
CLIFF_RULE = """
rules:
  - id: city-sales-cliff
    name: 城市销量断崖
    kind: sales_cliff
    scope: {regions: [华东, 华南, 华北, 华中, 西南, 西北, 东北]}
    params: {drop_pct: 40, critical_pct: 60, baseline: same_weekday, weeks: 4, min_baseline_days: 3, min_baseline: 200}
    action: {type: notify, channels: []}
"""


# -- the real data ---------------------------------------------------------------------------------

class RealSales:
    def __init__(self) -> None:
        with open(DATA_DIR / "geo" / "koubei_city_dim.csv", encoding="utf-8-sig", newline="") as handle:
            dim = list(csv.DictReader(handle))
        self.code_of = {row["koubei_city_name"]: row["city_adcode"] for row in dim}
        self.name_of = {row["city_adcode"]: row["city"] for row in dim}
        with open(DATA_DIR / "koubei" / "shop_info.csv", encoding="utf-8-sig", newline="") as handle:
            self.city_of = {row["shop_id"]: self.code_of[row["city_name"]] for row in csv.DictReader(handle)}
        with open(WIDE_FILE, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            self.header = next(reader)
            self.wide = list(reader)
        self.days = [date.fromisoformat(text) for text in self.header[1:]]
        self.rows: dict[tuple[str, date], list[tuple[str, int]]] = defaultdict(list)
        for row in self.wide:
            for day, cell in zip(self.days, row[1:]):
                if cell:
                    self.rows[(self.city_of[row[0]], day)].append((row[0], int(cell)))
        self.totals = {key: sum(orders for _, orders in rows) for key, rows in self.rows.items()}

    def wide_csv(self, first: date, last: date) -> bytes:
        """The real wide file cut to the days first … last (every shop)."""
        keep = [0] + [i + 1 for i, day in enumerate(self.days) if first <= day <= last]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in [self.header, *self.wide]:
            writer.writerow([row[i] for i in keep])
        return out.getvalue().encode("utf-8")

    def long_csv(self, city: str, days: list[date]) -> bytes:
        """One city's real rows for some days, in the long layout."""
        out = io.StringIO()
        out.write("date,shop_id,pay_count\n")
        for day in days:
            for shop, orders in self.rows.get((city, day), []):
                out.write(f"{day.isoformat()},{shop},{orders}\n")
        return out.getvalue().encode("utf-8")

    def cliffs(self, first: date, last: date) -> list[tuple[date, str, int, Decimal]]:
        """(day, city code, actual, baseline) of every real cliff, by the seed's rule, computed here."""
        found = []
        for city in sorted(set(self.city_of.values())):
            day = first
            while day <= last:
                actual = self.totals.get((city, day))
                if actual is not None and not special(day):
                    used = [day - timedelta(weeks=k) for k in (4, 3, 2, 1)]
                    used = [d for d in used if (city, d) in self.totals and not special(d)]
                    if len(used) >= 3:
                        baseline = (Decimal(sum(self.totals[(city, d)] for d in used)) / len(used)).quantize(
                            Decimal("0.01"), ROUND_HALF_UP)
                        if baseline >= 200 and (baseline - actual) * 100 >= 40 * baseline:
                            found.append((day, city, actual, baseline))
                day += timedelta(days=1)
        return sorted(found)


def special(day: date) -> bool:
    """An official holiday or a make-up working day (not judged, not in baselines)."""
    return chinese_calendar.get_holiday_detail(day)[1] is not None


# -- listening on the broker ---------------------------------------------------------------------

class EventListener(threading.Thread):
    """Assigned to every partition of the topics, from their ends; records when each event arrives."""

    def __init__(self, topics: list[str]) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=None, enable_auto_commit=False,
                                      fetch_max_wait_ms=100)
        partitions = []
        for topic in topics:
            deadline = time.monotonic() + 30
            found = None
            while not found and time.monotonic() < deadline:
                found = self.consumer.partitions_for_topic(topic)
                if not found:
                    time.sleep(0.2)
            if not found:
                raise RuntimeError(f"topic {topic} not found on the broker")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        self.consumer.assign(partitions)
        self.consumer.seek_to_end()
        for partition in partitions:
            self.consumer.position(partition)  # resolve the end offsets now, not at the first poll
        self.seen: dict[tuple, float] = {}
        self.condition = threading.Condition()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            batches = self.consumer.poll(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batches.values():
                for record in records:
                    key = self._key(record)
                    if key is not None:
                        with self.condition:
                            self.seen.setdefault(key, arrived)
                            self.condition.notify_all()

    @staticmethod
    def _key(record) -> tuple | None:
        kind = dict(record.headers or []).get("ce_type", b"").decode()
        data = json.loads(record.value)
        if kind == "allocation.attainment_updated":
            return ("attainment", data["city_code"], data["as_of"])
        if kind == "alerts.alert_fired" and data.get("kind") == "sales_cliff":
            return ("alert", data["city_code"], data.get("evidence", {}).get("day"))
        return None

    def wait_for(self, key: tuple, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self.condition:
            while key not in self.seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.condition.wait(remaining)
            return self.seen[key]

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.consumer.close()


# -- the raw Kafka baseline ----------------------------------------------------------------------

def raw_round_trips(count: int) -> list[float]:
    topic = f"bench-rtt-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap(), acks="all")
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap(), group_id=None, enable_auto_commit=False,
                             fetch_max_wait_ms=100)
    partition = TopicPartition(topic, 0)
    deadline = time.monotonic() + 30
    while not consumer.partitions_for_topic(topic) and time.monotonic() < deadline:
        time.sleep(0.2)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    consumer.position(partition)
    payload = json.dumps({"pad": "x" * 1000}).encode()
    timings = []
    try:
        for index in range(count + 20):  # the first 20 warm the connections up
            key = str(index).encode()
            started = time.perf_counter()
            producer.send(topic, key=key, value=payload)
            producer.flush()
            received = False
            while not received:
                for records in consumer.poll(timeout_ms=1000).values():
                    received = received or any(record.key == key for record in records)
                if time.perf_counter() - started > 10:
                    raise TimeoutError("a raw round trip took more than 10 s")
            if index >= 20:
                timings.append(time.perf_counter() - started)
    finally:
        producer.close()
        consumer.close()
        admin.delete_topics([topic])
        admin.close()
    return timings


# -- the run -------------------------------------------------------------------------------------

def main() -> int:
    require_data()
    log("reading the real data; finding the real sales cliffs of Q3 2016")
    sales = RealSales()
    cliffs = sales.cliffs(*PERIOD)
    samples, per_city = [], defaultdict(int)
    for day, city, actual, baseline in cliffs:
        if per_city[city] < PER_CITY and len(samples) < SAMPLES:
            per_city[city] += 1
            samples.append((day, city, actual, baseline))

    log(f"baseline: {RAW_SAMPLES} raw kafka-python produce → consume round trips")
    raw = raw_round_trips(RAW_SAMPLES)

    attainment, alerts, missing = [], [], []
    with FreshDatabases("latency") as urls:
        log("starting the distributed system (replay clock)")
        clock = datetime(2016, 6, 30, 20, 0, tzinfo=SHANGHAI)
        system, prefix = start_distributed("latency", urls, replay_clock=clock)
        try:
            auth = headers(system, ("hq_planner", "admin"))
            setup_started = time.perf_counter()
            import_file(system, auth, "cities", DATA_DIR / "geo" / "koubei_city_dim.csv")
            import_file(system, auth, "outlets", DATA_DIR / "koubei" / "shop_info.csv")
            wait_job(system, auth, upload(system, auth, "sales_wide", "june-2016.csv", sales.wide_csv(*HISTORY)))
            answer = system.http.post(system.api("alerts", "/rules/import"), content=CLIFF_RULE.encode(),
                                      headers={**auth, "Content-Type": "application/yaml"})
            answer.raise_for_status()
            system.wait_quiet(timeout=600)
            package_id = publish_package(system, auth)
            system.wait_quiet(timeout=300)
            setup_seconds = time.perf_counter() - setup_started
            listener = EventListener([prefix + ATTAINMENT_TOPIC, prefix + ALERTS_TOPIC])
            listener.start()
            loaded: dict[str, date] = {}
            log(f"{len(samples)} samples (real cliff days, at most {PER_CITY} per city)")
            for day, city, _actual, _baseline in samples:
                first = loaded[city] + timedelta(days=1) if city in loaded else PERIOD[0]
                fill = [first + timedelta(days=i) for i in range((day - first).days)]
                if fill:
                    wait_job(system, auth, upload(system, auth, "sales_long", f"fill-{city}.csv",
                                                  sales.long_csv(city, fill)))
                clock = max(clock, datetime.combine(day, datetime.min.time(), SHANGHAI).replace(hour=20))
                system.set_clock(clock)
                system.wait_quiet(timeout=300, settle=0.2)
                data = sales.long_csv(city, [day])
                started = time.perf_counter()
                upload(system, auth, "sales_long", f"{city}-{day}.csv", data)
                got_attainment = listener.wait_for(("attainment", city, day.isoformat()), SAMPLE_TIMEOUT)
                got_alert = listener.wait_for(("alert", city, day.isoformat()), SAMPLE_TIMEOUT)
                if got_attainment is not None:
                    attainment.append(got_attainment - started)
                if got_alert is not None:
                    alerts.append(got_alert - started)
                log(f"  {sales.name_of[city]} {day}: attainment {ms(got_attainment - started) if got_attainment else 'missing'}, "
                    f"alert {ms(got_alert - started) if got_alert else 'missing'}")
                if got_attainment is None or got_alert is None:
                    missing.append(f"{city} {day}: " + ", ".join(
                        what for what, got in (("attainment", got_attainment), ("alert", got_alert)) if got is None))
                loaded[city] = day
            listener.stop()
            system.wait_quiet(timeout=300)
            checks = verify(system, auth, sales, samples, package_id, loaded)
        finally:
            system.close()

    raw_p50, raw_p95 = percentile(raw, 50), percentile(raw, 95)
    rows = [Row(f"raw Kafka round trip ({len(raw)} × 1 KB, acks=all)", f"p50 {ms(raw_p50)}", "", "",
                "", ""),
            Row("", f"p95 {ms(raw_p95)}", "", "", "", "")]
    for name, values in (("actual → attainment_updated", attainment), ("actual → alert_fired (sales cliff)", alerts)):
        if not values:
            rows.append(Row(f"{name} (0 samples)", "none arrived", "", "", f"p95 < {GOAL_SECONDS} s", "NO"))
            continue
        p50, p95 = percentile(values, 50), percentile(values, 95)
        rows.append(Row(f"{name} ({len(values)} samples)", f"p50 {ms(p50)}", f"raw p50 {ms(raw_p50)}",
                        f"{p50 / raw_p50:.0f}×", "", ""))
        rows.append(Row("", f"p95 {ms(p95)}", f"raw p95 {ms(raw_p95)}", f"{p95 / raw_p95:.0f}×",
                        f"p95 < {GOAL_SECONDS} s", yes_no(p95 < GOAL_SECONDS)))
        rows.append(Row("", f"max {ms(max(values))}", "", "", "", ""))
    rows.extend(checks)
    print_table(
        "latency: a daily actual entering ingestion → attainment, → alert (distributed mode)",
        rows,
        notes=[
            "timed from the HTTP upload (one day, one city, real rows, sales_long CSV) to the event's arrival at a "
            "kafka-python listener on the same broker; the system was quiet before each upload",
            f"samples: {len(samples)} real cliff days of Q3 2016 found in the CSV, in date order, at most {PER_CITY} "
            f"per city ({len({city for _, city, _, _ in samples})} cities), {samples[0][0]:%m-%d} … {samples[-1][0]:%m-%d}",
            f"setup (not timed) {setup_seconds:.0f} s: cities, outlets, June 2016 sales of every shop, rule, "
            "Q3 package; percentiles are nearest-rank",
            *([f"missing within {SAMPLE_TIMEOUT:.0f} s: " + "; ".join(missing)] if missing else []),
        ],
    )
    return 0


def publish_package(system, auth) -> str:
    body = {"name": "bench Q3 2016", "period_start": PERIOD[0].isoformat(), "period_end": PERIOD[1].isoformat(),
            "history_end": HISTORY[1].isoformat()}
    answer = system.http.post(system.api("allocation", "/scenarios"), json=body, headers=auth)
    if answer.status_code != 201:
        raise RuntimeError(f"scenario: {answer.status_code} {answer.text[:500]}")
    scenario = answer.json()
    answer = system.http.post(system.api("allocation", f"/scenarios/{scenario['id']}/publish"), json={}, headers=auth)
    if answer.status_code != 201:
        raise RuntimeError(f"publish: {answer.status_code} {answer.text[:500]}")
    return answer.json()["package_id"]


def verify(system, auth, sales: RealSales, samples, package_id: str, loaded: dict[str, date]) -> list[Row]:
    fired = system.http.get(system.api("alerts", "/alerts"), headers=auth,
                            params={"kind": "sales_cliff", "limit": 1000}).json()
    keys = {(alert["city_code"], alert["fire_key"]) for alert in fired}
    shown = sum(1 for day, city, _, _ in samples if (city, day.isoformat()) in keys)
    items = system.http.get(system.api("allocation", f"/packages/{package_id}/attainment"), headers=auth,
                            params={"level": "city"}).json()["items"]
    actual = {item["key"]: Decimal(item["actual_to_date"]) for item in items}
    equal = 0
    for city, last in loaded.items():
        expected = sum(sales.totals.get((city, PERIOD[0] + timedelta(days=i)), 0)
                       for i in range((last - PERIOD[0]).days + 1))
        equal += actual.get(city) == expected
    return [
        Row("alerts API: sample cliffs listed", f"{shown}/{len(samples)}", "", "", "all", yes_no(shown == len(samples))),
        Row("allocation API: actual to date = CSV", f"{equal}/{len(loaded)} cities", "", "", "all",
            yes_no(equal == len(loaded))),
    ]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
