"""Live attainment: recomputed when actuals arrive, throttled `attainment_updated`, period close."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, select

from allocation_service.adapters import fact_store
from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.adapters.tables import city_attainment, daily_sales
from allocation_service.application.packages import current_version
from allocation_service.domain.attainment import Attainment, attainment_for, group_by, rank
from allocation_service.domain.metrics import metric_named
from allocation_service.domain.windows import Window
from shared.events.allocation import AttainmentUpdated, CityActual, PeriodActualsFinalized
from shared.events.ingestion import DailySalesRecorded
from shared.timeutil import shanghai_date


def package_window(package) -> Window:
    return Window(package.period_start, package.period_end)


def latest_fact_day(session, window: Window) -> date | None:
    return session.execute(
        select(func.max(daily_sales.c.day)).where(daily_sales.c.day >= window.start, daily_sales.c.day <= window.end)
    ).scalar()


def today(clock) -> date:
    """The clock's calendar day in Asia/Shanghai: no actual after it counts."""
    return shanghai_date(clock.now())


def city_attainments(session, repository: PackageRepository, package, as_of: date | None,
                     today: date | None = None) -> list[Attainment]:
    """Every city's attainment as of min(`as_of` or the last day with actuals, `today`, the period's end)."""
    window = package_window(package)
    version = current_version(repository, package)
    known = window if today is None else Window(window.start, max(window.start, min(window.end, today)))
    if today is not None and today < window.start:
        latest = None
    else:
        latest = latest_fact_day(session, known)
    as_of = as_of or latest or window.start - timedelta(days=1)
    if today is not None:
        as_of = min(as_of, today)
    actuals = fact_store.daily_actuals(session, window.start, min(as_of, window.end), package.metric)
    quantum = metric_named(package.metric).quantum
    return rank(
        attainment_for(code, window, line.daily, actuals.get(code, {}), as_of, quantum)
        for code, line in version.lines.items()
    )


def channel_attainments(session, package, cities: list[Attainment]) -> list[Attainment]:
    """Channel targets follow each city's channel mix over the 90 days before the period."""
    window = package_window(package)
    mix_window = Window(window.start - timedelta(days=90), window.start - timedelta(days=1))
    column = daily_sales.c.units if package.metric == "units" else daily_sales.c.orders
    mix: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for code, channel, total in session.execute(
        select(daily_sales.c.city_code, daily_sales.c.channel, func.sum(column))
        .where(daily_sales.c.day >= mix_window.start, daily_sales.c.day <= mix_window.end)
        .group_by(daily_sales.c.city_code, daily_sales.c.channel)
    ):
        mix[code][channel] = Decimal(total or 0)
    as_of = cities[0].as_of if cities else window.start
    actual: dict[str, Decimal] = defaultdict(Decimal)
    for channel, total in session.execute(
        select(daily_sales.c.channel, func.sum(column))
        .where(daily_sales.c.day >= window.start, daily_sales.c.day <= min(as_of, window.end),
               daily_sales.c.city_code.in_([a.key for a in cities]))
        .group_by(daily_sales.c.channel)
    ):
        actual[channel] = Decimal(total or 0)
    period_target: dict[str, Decimal] = defaultdict(Decimal)
    to_date: dict[str, Decimal] = defaultdict(Decimal)
    for item in cities:
        shares = mix.get(item.key) or {"all": Decimal(1)}
        weight = sum(shares.values(), Decimal(0)) or Decimal(1)
        for channel, share in shares.items():
            period_target[channel] += item.period_target * share / weight
            to_date[channel] += item.target_to_date * share / weight
    results = []
    quantum = metric_named(package.metric).quantum
    for channel in sorted(set(period_target) | set(actual)):
        pct = None
        if to_date[channel] > 0:
            pct = (actual[channel] * 100 / to_date[channel]).quantize(Decimal("0.1"), rounding="ROUND_HALF_UP")
        elapsed = (min(as_of, window.end) - window.start).days + 1
        projection = (actual[channel] * window.days / elapsed).quantize(quantum) if elapsed > 0 else Decimal(0)
        results.append(Attainment(channel, as_of, period_target[channel].quantize(quantum),
                                  to_date[channel].quantize(quantum), actual[channel], pct, projection))
    return rank(results)


def region_attainments(repository: PackageRepository, package, cities: list[Attainment]) -> list[Attainment]:
    version = current_version(repository, package)
    regions = {code: line.region for code, line in version.lines.items()}
    return group_by(cities, regions, package_window(package), metric_named(package.metric).quantum)


def on_daily_sales(event: DailySalesRecorded, _envelope, uow, cache_key: str = "", throttle_seconds: float = 60.0) -> None:
    """Take the city's facts; at commit, once per transaction (`apply_sales`), they are stored and the
    attainment of the touched cities recomputed. A consumer applies a group of events in one
    transaction, so a day of a hundred cities costs a few statements per package, not several per city."""
    uow.pending("allocation.sales",
                lambda events: apply_sales(uow, PackageRepository(uow.session, cache_key), events, throttle_seconds)
                ).add(event)


def apply_sales(uow, repository: PackageRepository, events: list[DailySalesRecorded], throttle_seconds: float) -> None:
    """Store every fact of these events, recompute the attainment of each touched city in the open
    packages whose period its facts touch (most specific package first), and finalize a package whose
    last day is now covered."""
    fact_store.upsert_sales(uow.session, [row for event in events
                                          for row in fact_store.sales_rows(event.city_code, event.sales)])
    today = shanghai_date(uow.now())  # facts dated after today do not count yet
    spans: dict[str, tuple[date, date]] = {}  # city → (first, last) day of its facts
    for event in events:
        if event.sales:
            first, last = min(s.day for s in event.sales), max(s.day for s in event.sales)
            if event.city_code in spans:
                first, last = min(first, spans[event.city_code][0]), max(last, spans[event.city_code][1])
            spans[event.city_code] = (first, last)
    spans = {code: (first, min(last, today)) for code, (first, last) in spans.items() if min(last, today) >= first}
    if not spans:
        return
    live = _live(uow, repository)
    packages = sorted(live.open_packages, key=_most_specific_first)
    touching = {package.id: [code for code, (first, last) in spans.items()
                             if package.period_start <= last and package.period_end >= first]
                for package in packages}
    actuals = {package.id: fact_store.daily_actuals(
                   uow.session, package.period_start,
                   max(min(spans[code][1], package.period_end) for code in touching[package.id]),
                   package.metric, touching[package.id])
               for package in packages if touching[package.id]}
    for code, (_first, last) in spans.items():
        for package in packages:
            if code in touching[package.id]:
                update_city(uow, repository, package, code, min(last, package.period_end), throttle_seconds,
                            actuals=actuals[package.id].get(code, {}))
    live.save_states()
    latest = max(last for _first, last in spans.values())
    for package in list(live.open_packages):
        if package.period_end <= latest:
            maybe_finalize(uow, repository, package, latest)


def _most_specific_first(package) -> tuple:
    """The order in which a city's packages are updated, and so the order of their
    `attainment_updated` events: the shortest period first (a month before its quarter), then the
    earlier start, then the id. Ids are random, so this is what makes a consumer that reacts to the
    first of them (a lag alert's cooldown per rule and city) see the same package in every run."""
    return (package.period_end - package.period_start, package.period_start, package.id)


class _Live:
    """What one unit of work reads once and then keeps up to date itself: the open packages, their
    current versions and each package's stored attainment rows. A consumer applies a group of
    events in one transaction; within it only these functions change those rows (a new version or
    a superseded package comes from another consumer, in another transaction)."""

    def __init__(self, repository: PackageRepository) -> None:
        self.repository = repository
        self.open_packages = repository.packages(active_only=True)
        self.versions: dict[tuple[str, int], object] = {}
        self.states: dict[str, dict[str, object]] = {}
        self.unsaved: dict[tuple[str, str], dict] = {}  # (package, city) → its new attainment row

    def version(self, package):
        key = (package.id, package.current_version)
        if key not in self.versions:
            self.versions[key] = current_version(self.repository, package)
        return self.versions[key]

    def states_of(self, package_id: str) -> dict[str, object]:
        if package_id not in self.states:
            rows = self.repository.session.execute(
                select(city_attainment).where(city_attainment.c.package_id == package_id))
            self.states[package_id] = {row.city_code: row for row in rows}
        return self.states[package_id]

    def changed(self, values: dict) -> None:
        self.states_of(values["package_id"])[values["city_code"]] = SimpleNamespace(**values)
        self.unsaved[(values["package_id"], values["city_code"])] = values

    def save_states(self) -> None:
        """The changed attainment rows, in one statement."""
        if self.unsaved:
            rows, self.unsaved = list(self.unsaved.values()), {}
            self.repository.save_attainment_states(rows)

    def finalized(self, package_id: str) -> None:
        self.open_packages = [package for package in self.open_packages if package.id != package_id]


def _live(uow, repository: PackageRepository) -> _Live:
    info = uow.session.info
    if "allocation.attainment" not in info:
        info["allocation.attainment"] = _Live(repository)
    return info["allocation.attainment"]


def update_city(uow, repository: PackageRepository, package, city_code: str, as_of: date, throttle_seconds: float,
                actuals: dict[date, Decimal]) -> None:
    """The city's attainment as of `as_of` from its daily `actuals` (days after `as_of` are ignored);
    an `attainment_updated` unless throttled. The stored row is written by `_Live.save_states`."""
    live = _live(uow, repository)
    version = live.version(package)
    line = version.lines.get(city_code)
    if line is None:
        return
    window = package_window(package)
    quantum = metric_named(package.metric).quantum
    result = attainment_for(city_code, window, line.daily, actuals, as_of, quantum)
    states = live.states_of(package.id)
    state = states.get(city_code)
    now = uow.now()
    emit = state is None or state.emitted_as_of is None or as_of > state.emitted_as_of or (
        result.actual_to_date != state.emitted_actual and _older_than(state.emitted_at, now, throttle_seconds)
    )
    values = dict(package_id=package.id, city_code=city_code, as_of=as_of, actual_to_date=result.actual_to_date,
                  attainment_pct=result.attainment_pct, computed_at=now,
                  emitted_as_of=state.emitted_as_of if state else None,
                  emitted_actual=state.emitted_actual if state else None,
                  emitted_at=state.emitted_at if state else None)
    if emit:
        position = 1 + sum(
            1 for code, other in states.items()
            if code != city_code and other.attainment_pct is not None
            and (result.attainment_pct is None or other.attainment_pct > result.attainment_pct
                 or (other.attainment_pct == result.attainment_pct and code < city_code))
        )
        uow.publish(
            AttainmentUpdated(
                package_id=package.id, version=version.number, city_code=city_code, city_name=line.city_name,
                region=line.region, as_of=as_of, target_to_date=result.target_to_date,
                actual_to_date=result.actual_to_date, attainment_pct=result.attainment_pct,
                period_target=result.period_target, projection=result.projection, rank=position, updated_at=now,
            )
        )
        values.update(emitted_as_of=as_of, emitted_actual=result.actual_to_date, emitted_at=now)
    live.changed(values)


def _older_than(instant: datetime | None, now: datetime, seconds: float) -> bool:
    return instant is None or (now - instant).total_seconds() >= seconds


def maybe_finalize(uow, repository: PackageRepository, package, latest_day: date) -> bool:
    """Final when a later day has facts, or when every city of the package has facts on the last day."""
    if latest_day <= package.period_end:
        version = _live(uow, repository).version(package)
        covered = fact_store.cities_with_facts_on(uow.session, package.period_end, version.lines)
        if covered != set(version.lines):
            return False
    return finalize(uow, repository, package)


def finalize(uow, repository: PackageRepository, package) -> bool:
    if not repository.mark_finalized(package.id, uow.now()):
        return False
    if "allocation.attainment" in uow.session.info:
        uow.session.info["allocation.attainment"].finalized(package.id)
    version = current_version(repository, package)
    window = package_window(package)
    last = min(window.end, shanghai_date(uow.now()))  # closed early: facts dated after today do not count
    actuals = fact_store.daily_actuals(uow.session, window.start, last, package.metric, list(version.lines))
    uow.publish(
        PeriodActualsFinalized(
            package_id=package.id, version=version.number, period_start=window.start, period_end=window.end,
            metric=package.metric,
            cities=[
                CityActual(city_code=code, city_name=line.city_name, region=line.region, target=line.target,
                           actual=sum(actuals.get(code, {}).values(), Decimal(0)))
                for code, line in sorted(version.lines.items())
            ],
            finalized_at=uow.now(),
        )
    )
    return True
