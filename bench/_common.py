"""What the benches share: where the data and the servers are, a fresh set of service databases on
the bench's PostgreSQL, the distributed system started through `services.system`, uploads, and the
result table every bench prints."""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, *(ROOT / f"{name}-service" for name in ("ingestion", "allocation", "negotiation", "alerts"))):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

DATA_DIR = Path(os.environ.get("DATA_DIR") or ROOT.parent / "shared" / "data")
WORK_DIR = Path(os.environ.get("BENCH_WORK_DIR") or ROOT / ".run" / "bench" / "work")
SERVICES = ("ingestion", "allocation", "negotiation", "alerts")
WIDE_FILE = DATA_DIR / "koubei" / "shop_daily_pay_wide.csv"
WIDE_TOTAL_ORDERS = 69_674_110  # data/README.md: the wide file's cells sum to this


def require_data() -> None:
    if not WIDE_FILE.exists():
        raise SystemExit(f"the real data is expected in {DATA_DIR} (set DATA_DIR)")


def pg_url() -> str:
    url = os.environ.get("BENCH_PG_URL")
    if not url:
        raise SystemExit("BENCH_PG_URL is not set: run the benches with `make bench` (bench/run_all.sh)")
    return url


def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("BENCH_KAFKA")
    if not bootstrap:
        raise SystemExit("BENCH_KAFKA is not set: run the benches with `make bench` (bench/run_all.sh)")
    return bootstrap


def libpq(url: str, database: str | None = None) -> str:
    """postgresql+psycopg://… → postgresql://… (optionally another database on the same server)."""
    parts = urlsplit("postgresql://" + url.split("://", 1)[1])
    path = f"/{database}" if database else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


class FreshDatabases:
    """One empty database per service (bench_<tag>_<service>), dropped again on exit."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.names = {name: f"bench_{tag}_{name}" for name in SERVICES}

    def __enter__(self) -> dict[str, str]:
        self._run("DROP DATABASE IF EXISTS {} WITH (FORCE)", "CREATE DATABASE {}")
        return {f"{name.upper()}_DATABASE_URL": with_database(pg_url(), db) for name, db in self.names.items()}

    def __exit__(self, *_exc) -> None:
        self._run("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def _run(self, *statements: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(libpq(pg_url(), "postgres"), autocommit=True) as conn:
            for database in self.names.values():
                for statement in statements:
                    conn.execute(sql.SQL(statement).format(sql.Identifier(database)))


def start_distributed(tag: str, database_urls: dict[str, str], *, replay_clock: datetime | None = None,
                      extra_env: dict[str, str] | None = None):
    """The four services, one process each, on PostgreSQL and Kafka; topics prefixed per bench run."""
    from services.system import DistributedSystem

    run = WORK_DIR / f"{tag}-{uuid.uuid4().hex[:6]}"
    env = {
        **database_urls,
        "QUOTAFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap(),
        "QUOTAFLOW_TOPIC_PREFIX": f"bench-{run.name}-",
        "QUOTAFLOW_DATA_DIR": str(run / "data"),
        "QUOTAFLOW_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p.startswith(str(ROOT))),
        **(extra_env or {}),
    }
    if replay_clock is not None:
        env["QUOTAFLOW_REPLAY_CLOCK_START"] = replay_clock.isoformat()
    return DistributedSystem(env, run / "logs"), env["QUOTAFLOW_TOPIC_PREFIX"]


def headers(system, roles: Sequence[str] = ("hq_planner",)) -> dict[str, str]:
    token = system.authenticator.mint("bench", list(roles))
    return {"Authorization": f"Bearer {token}"}


def upload(system, auth: dict[str, str], kind: str, filename: str, data: bytes) -> str:
    response = system.http.post(system.api("ingestion", "/imports"), params={"kind": kind},
                                files={"file": (filename, data, "text/csv")}, headers=auth)
    if response.status_code != 202:
        raise RuntimeError(f"upload of {filename} ({kind}) answered {response.status_code}: {response.text[:500]}")
    return response.json()["id"]


def wait_job(system, auth: dict[str, str], job_id: str, timeout: float = 600.0, poll: float = 0.05) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = system.http.get(system.api("ingestion", f"/imports/{job_id}"), headers=auth).json()
        if job["status"] in ("succeeded", "failed"):
            if job["status"] == "failed":
                raise RuntimeError(f"import job {job_id} failed: {job.get('problem_code')}: {job.get('problem_detail')}")
            return job
        time.sleep(poll)
    raise TimeoutError(f"import job {job_id} not done within {timeout:.0f}s")


def import_file(system, auth: dict[str, str], kind: str, path: Path) -> dict:
    return wait_job(system, auth, upload(system, auth, kind, path.name, path.read_bytes()))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation): the value at rank ceil(pct/100 × n)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    figure: str
    value: str
    baseline: str
    ratio: str
    goal: str
    met: str


def print_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    header = Row("figure", "measured", "baseline", "ratio", "goal", "goal met")
    table = [header, *rows]
    widths = [max(_width(getattr(r, f)) for r in table) for f in ("figure", "value", "baseline", "ratio", "goal", "met")]
    print()
    print(f"## {title}  ({date.today().isoformat()}, {os.cpu_count()} cores)")
    for index, row in enumerate(table):
        cells = [row.figure, row.value, row.baseline, row.ratio, row.goal, row.met]
        print("| " + " | ".join(_pad(c, w) for c, w in zip(cells, widths)) + " |")
        if index == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for note in notes:
        print(f"  - {note}")
    sys.stdout.flush()


def yes_no(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "NO")


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)
