"""Import jobs, raw uploads and rejected rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingestion_service.adapters.tables import import_jobs, raw_uploads, rejected_rows
from ingestion_service.domain.problems import RowError

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"


def record_raw_upload(session: Session, sha256: str, size: int, filename: str | None,
                      content_type: str | None, stored_path: str, now: datetime) -> None:
    exists = session.execute(select(raw_uploads.c.sha256).where(raw_uploads.c.sha256 == sha256)).first()
    if exists is None:
        session.execute(raw_uploads.insert().values(
            sha256=sha256, size=size, filename=filename, content_type=content_type,
            stored_path=stored_path, received_at=now))


def create_job(session: Session, *, job_id: str, kind: str, sha256: str, filename: str | None,
               file_format: str | None, source: str, options: dict[str, Any], now: datetime) -> None:
    session.execute(import_jobs.insert().values(
        id=job_id, kind=kind, status=QUEUED, sha256=sha256, filename=filename, file_format=file_format,
        source=source, options=json.dumps(options, ensure_ascii=False), rows_read=0, accepted=0, rejected=0,
        unchanged=0, events_published=0, created_at=now))


def get_job(session: Session, job_id: str):
    return session.execute(select(import_jobs).where(import_jobs.c.id == job_id)).first()


def list_jobs(session: Session, limit: int = 50):
    return session.execute(select(import_jobs).order_by(import_jobs.c.created_at.desc()).limit(limit)).all()


def unfinished_job_ids(session: Session) -> list[str]:
    return list(session.execute(
        select(import_jobs.c.id).where(import_jobs.c.status.in_([QUEUED, RUNNING]))
        .order_by(import_jobs.c.created_at, import_jobs.c.id)).scalars())


def update_job(session: Session, job_id: str, **values: Any) -> None:
    session.execute(import_jobs.update().where(import_jobs.c.id == job_id).values(**values))


def save_rejected_rows(session: Session, job_id: str, errors: Iterable[RowError]) -> None:
    rows = [{"job_id": job_id, "row_number": e.row, "column_name": e.column, "value": e.value,
             "code": e.code, "reason": e.reason} for e in errors]
    if rows:
        session.execute(rejected_rows.insert(), rows)


def iter_rejected_rows(session: Session, job_id: str) -> Iterator[RowError]:
    query = (select(rejected_rows).where(rejected_rows.c.job_id == job_id)
             .order_by(rejected_rows.c.row_number, rejected_rows.c.id))
    for row in session.execute(query):
        yield RowError(row.row_number, row.column_name, row.value, row.code, row.reason)
