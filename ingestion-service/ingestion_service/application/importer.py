"""Submitting an import (raw bytes kept, job queued) and running it (parse, reconcile, store, publish).

A job writes in one unit of work: the facts, the rejected rows, the events and the job's final counts
commit together, so a crash leaves either nothing or everything (the job is then simply re-run).
Reading, parsing and comparing happen before, on read sessions, so the write lock is held briefly.
"""

from __future__ import annotations

import gc
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker

from ingestion_service.adapters import jobs_repository as jobs
from ingestion_service.adapters.fact_store import STORES
from ingestion_service.adapters.raw_store import RawFileStore
from ingestion_service.adapters.reference_repository import load_cities, load_outlets
from ingestion_service.application.kinds import (
    NEEDS_OUTLETS,
    PARSERS,
    MasterData,
    check_shape,
    read_upload,
    require_kind,
)
from ingestion_service.application.progress import ProgressBoard
from ingestion_service.application.publishing import EventBuilder
from ingestion_service.domain.cities import CityDirectory, RegionMap
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.revisions import reconcile
from shared.events.ingestion import ImportCompleted
from shared.outbox import UnitOfWork

log = logging.getLogger("quotaflow.ingestion.importer")


@dataclass(frozen=True)
class Submitted:
    job_id: str
    sha256: str


class Importer:
    def __init__(self, *, unit_of_work: Callable[[], UnitOfWork], sessions: sessionmaker, raw_store: RawFileStore,
                 regions: RegionMap, historical_names: Mapping[str, str], progress: ProgressBoard) -> None:
        self.unit_of_work = unit_of_work
        self.sessions = sessions
        self.raw_store = raw_store
        self.regions = regions
        self.historical_names = historical_names
        self.progress = progress

    # -- submit ------------------------------------------------------------------------------
    def submit(self, data: bytes, *, kind: str, filename: str | None, content_type: str | None, source: str,
               file_format: str | None = None, options: Mapping[str, str] | None = None) -> Submitted:
        """Keep the bytes, check the file's shape (a whole-file problem raises FileProblem), queue a job."""
        require_kind(kind)
        options = dict(options or {})
        sha256, path = self.raw_store.put(data)
        job_id = uuid.uuid4().hex
        with self.unit_of_work() as uow:
            jobs.record_raw_upload(uow.session, sha256, len(data), filename, content_type, str(path), uow.now())
            uow.commit()
        check_shape(kind, read_upload(data, filename, file_format, options))
        with self.unit_of_work() as uow:
            jobs.create_job(uow.session, job_id=job_id, kind=kind, sha256=sha256, filename=filename,
                            file_format=file_format, source=source, options=options, now=uow.now())
            uow.commit()
        self.progress.set(job_id, "queued", 0)
        return Submitted(job_id, sha256)

    # -- run ---------------------------------------------------------------------------------
    def run(self, job_id: str) -> None:
        with self.unit_of_work() as uow:
            job = jobs.get_job(uow.session, job_id)
            if job is None or job.status in (jobs.SUCCEEDED, jobs.FAILED):
                return
            jobs.update_job(uow.session, job_id, status=jobs.RUNNING, started_at=uow.now())
            uow.commit()
        try:
            with _cycle_collection_paused():
                self._run(job)
        except FileProblem as problem:
            self._fail(job, problem.code, problem.detail)
        except Exception as error:  # noqa: BLE001 - a job must end, whatever broke
            log.exception("import job %s failed", job_id)
            self._fail(job, "internal_error", f"{type(error).__name__}: {error}")
        finally:
            self.progress.clear(job_id)

    def _run(self, job) -> None:
        self.progress.set(job.id, "reading", 5)
        data = self.raw_store.get(job.sha256)
        table = read_upload(data, job.filename, job.file_format, json.loads(job.options or "{}"))
        with self.sessions() as session:
            cities = load_cities(session)
            outlets = load_outlets(session) if job.kind in NEEDS_OUTLETS else {}
        master = MasterData(self.regions, CityDirectory(cities, self.historical_names), outlets)
        self.progress.set(job.id, "parsing", 20)
        parsed = PARSERS[job.kind](table, master)
        facts = [fact for _, fact in parsed.facts]
        # Only this worker writes facts, so the comparison can read outside the write transaction,
        # which then holds the database only for the bulk writes.
        self.progress.set(job.id, "comparing", 40)
        store = STORES[type(facts[0])] if facts else None
        with self.sessions() as session:
            stored = store.load(session, facts) if store else {}
        result = reconcile(parsed.facts, stored)
        errors = parsed.errors + result.errors
        rejected = len({error.row for error in errors})
        self.progress.set(job.id, "preparing events", 55)
        known = {city.code: city for city in cities}
        if job.kind == "cities":  # (decided once, not per fact: a sales file has 600k of them)
            known.update({r.fact.code: r.fact for r in result.changed})
        events = EventBuilder(job.id, known).build(job.kind, result.changed)
        with self.unit_of_work() as uow:
            self.progress.set(job.id, "storing", 70)
            if store:
                store.write(uow.session, result.changed, job.id, uow.now())
            jobs.save_rejected_rows(uow.session, job.id, errors)
            self.progress.set(job.id, "publishing", 85)
            uow.publish_many(events)
            uow.publish(ImportCompleted(job_id=job.id, kind=job.kind, status=jobs.SUCCEEDED,
                                        accepted=result.accepted, rejected=rejected, unchanged=result.unchanged,
                                        completed_at=uow.now()))
            jobs.update_job(uow.session, job.id, status=jobs.SUCCEEDED, rows_read=parsed.rows_read,
                            accepted=result.accepted, rejected=rejected, unchanged=result.unchanged,
                            events_published=len(events) + 1, encoding=table.encoding, finished_at=uow.now())
            self.progress.set(job.id, "committing", 95)
            uow.commit()

    def _fail(self, job, code: str, detail: str) -> None:
        with self.unit_of_work() as uow:
            uow.publish(ImportCompleted(job_id=job.id, kind=job.kind, status=jobs.FAILED, accepted=0, rejected=0,
                                        unchanged=0, completed_at=uow.now()))
            jobs.update_job(uow.session, job.id, status=jobs.FAILED, problem_code=code, problem_detail=detail,
                            events_published=1, finished_at=uow.now())
            uow.commit()


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """A large import holds millions of young objects (cells, facts, event rows) that are all alive:
    the cyclic collector would traverse them again and again (~30% of the job) to free nothing.
    Reference counting still frees everything as usual; cycles wait until the job ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
