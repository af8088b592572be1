"""Work a consumer's handlers gather during one transaction and apply together just before it commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from shared.outbox import UnitOfWork

T = TypeVar("T")


class Pending(Generic[T]):
    """Items added by handlers, applied in order by `apply` at commit, or earlier by `flush()`
    (when what comes next must see them applied)."""

    def __init__(self, apply: Callable[[list[T]], object]) -> None:
        self.items: list[T] = []
        self._apply = apply

    def add(self, item: T) -> None:
        self.items.append(item)

    def flush(self) -> None:
        items, self.items = self.items, []
        if items:
            self._apply(items)


def pending(uow: UnitOfWork, key: str, apply: Callable[[list[T]], object]) -> Pending[T]:
    """This transaction's `Pending` under `key` (created, and registered to run at commit, on first use)."""
    registry = uow.session.info.setdefault("alerts.pending", {})
    if key not in registry:
        registry[key] = Pending(apply)
        uow.before_commit(key, registry[key].flush)
    return registry[key]


def flush_pending(uow: UnitOfWork, key: str) -> None:
    """Apply what is pending under `key` now (before work whose outcome depends on it)."""
    found = uow.session.info.get("alerts.pending", {}).get(key)
    if found is not None:
        found.flush()
