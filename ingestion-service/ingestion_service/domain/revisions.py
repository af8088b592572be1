"""Idempotent re-import: a fact's natural key decides whether it is new, unchanged or a correction.

Identical value → unchanged (nothing is published). Different value → revision + 1, published as a
correction that downstream treats as the truth. Two rows of one file with the same key and
different values are a conflict: the later row is rejected, pointing at the earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from ingestion_service.domain.problems import RowError

F = TypeVar("F")


@dataclass(frozen=True)
class Stored:
    value: tuple
    revision: int


class Revised(NamedTuple, Generic[F]):
    """One per changed fact (hundreds of thousands per large file: a tuple, built in C)."""

    fact: F
    revision: int
    row: int

    @property
    def is_correction(self) -> bool:
        return self.revision > 1


@dataclass
class Reconciliation(Generic[F]):
    changed: list[Revised[F]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return len(self.changed)


def _describe(key: tuple) -> str:
    return " / ".join(str(part) for part in key)


def reconcile(facts: Sequence[tuple[int, F]], stored: Mapping[tuple, Stored]) -> Reconciliation[F]:
    """Compare parsed facts (row, fact) with what is stored under their keys."""
    result: Reconciliation[F] = Reconciliation()
    first_seen: dict[tuple, tuple[int, tuple]] = {}
    seen, stored_of, changed = first_seen.get, stored.get, result.changed.append
    for row, fact in facts:
        key, value = fact.key, fact.value  # type: ignore[attr-defined]
        earlier = seen(key)
        if earlier is not None:
            if earlier[1] == value:
                result.unchanged += 1
            else:
                result.errors.append(RowError(
                    row, "", _describe(key), "conflicting_duplicate",
                    f"row {earlier[0]} has the same key ({_describe(key)}) with a different value",
                ))
            continue
        first_seen[key] = (row, value)
        previous = stored_of(key)
        if previous is None:
            changed(Revised(fact, 1, row))
        elif previous.value == value:
            result.unchanged += 1
        else:
            changed(Revised(fact, previous.revision + 1, row))
    return result
