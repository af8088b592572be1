"""Bounded batches keyed by city: at most N facts per event, each city's facts in their order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

MAX_FACTS_PER_EVENT = 500

T = TypeVar("T")


@dataclass(frozen=True)
class CityBatch(Generic[T]):
    city_code: str
    items: tuple[T, ...]


def batches_by_city(items: Iterable[T], city_of: Callable[[T], str],
                    size: int = MAX_FACTS_PER_EVENT) -> list[CityBatch[T]]:
    """Group by city (cities in order of first appearance), then cut each city's run into chunks of
    at most `size`, keeping the input order within the city."""
    if size < 1:
        raise ValueError("a batch holds at least one fact")
    by_city: dict[str, list[T]] = {}
    for item in items:
        by_city.setdefault(city_of(item), []).append(item)
    return [
        CityBatch(city, tuple(facts[start:start + size]))
        for city, facts in by_city.items()
        for start in range(0, len(facts), size)
    ]
