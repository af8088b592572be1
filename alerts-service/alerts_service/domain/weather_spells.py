"""Heat spells (casebook C20): tmax ≥ threshold (inclusive) on N consecutive calendar days.

- "≥ 35" is inclusive (以上 includes the number itself); 34.99 does not count.
- A missing value (tmax None) or a missing date breaks the run and yields a data-quality warning;
  a missing value is neither hot nor cold.
- A spell *fires on its Nth day*. DECIDED: the uplift covers every day of the spell from its
  first day (retroactive to day 1), up to the last consecutive hot day known when it fires.
- Forecasts are looked at up to `lead_days` ahead of today, so a spell seen in a forecast fires
  `lead_days` before its Nth day; observations of days after today are ignored.
- An observation overrides a forecast of the same day; a later forecast overrides an earlier one.
- A spell that overlaps or touches a spell already fired by the same rule (any version) is the
  same spell: it is an extension, never a second uplift. A spell that ended more than
  `STALE_AFTER_DAYS` before today is history: recorded, not acted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

STALE_AFTER_DAYS = 2
MISSING_VALUE = "missing_value"
MISSING_DATE = "missing_date"


@dataclass(frozen=True)
class WeatherReading:
    day: date
    kind: str  # observation | forecast
    tmax_c: Decimal | None
    issued_on: date | None = None
    revision: int = 1


@dataclass(frozen=True)
class Spell:
    start: date
    fire_day: date  # the Nth day
    end: date  # the last consecutive hot day known
    peak_c: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def overlaps_or_touches(self, start: date, end: date) -> bool:
        return self.start <= end + timedelta(days=1) and start <= self.end + timedelta(days=1)


@dataclass(frozen=True)
class DataQualityWarning:
    day: date
    reason: str  # missing_value | missing_date
    interrupted_run: int  # hot days in a row just before the gap (0 when no run was broken)


@dataclass(frozen=True)
class SpellScan:
    spells: tuple[Spell, ...]
    warnings: tuple[DataQualityWarning, ...]


@dataclass(frozen=True)
class FiredSpell:
    start: date
    end: date


@dataclass(frozen=True)
class SpellDecision:
    spell: Spell
    decision: str  # fire | extend | already_fired | past
    fired: FiredSpell | None = None  # the earlier spell it continues, for extend / already_fired


def best_known_tmax(readings: Iterable[WeatherReading], today: date, lead_days: int, source: str = "any"):
    """Day → tmax (None = a missing value) from the readings usable on `today`.

    Observations of days after today and forecasts issued after today are not known yet;
    forecasts reach at most `lead_days` beyond today.
    """
    horizon = today + timedelta(days=lead_days)
    best: dict[date, tuple[tuple, Decimal | None]] = {}
    for reading in readings:
        if reading.kind == "observation":
            if source == "forecast" or reading.day > today:
                continue
            rank = (1, date.min, reading.revision)
        elif reading.kind == "forecast":
            if source == "observation" or reading.day > horizon:
                continue
            if reading.issued_on is not None and reading.issued_on > today:
                continue
            rank = (0, reading.issued_on or date.min, reading.revision)
        else:
            raise ValueError(f"unknown weather kind {reading.kind!r}")
        current = best.get(reading.day)
        if current is None or rank >= current[0]:
            best[reading.day] = (rank, reading.tmax_c)
    return {day: value for day, (_, value) in sorted(best.items())}


def find_spells(
    series: Mapping[date, Decimal | None],
    threshold_c: Decimal = Decimal("35"),
    min_days: int = 3,
    first_day: date | None = None,
    last_day: date | None = None,
) -> SpellScan:
    """Scan every calendar day from `first_day` to `last_day` (default: the series' range)."""
    if not series and (first_day is None or last_day is None):
        return SpellScan((), ())
    day = first_day or min(series)
    last = last_day or max(series)
    spells: list[Spell] = []
    warnings: list[DataQualityWarning] = []
    run_start: date | None = None
    run_length = 0
    peak = Decimal("-Infinity")

    def close_run(end: date) -> None:
        if run_start is not None and run_length >= min_days:
            spells.append(Spell(run_start, run_start + timedelta(days=min_days - 1), end, peak))

    while day <= last:
        if day not in series or series[day] is None:
            reason = MISSING_DATE if day not in series else MISSING_VALUE
            warnings.append(DataQualityWarning(day, reason, run_length))
            close_run(day - timedelta(days=1))
            run_start, run_length, peak = None, 0, Decimal("-Infinity")
        elif series[day] >= threshold_c:
            if run_start is None:
                run_start = day
            run_length += 1
            peak = max(peak, series[day])
        else:
            close_run(day - timedelta(days=1))
            run_start, run_length, peak = None, 0, Decimal("-Infinity")
        day += timedelta(days=1)
    close_run(last)
    return SpellScan(tuple(spells), tuple(warnings))


def decide(spells: Iterable[Spell], fired: Iterable[FiredSpell], today: date) -> list[SpellDecision]:
    """What to do with each spell found, given the spells this rule has already fired for the city."""
    fired = list(fired)
    decisions = []
    for spell in spells:
        earlier = next((f for f in fired if spell.overlaps_or_touches(f.start, f.end)), None)
        if earlier is not None:
            grows = spell.end > earlier.end or spell.start < earlier.start
            decisions.append(SpellDecision(spell, "extend" if grows else "already_fired", earlier))
        elif spell.end < today - timedelta(days=STALE_AFTER_DAYS):
            decisions.append(SpellDecision(spell, "past"))
        else:
            decisions.append(SpellDecision(spell, "fire"))
    return decisions


def severity(peak_c: Decimal) -> str:
    """CMA 高温预警 colours: red ≥ 40 °C, orange ≥ 37 °C, yellow otherwise (a 3-day spell ≥ 35 °C)."""
    if peak_c >= Decimal(40):
        return "red"
    if peak_c >= Decimal(37):
        return "orange"
    return "yellow"
