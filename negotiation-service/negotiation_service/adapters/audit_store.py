"""The audit trail in the database: appends serialised by locking one head row, so the chain
never forks even with several replicas writing at once."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from negotiation_service.adapters.tables import audit_head, audit_log
from negotiation_service.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    ChainVerification,
    next_entry,
    verify_chain,
)


def append_audit(session: Session, actor: str, at: datetime, action: str, entity: str, before: Any,
                 after: Any) -> AuditEntry:
    head = session.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).first()
    if head is None:
        raise RuntimeError("the audit head row is missing: call ensure_audit_head() at start-up")
    previous = None
    if head.seq > 0:
        previous = _entry(session.execute(select(audit_log).where(audit_log.c.seq == head.seq)).one())
    entry = next_entry(previous, actor, at, action, entity, before, after)
    session.execute(audit_log.insert().values(
        seq=entry.seq, actor=entry.actor, at=entry.at, action=entry.action, entity=entry.entity,
        before=_text(entry.before), after=_text(entry.after), prev_hash=entry.prev_hash, hash=entry.hash,
    ))
    session.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=entry.seq, hash=entry.hash))
    return entry


def ensure_audit_head(engine: Engine) -> None:
    """Create the single head row once (idempotent; a concurrent replica may win the insert)."""
    with engine.begin() as connection:
        if connection.execute(select(audit_head.c.id).where(audit_head.c.id == 1)).first() is not None:
            return
    try:
        with engine.begin() as connection:
            connection.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS_HASH))
    except IntegrityError:
        pass


def audit_entries(session: Session, entity: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    query = select(audit_log).order_by(audit_log.c.seq)
    if entity is not None:
        query = query.where(audit_log.c.entity == entity)
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row) for row in session.execute(query).all()]


def verify_audit(session: Session) -> ChainVerification:
    return verify_chain(audit_entries(session))


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _entry(row) -> AuditEntry:
    return AuditEntry(row.seq, row.actor, row.at, row.action, row.entity, json.loads(row.before),
                      json.loads(row.after), row.prev_hash, row.hash)
