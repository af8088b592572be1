"""Facts the rules read: cities, per-outlet and per-city daily sales, weather, package periods."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    Date,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from alerts_service.adapters.tables import (
    cities,
    city_daily_actuals,
    outlet_daily_sales,
    packages,
    weather_days,
    weather_quality_warnings,
)
from alerts_service.domain.cities import CityDirectory, CityInfo
from alerts_service.domain.weather_spells import WeatherReading
from shared.db import UTCDateTime, set_based_upsert


class FactRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cities ----------------------------------------------------------------------------------
    def upsert_city(self, city: CityInfo) -> None:
        existing = self.session.execute(select(cities).where(cities.c.code == city.code)).first()
        values = {"name": city.name, "province": city.province, "region": city.region}
        if existing is None:
            self.session.execute(cities.insert().values(code=city.code, **values))
        elif (existing.name, existing.province, existing.region) != (city.name, city.province, city.region):
            self.session.execute(cities.update().where(cities.c.code == city.code).values(**values))

    def city(self, code: str, fallback_name: str, fallback_region: str) -> CityInfo:
        row = self.session.execute(select(cities).where(cities.c.code == code)).first()
        if row is None:
            return CityInfo(code, fallback_name, fallback_region)
        return CityInfo(row.code, row.name, row.region, row.province)

    def directory(self, groups: dict[str, tuple[str, ...]]) -> CityDirectory:
        rows = self.session.execute(select(cities))
        return CityDirectory.of((CityInfo(r.code, r.name, r.region, r.province) for r in rows), groups)

    # -- sales -----------------------------------------------------------------------------------
    def store_sales(self, city_code: str, facts: Iterable, now: datetime) -> set[date]:
        """Store one batch of a city's outlet facts; returns the days that changed (see `store_sales_batches`)."""
        return self.store_sales_batches([(city_code, facts)], now)[0]

    def store_sales_batches(self, batches: Sequence[tuple[str, Iterable]], now: datetime) -> list[set[date]]:
        """Store batches of (city, outlet facts) as if one after the other, and re-total the touched
        (city, day)s; returns, per batch, the days it changed.

        Within a batch a revision replaces a lower one, and a new key keeps its highest revision (the
        later fact on a tie); a stored key (stored before, or by an earlier batch) is replaced only
        by a strictly higher revision. Set-based: one `INSERT … ON CONFLICT … DO UPDATE … WHERE
        excluded.revision > stored.revision RETURNING key` for all batches (a key given once is
        settled by that WHERE; only keys given more than once need their stored revision, one small
        query) and one re-total of every (city, day) that changed.
        """
        keyed = [_facts_by_key(city_code, facts) for city_code, facts in batches]
        changed: list[set[date]] = [set() for _ in keyed]
        repeated = _repeated_keys(keyed)
        chosen = self._replay_repeated(keyed, repeated, changed) if repeated else {}
        owner = {key: index for index, facts in enumerate(keyed) for key in facts if key not in repeated}
        rows = [_sales_row(key, sequence[0]) for facts in keyed for key, sequence in facts.items()
                if key not in repeated]
        rows += [_sales_row(key, fact) for key, fact in chosen.items()]
        returned = set_based_upsert(self.session, outlet_daily_sales, rows, _SALES_KEY, revisioned=True,
                                    strictly_newer=True, returning=_SALES_KEY) if rows else []
        for row in returned:
            index = owner.get(tuple(row))
            if index is not None:
                changed[index].add(row[1])
        pairs = {(city_code, day) for (city_code, _), days in zip(batches, changed, strict=True) for day in days}
        if pairs:
            self._retotal(pairs, now)
        return changed

    def _replay_repeated(self, keyed: list[dict], repeated: set[tuple], changed: list[set[date]]) -> dict:
        """The keys given more than once, applied batch by batch from their stored revisions: the
        fact each key ends with (those that change), and the days each batch changes."""
        current = self._stored_revisions(repeated)
        chosen: dict[tuple, object] = {}
        for index, facts in enumerate(keyed):
            for key, sequence in facts.items():
                if key not in repeated:
                    continue
                kept = _kept_fact(sequence, current.get(key))
                if kept is not None:
                    chosen[key] = kept
                    current[key] = kept.revision
                    changed[index].add(key[1])
        return chosen

    def _stored_revisions(self, keys: set[tuple]) -> dict[tuple, int]:
        table = outlet_daily_sales
        columns = [table.c[name] for name in _SALES_KEY]
        rows = self.session.execute(select(*columns, table.c.revision).where(
            *_key_prefix(table, keys), tuple_(*columns).in_(keys))).all()
        return {(city_code, day, outlet_id, channel): revision for city_code, day, outlet_id, channel, revision in rows}

    def _retotal(self, pairs: set[tuple[str, date]], now: datetime) -> None:
        """Recompute the totals of these (city, day)s inside the database (delete + INSERT … SELECT)."""
        stored, facts = city_daily_actuals, outlet_daily_sales
        self.session.execute(stored.delete().where(*self._among(stored, pairs)))
        totals = select(
            facts.c.city_code,
            facts.c.day,
            func.sum(facts.c.orders),
            func.count(func.distinct(facts.c.outlet_id)),
            literal(now, UTCDateTime()),
        )
        if self.session.get_bind().dialect.name == "postgresql":
            wanted = _pairs_table(pairs)
            totals = totals.select_from(
                facts.join(wanted, and_(facts.c.city_code == wanted.c.city_code, facts.c.day == wanted.c.day)))
        else:
            totals = totals.where(*self._among(facts, pairs))
        self.session.execute(
            stored.insert().from_select(["city_code", "day", "orders", "outlets", "updated_at"],
                                        totals.group_by(facts.c.city_code, facts.c.day))
        )

    def _among(self, table, pairs: set[tuple[str, date]]) -> tuple:
        """WHERE a row's (city_code, day) is one of `pairs`, written so that the primary key's index
        finds them: on PostgreSQL a semi-join with the pairs unnested from two array parameters (an
        `IN` list of row values beside `city IN … AND day IN …` made the planner scan and group the
        cross product of the cities and days of a large group: the history load's bottleneck); on
        SQLite `city IN … AND day IN …` beside the row-value `IN` (`_key_prefix`)."""
        if self.session.get_bind().dialect.name == "postgresql":
            wanted = _pairs_table(pairs)
            return (tuple_(table.c.city_code, table.c.day).in_(select(wanted.c.city_code, wanted.c.day)),)
        pairs = list(pairs)
        return (*_key_prefix(table, pairs), tuple_(table.c.city_code, table.c.day).in_(pairs))

    def city_actuals(self, city_code: str, first: date, last: date) -> dict[date, Decimal]:
        return self.actuals_within({city_code: (first, last)}).get(city_code, {})

    def actuals_within(self, windows: Mapping[str, tuple[date, date]]) -> dict[str, dict[date, Decimal]]:
        """city → day → total orders, for each city's days from `first` to `last` (one query)."""
        table = city_daily_actuals
        found: dict[str, dict[date, Decimal]] = {code: {} for code in windows}
        if windows:
            rows = self.session.execute(
                select(table.c.city_code, table.c.day, table.c.orders).where(_within(table, windows))
            ).all()
            for city_code, day, orders in rows:
                found[city_code][day] = Decimal(orders)
        return found

    # -- weather ---------------------------------------------------------------------------------
    def weather_within(self, applied: Mapping[str, tuple[date, date]], read: Mapping[str, tuple[date, date]],
                       as_of: date | None, observation_wins: bool = False) -> WeatherLedger:
        """The stored weather, to apply batches to (the cities' `applied` days) and to read as of
        `as_of` or later (their `read` days), in one query."""
        return WeatherLedger(self.session, applied, read, as_of, observation_wins)

    def quality_warning_keys(self, windows: Mapping[str, tuple[date, date]]) -> set[tuple[str, date, str]]:
        """(city, day, reason) of the data-quality warnings recorded within these cities' windows."""
        if not windows:
            return set()
        table = weather_quality_warnings
        return {tuple(row) for row in self.session.execute(
            select(table.c.city_code, table.c.day, table.c.reason).where(_within(table, windows))).all()}

    def insert_quality_warnings(self, rows: list[dict]) -> None:
        """New warnings ({city_code, day, reason, first_seen_at}), each (city, day, reason) not recorded yet."""
        if rows:
            self.session.execute(weather_quality_warnings.insert(), rows)

    def quality_warnings(self, city_code: str | None = None) -> list:
        query = select(weather_quality_warnings).order_by(
            weather_quality_warnings.c.city_code, weather_quality_warnings.c.day
        )
        if city_code is not None:
            query = query.where(weather_quality_warnings.c.city_code == city_code)
        return list(self.session.execute(query))

    # -- packages --------------------------------------------------------------------------------
    def upsert_package(self, package_id: str, period_start: date, period_end: date) -> None:
        if self.session.execute(select(packages.c.package_id).where(packages.c.package_id == package_id)).first():
            return
        self.session.execute(
            packages.insert().values(package_id=package_id, period_start=period_start, period_end=period_end)
        )

    def package_period(self, package_id: str) -> tuple[date, date] | None:
        row = self.session.execute(select(packages).where(packages.c.package_id == package_id)).first()
        return None if row is None else (row.period_start, row.period_end)


class WeatherLedger:
    """Stored weather rows of some cities, held in memory: batches of weather days are applied to it
    in order, it answers what the table would hold at that point, and `save()` writes the changes
    (one insert of the new rows, one executemany of the updates).

    A new (city, day, source) is inserted; a stored one is replaced by an equal or higher revision.
    Batches may apply only to the cities' `applied` days, which are loaded in full; readings may be
    asked only within the `read` days and as of `as_of` or later (and, with `observation_wins`, only
    for rules that do not read forecasts alone): forecasts that never count there are not loaded
    (`_never_counts`).
    """

    def __init__(self, session: Session, applied: Mapping[str, tuple[date, date]],
                 read: Mapping[str, tuple[date, date]], as_of: date | None, observation_wins: bool = False) -> None:
        self._session = session
        self._rows: dict[str, dict[tuple[date, str], WeatherReading]] = {code: {} for code in (*applied, *read)}
        self._stored: set[tuple[str, date, str]] = set()
        self._changed: dict[tuple[str, date, str], WeatherReading] = {}
        if not applied and not read:
            return
        table = weather_days
        where = [_within(table, applied)] if applied else []
        if read:
            where.append(_within(table, read) if as_of is None
                         else and_(_within(table, read), ~_never_counts(as_of, observation_wins)))
        rows = session.execute(
            select(table.c.city_code, table.c.day, table.c.source_key, table.c.kind, table.c.issued_on,
                   table.c.tmax_c, table.c.revision).where(or_(*where))
        ).all()
        for city_code, day, source_key, kind, issued_on, tmax_c, revision in rows:
            self._rows[city_code][(day, source_key)] = WeatherReading(day, kind, tmax_c, issued_on, revision)
            self._stored.add((city_code, day, source_key))

    def apply(self, city_code: str, days: Iterable) -> None:
        """Apply one batch's weather days in order."""
        rows = self._rows[city_code]
        for item in days:
            key = (item.day, _source_key(item))
            current = rows.get(key)
            if current is not None and item.revision < current.revision:
                continue
            reading = WeatherReading(item.day, item.kind, _as_stored(item.tmax_c), item.issued_on, item.revision)
            rows[key] = reading
            self._changed[(city_code, *key)] = reading

    def readings(self, city_code: str, first: date, last: date) -> list[WeatherReading]:
        return [reading for reading in self._rows[city_code].values() if first <= reading.day <= last]

    def save(self) -> None:
        inserted, updated = [], []
        for (city_code, day, source_key), reading in self._changed.items():
            values = {"kind": reading.kind, "issued_on": reading.issued_on, "tmax_c": reading.tmax_c,
                      "revision": reading.revision}
            if (city_code, day, source_key) in self._stored:
                updated.append({"key_city": city_code, "key_day": day, "key_source": source_key, **values})
            else:
                inserted.append({"city_code": city_code, "day": day, "source_key": source_key, **values})
        self._stored.update(self._changed)
        self._changed = {}
        if inserted:
            self._session.execute(weather_days.insert(), inserted)
        if updated:
            self._session.execute(
                weather_days.update().where(
                    weather_days.c.city_code == bindparam("key_city"), weather_days.c.day == bindparam("key_day"),
                    weather_days.c.source_key == bindparam("key_source"),
                ),
                updated,
            )


_SALES_KEY = ("city_code", "day", "outlet_id", "channel")


def _pairs_table(pairs: Iterable[tuple[str, date]]):
    """PostgreSQL: `unnest(:codes, :days) AS pairs(city_code, day)`, two array parameters whatever the count."""
    pairs = list(pairs)
    return func.unnest(
        bindparam("pair_codes", [code for code, _ in pairs], type_=ARRAY(String)),
        bindparam("pair_days", [day for _, day in pairs], type_=ARRAY(Date)),
    ).table_valued(column("city_code", String), column("day", Date)).render_derived(name="pairs")


def _key_prefix(table, keys: Iterable[tuple]) -> tuple:
    """`city_code IN … AND day IN …` for keys starting (city, day): lets the primary key's index find
    the rows a row-value `IN` names (SQLite would scan the table for the row values alone)."""
    keys = list(keys)
    return table.c.city_code.in_({key[0] for key in keys}), table.c.day.in_({key[1] for key in keys})


def _within(table, windows: Mapping[str, tuple[date, date]]):
    """WHERE a row's city has a window and its day lies in it (cities sharing a window share a term)."""
    codes_by_window: dict[tuple[date, date], list[str]] = {}
    for code, window in windows.items():
        codes_by_window.setdefault(window, []).append(code)
    return or_(*(and_(table.c.city_code.in_(codes), table.c.day >= first, table.c.day <= last)
                 for (first, last), codes in codes_by_window.items()))


def _never_counts(as_of: date, observation_wins: bool):
    """Stored forecasts that never count in readings as of `as_of` or later (`best_known_tmax`): one
    for whose day a later forecast issued by `as_of` is stored and, when `observation_wins` (no rule
    reads forecasts only), one of a day up to `as_of` that has an observation. Written on the primary
    key alone ("forecast:<issued_on>" orders as the dates do and below "observation"), so SQLite
    decides from the index without reading the row."""
    table, other = weather_days, weather_days.alias("other")
    issued_by = _FORECAST_KEY + as_of.isoformat()
    same_day = (other.c.city_code == table.c.city_code, other.c.day == table.c.day)
    never = [and_(table.c.source_key < issued_by,
                  exists().where(*same_day, other.c.source_key > table.c.source_key, other.c.source_key <= issued_by))]
    if observation_wins:
        never.append(and_(table.c.source_key != _OBSERVATION_KEY, table.c.day <= as_of,
                          exists().where(*same_day, other.c.source_key == _OBSERVATION_KEY)))
    return or_(*never)


def _facts_by_key(city_code: str, facts: Iterable) -> dict[tuple, list]:
    keyed: dict[tuple, list] = {}
    for fact in facts:
        keyed.setdefault((city_code, fact.day, fact.outlet_id, fact.channel), []).append(fact)
    return keyed


def _repeated_keys(keyed: list[dict[tuple, list]]) -> set[tuple]:
    """Keys given more than once, in one batch or across batches."""
    seen: set[tuple] = set()
    repeated: set[tuple] = set()
    for facts in keyed:
        for key, sequence in facts.items():
            if key in seen or len(sequence) > 1:
                repeated.add(key)
            seen.add(key)
    return repeated


def _sales_row(key: tuple, fact) -> dict:
    return {"city_code": key[0], "day": key[1], "outlet_id": key[2], "channel": key[3], "orders": fact.orders,
            "revision": fact.revision}


def _as_stored(value: Decimal | None) -> Decimal | None:
    """A temperature as the table gives it back (plain notation, its scale kept)."""
    return None if value is None else Decimal(format(Decimal(value), "f"))


_OBSERVATION_KEY = "observation"
_FORECAST_KEY = "forecast:"


def _source_key(item) -> str:
    return _OBSERVATION_KEY if item.kind == "observation" else _FORECAST_KEY + item.issued_on.isoformat()


def _kept_fact(sequence: list, stored_revision: int | None):
    """The fact that applying `sequence` one by one leaves stored (None: the stored row stays)."""
    current, inserted, kept = stored_revision, stored_revision is None, None
    for fact in sequence:
        if current is None or fact.revision > current or (inserted and fact.revision == current):
            kept, current = fact, fact.revision
    return kept
