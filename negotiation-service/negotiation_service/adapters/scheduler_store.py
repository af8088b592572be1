"""A durable schedule: due jobs in a table, claimed atomically.

A job is claimed by `UPDATE ... SET status='done' WHERE job_id = :id AND status = 'pending'` inside
the same transaction as its effect: with several replicas, exactly one UPDATE matches (the others
wait for its commit and then match nothing); if the worker dies before committing, the job is still
pending and runs again. No in-memory timers: a restarted service finds what is due in the table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from negotiation_service.adapters.tables import scheduled_jobs

PENDING, DONE, FAILED = "pending", "done", "failed"


def job_id_for(kind: str, subject: str) -> str:
    return f"{kind}:{subject}"


def schedule(session: Session, kind: str, subject: str, due_at: datetime) -> str:
    job_id = job_id_for(kind, subject)
    session.execute(scheduled_jobs.insert().values(
        job_id=job_id, kind=kind, subject=subject, due_at=due_at, status=PENDING, attempts=0,
    ))
    return job_id


def due_jobs(session: Session, now: datetime, limit: int = 20) -> list:
    return session.execute(
        select(scheduled_jobs.c.job_id, scheduled_jobs.c.kind, scheduled_jobs.c.subject)
        .where(scheduled_jobs.c.status == PENDING, scheduled_jobs.c.due_at <= now)
        .order_by(scheduled_jobs.c.due_at, scheduled_jobs.c.job_id)
        .limit(limit)
    ).all()


def claim(session: Session, job_id: str, now: datetime, worker: str) -> bool:
    """Mark the job done in the caller's transaction; False if another worker got it first."""
    result = session.execute(
        scheduled_jobs.update()
        .where(scheduled_jobs.c.job_id == job_id, scheduled_jobs.c.status == PENDING)
        .values(status=DONE, done_at=now, done_by=worker, attempts=scheduled_jobs.c.attempts + 1)
    )
    return result.rowcount == 1


def record_failure(session: Session, job_id: str, error: str, max_attempts: int) -> None:
    row = session.execute(select(scheduled_jobs.c.attempts).where(scheduled_jobs.c.job_id == job_id)).first()
    attempts = (row.attempts if row else 0) + 1
    session.execute(
        scheduled_jobs.update()
        .where(scheduled_jobs.c.job_id == job_id, scheduled_jobs.c.status == PENDING)
        .values(attempts=attempts, last_error=error[:2000], status=FAILED if attempts >= max_attempts else PENDING)
    )


def job(session: Session, job_id: str):
    return session.execute(select(scheduled_jobs).where(scheduled_jobs.c.job_id == job_id)).first()
