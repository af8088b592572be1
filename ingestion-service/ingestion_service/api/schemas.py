"""What the ingestion API reads and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.timeutil import to_shanghai


class ImportJobRead(BaseModel):
    id: str
    kind: str
    status: str = Field(description="queued | running | succeeded | failed")
    phase: str | None = Field(None, description="what a running job is doing now")
    progress_percent: int
    filename: str | None
    sha256: str = Field(description="the raw file's SHA-256; the bytes are kept")
    source: str
    encoding: str | None
    rows_read: int
    accepted: int = Field(description="facts new or corrected (published)")
    rejected: int = Field(description="rows rejected; see the error report")
    unchanged: int = Field(description="facts identical to what was already stored")
    events_published: int
    problem_code: str | None = None
    problem_detail: str | None = None
    created_at: datetime
    created_at_local: str
    finished_at: datetime | None = None
    error_report_url: str

    @classmethod
    def from_row(cls, row, phase: str | None, percent: int | None, base_path: str) -> ImportJobRead:
        done = row.status in ("succeeded", "failed")
        return cls(
            id=row.id, kind=row.kind, status=row.status, phase=phase, filename=row.filename, sha256=row.sha256,
            progress_percent=100 if done else (percent or 0), source=row.source, encoding=row.encoding,
            rows_read=row.rows_read, accepted=row.accepted, rejected=row.rejected, unchanged=row.unchanged,
            events_published=row.events_published, problem_code=row.problem_code,
            problem_detail=row.problem_detail, created_at=row.created_at,
            created_at_local=to_shanghai(row.created_at).isoformat(), finished_at=row.finished_at,
            error_report_url=f"{base_path}/imports/{row.id}/errors.csv",
        )


class CityRead(BaseModel):
    code: str
    name: str
    province: str
    region: str
    lng: str | None
    lat: str | None
    gdp_100m_cny: str | None
    gdp_growth: str | None
    aliases: list[str]


class SalesTotalRead(BaseModel):
    city_code: str | None
    start: str
    end: str
    regions: list[str] | None = Field(None, description="the regions totalled (a regional director's total); "
                                                        "null for one city or the national total")
    orders: int
    facts: int


class PullRunRead(BaseModel):
    source: str
    status: str
    job_ids: list[str]
