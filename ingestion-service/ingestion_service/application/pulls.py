"""Scheduled HTTP pulls: each configured source is fetched when due; every page becomes an import job."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from ingestion_service.adapters.http_pull import HttpFetcher, PullError
from ingestion_service.adapters.tables import pull_state
from ingestion_service.application.importer import Importer
from ingestion_service.application.kinds import OPEN_METEO, require_kind
from ingestion_service.domain.problems import FileProblem
from shared.clock import Clock
from shared.outbox import UnitOfWork
from shared.timeutil import shanghai_date

log = logging.getLogger("quotaflow.ingestion.pulls")


@dataclass(frozen=True)
class PullSource:
    name: str
    url: str
    kind: str
    format: str = "csv"  # csv | jsonl | xlsx | open_meteo
    every_seconds: int = 3600
    cursor_param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    city: str | None = None  # open_meteo: the city the coordinates belong to
    weather_kind: str = "observation"  # open_meteo: observation | forecast (issued today, Asia/Shanghai)


@dataclass(frozen=True)
class PullOutcome:
    source: str
    status: str  # not_modified | submitted | failed: <reason>
    job_ids: list[str]


def load_pull_sources(path: Path | None) -> list[PullSource]:
    if path is None:
        return []
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    sources = [PullSource(**entry) for entry in document.get("sources", [])]
    for source in sources:
        require_kind(source.kind)
    return sources


class PullScheduler:
    def __init__(self, sources: list[PullSource], *, importer: Importer, worker, unit_of_work: Callable[[], UnitOfWork],
                 clock: Clock, poll_seconds: float = 30.0, fetcher: HttpFetcher | None = None) -> None:
        self.sources = {source.name: source for source in sources}
        self.importer = importer
        self.worker = worker
        self.unit_of_work = unit_of_work
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.fetcher = fetcher
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- worker ------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.sources:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ingestion-pulls", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        if self.fetcher is not None:
            self.fetcher.close()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            for source in list(self.sources.values()):
                if self._stop.is_set():
                    return
                if self._due(source):
                    try:
                        self.run(source.name)
                    except Exception:  # noqa: BLE001 - one broken source must not stop the others
                        log.exception("pull %s failed", source.name)

    def _due(self, source: PullSource) -> bool:
        with self.importer.sessions() as session:
            last = session.execute(select(pull_state.c.last_run_at).where(pull_state.c.source == source.name)).scalar()
        return last is None or self.clock.now() - last >= timedelta(seconds=source.every_seconds)

    # -- one pull ----------------------------------------------------------------------------
    def run(self, name: str) -> PullOutcome:
        source = self.sources[name]
        self.fetcher = self.fetcher or HttpFetcher()
        with self.importer.sessions() as session:
            state = session.execute(select(pull_state).where(pull_state.c.source == name)).first()
        etag, cursor = (state.etag, state.cursor) if state else (None, None)
        try:
            result = self.fetcher.fetch(source.url, etag=etag, cursor=cursor, cursor_param=source.cursor_param,
                                        headers=source.headers)
        except PullError as error:
            log.warning("pull %s failed: %s", name, error)
            self._save_state(name, etag, cursor, f"failed: {error}")
            return PullOutcome(name, f"failed: {error}", [])
        if result.not_modified:
            self._save_state(name, etag, cursor, "not_modified")
            return PullOutcome(name, "not_modified", [])
        options = {}
        if source.format == OPEN_METEO:
            options = {"city": source.city or "", "weather_kind": source.weather_kind,
                       "issued_on": shanghai_date(self.clock.now()).isoformat()}
        job_ids = []
        for number, page in enumerate(result.pages, start=1):
            try:
                submitted = self.importer.submit(
                    page.data, kind=source.kind, filename=f"{name}-{number}.{_extension(source.format)}",
                    content_type=page.content_type, source=f"pull:{name}",
                    file_format=source.format, options=options)
            except FileProblem as problem:
                status = f"failed: page {number}: {problem.code}: {problem.detail}"
                self._save_state(name, etag, cursor, status)
                return PullOutcome(name, status, job_ids)
            self.worker.enqueue(submitted.job_id)
            job_ids.append(submitted.job_id)
        self._save_state(name, result.etag, result.cursor, "submitted")
        return PullOutcome(name, "submitted", job_ids)

    def _save_state(self, name: str, etag: str | None, cursor: str | None, status: str) -> None:
        with self.unit_of_work() as uow:
            values = dict(etag=etag, cursor=cursor, last_status=status[:40], last_run_at=uow.now())
            updated = uow.session.execute(pull_state.update().where(pull_state.c.source == name).values(**values))
            if updated.rowcount == 0:
                uow.session.execute(pull_state.insert().values(source=name, **values))
            uow.commit()


def _extension(file_format: str) -> str:
    return {"open_meteo": "json", "jsonl": "jsonl", "xlsx": "xlsx"}.get(file_format, "csv")
