"""The facts an import produces, each with its natural key and the value a revision compares.

Re-importing a fact whose value equals the stored one changes nothing; a different value becomes
the next revision (see `revisions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, NamedTuple, Protocol, TypeVar

from ingestion_service.domain.problems import RowError


class Fact(Protocol):
    @property
    def key(self) -> tuple: ...

    @property
    def value(self) -> tuple: ...


@dataclass(frozen=True, slots=True)
class Outlet:
    outlet_id: str
    city_code: str
    channel: str
    opened_on: date | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple:
        return (self.outlet_id,)

    @property
    def value(self) -> tuple:
        return (self.city_code, self.channel, self.opened_on, self.attributes)


class SalesFact(NamedTuple):
    """A named tuple rather than a frozen dataclass: a wide file makes ~600k of them, and a tuple is
    built in C (a frozen dataclass sets each field through `object.__setattr__`)."""

    day: date
    outlet_id: str
    channel: str
    city_code: str
    orders: int
    revenue: Decimal | None = None
    units: int | None = None

    @property
    def key(self) -> tuple:
        return (self.day, self.outlet_id, self.channel)

    @property
    def value(self) -> tuple:
        return (self.orders, self.revenue, self.units)


@dataclass(frozen=True, slots=True)
class FulfilmentFact:
    day: date
    dealer_id: str
    city_code: str
    quantity_ordered: int
    quantity_delivered: int

    @property
    def key(self) -> tuple:
        return (self.day, self.dealer_id)

    @property
    def value(self) -> tuple:
        return (self.city_code, self.quantity_ordered, self.quantity_delivered)


OBSERVATION = "observation"
FORECAST = "forecast"


@dataclass(frozen=True, slots=True)
class WeatherFact:
    city_code: str
    day: date
    kind: str
    issued_on: date | None
    tmax_c: Decimal | None
    tmin_c: Decimal | None
    text: str | None = None
    wind: str | None = None

    @property
    def key(self) -> tuple:
        return (self.city_code, self.day, self.kind, self.issued_on)

    @property
    def value(self) -> tuple:
        return (self.tmax_c, self.tmin_c, self.text, self.wind)


@dataclass(frozen=True, slots=True)
class WeatherWarningFact:
    warning_id: str
    city_code: str
    warning_type: str
    level: str
    valid_from: datetime
    valid_to: datetime

    @property
    def key(self) -> tuple:
        return (self.warning_id,)

    @property
    def value(self) -> tuple:
        return (self.city_code, self.warning_type, self.level, self.valid_from, self.valid_to)


F = TypeVar("F")


@dataclass
class Parsed(Generic[F]):
    """What a file yields: facts with the row they came from, and the rows rejected with reasons."""

    facts: list[tuple[int, F]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
