"""The audit trail: append-only rows chained by SHA-256.

Each row's hash covers a canonical JSON of (seq, actor, at, action, entity, before, after,
prev_hash): keys sorted, no spaces, UTF-8 without escaping, Decimals as strings, times as UTC ISO.
The first row's prev_hash is 64 zeros. Verification walks the rows in order and names the first
row whose sequence, link or hash does not hold.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from negotiation_service.domain.errors import require_aware
from shared.timeutil import UTC

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    actor: str
    at: datetime
    action: str
    entity: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    rows: int
    first_broken_seq: int | None = None
    problem: str | None = None


def jsonable(value: Any) -> Any:
    """Plain JSON values: Decimals as strings, times as UTC ISO, enums by value, dataclasses as dicts."""
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return require_aware(value).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {key: jsonable(item) for key, item in asdict(value).items()}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(item) for item in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        raise TypeError("floats do not belong in the audit trail; use Decimal")
    raise TypeError(f"cannot put {type(value).__name__} in the audit trail")


def canonical_json(payload: dict[str, Any]) -> str:
    return json.dumps(jsonable(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(seq: int, actor: str, at: datetime, action: str, entity: str, before: Any, after: Any,
             prev_hash: str) -> str:
    payload = {
        "seq": seq, "actor": actor, "at": at, "action": action, "entity": entity,
        "before": before, "after": after, "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def next_entry(previous: AuditEntry | None, actor: str, at: datetime, action: str, entity: str,
               before: Any, after: Any) -> AuditEntry:
    """The row that follows `previous` (None for the first row)."""
    at = require_aware(at, "at").astimezone(UTC)
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS_HASH if previous is None else previous.hash
    before, after = jsonable(before), jsonable(after)
    digest = row_hash(seq, actor, at, action, entity, before, after, prev_hash)
    return AuditEntry(seq, actor, at, action, entity, before, after, prev_hash, digest)


def verify_chain(entries: Sequence[AuditEntry]) -> ChainVerification:
    expected_prev = GENESIS_HASH
    for index, entry in enumerate(entries):
        expected_seq = index + 1
        if entry.seq != expected_seq:
            return ChainVerification(False, len(entries), expected_seq, f"row {expected_seq} missing or out of order")
        if entry.prev_hash != expected_prev:
            return ChainVerification(False, len(entries), entry.seq, "prev_hash does not match the previous row")
        recomputed = row_hash(entry.seq, entry.actor, entry.at, entry.action, entry.entity, entry.before,
                              entry.after, entry.prev_hash)
        if recomputed != entry.hash:
            return ChainVerification(False, len(entries), entry.seq, "row content does not match its hash")
        expected_prev = entry.hash
    return ChainVerification(True, len(entries))
