"""Evaluating the rules when facts arrive (called from the consumers and the calendar worker)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from alerts_service.adapters.alert_repository import AlertRepository
from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.adapters.rule_repository import RuleRepository
from alerts_service.application.recording import record_firing
from alerts_service.domain.cities import CityDirectory, CityInfo, UnknownGroup
from alerts_service.domain.rule_evaluation import (
    evaluate_calendar_rule,
    evaluate_cliff_rule,
    evaluate_lag_rule,
    evaluate_weather_rule,
)
from alerts_service.domain.rules import Rule
from alerts_service.domain.weather_spells import FiredSpell
from alerts_service.settings import AlertsSettings
from shared.outbox import UnitOfWork
from shared.timeutil import shanghai_date

log = logging.getLogger("quotaflow.alerts")
T = TypeVar("T")


def _memo(uow: UnitOfWork, key: object, load: Callable[[], T]) -> T:
    """Read once per unit of work: a consumer applies a whole group of events in one transaction,
    and nothing these handlers write changes rules, city groups, cities or package periods."""
    memo = uow.session.info.setdefault("alerts.evaluation", {})
    if key not in memo:
        memo[key] = load()
    return memo[key]


def current_rules(uow: UnitOfWork, kind: str) -> list[Rule]:
    return _memo(uow, ("rules", kind),
                 lambda: RuleRepository(uow.session).current(include_disabled=False, kind=kind))


def city_of(uow: UnitOfWork, code: str, fallback_name: str, fallback_region: str) -> CityInfo:
    """The recorded city (the event's name and region when it is not recorded yet)."""
    known = _memo(uow, "cities", lambda: FactRepository(uow.session).directory({}).cities)
    return known.get(code) or CityInfo(code, fallback_name, fallback_region)


def rules_for_city(uow: UnitOfWork, kind: str, city: CityInfo) -> list[Rule]:
    groups = _memo(uow, "groups", lambda: RuleRepository(uow.session).groups())
    directory = CityDirectory.of([city], groups)
    chosen = []
    for rule in current_rules(uow, kind):
        try:
            if directory.in_scope(rule.scope, city.code, city.region, city.name):
                chosen.append(rule)
        except UnknownGroup:
            log.warning("rule %s names an unknown city group; skipped", rule.rule_id)
    return chosen


@dataclass(frozen=True)
class WeatherArrival:
    """A `WeatherRecorded` as its handler saw it: the city, the batch's days, and the batch's today."""

    city: CityInfo
    days: tuple
    today: date


@dataclass(frozen=True)
class SalesArrival:
    """A `DailySalesRecorded` as its handler saw it: the city, the facts, and the days it may judge
    (those it judges are the ones among them that storing it changes)."""

    city: CityInfo
    sales: tuple
    judge: frozenset[date]


def apply_weather(uow: UnitOfWork, arrivals: Sequence[WeatherArrival], settings: AlertsSettings) -> int:
    """Store and judge weather batches in arrival order, each judged on what is stored once it is,
    as if each had its own transaction; the rows, fired spells and warnings of all the cities are
    read once, the weather written once."""
    facts = FactRepository(uow.session)
    rules = [rules_for_city(uow, "weather_spell", arrival.city) for arrival in arrivals]
    applied: dict[str, tuple[date, date]] = {}
    judged: dict[str, tuple[date, date]] = {}
    for arrival, chosen in zip(arrivals, rules, strict=True):
        code = arrival.city.code
        for item in arrival.days:
            _widen(applied, code, item.day, item.day)
        if chosen:
            first = arrival.today - timedelta(days=settings.weather_lookback_days)
            last = arrival.today + timedelta(days=max(rule.params.lead_days for rule in chosen))
            _widen(judged, code, first, last)
    as_of = min((arrival.today for arrival, chosen in zip(arrivals, rules, strict=True) if chosen), default=None)
    observation_wins = all(rule.params.source != "forecast" for chosen in rules for rule in chosen)
    weather = facts.weather_within(applied, judged, as_of, observation_wins)
    spells = AlertRepository(uow.session).fired_spells_of(
        {rule.rule_id for chosen in rules for rule in chosen}, set(judged))
    warnings = _Warnings(facts.quality_warning_keys(judged))
    fired_count = 0
    for arrival, chosen in zip(arrivals, rules, strict=True):
        weather.apply(arrival.city.code, arrival.days)
        for rule in chosen:
            fired_count += _judge_weather(uow, arrival, rule, weather, spells, warnings, settings)
    weather.save()
    facts.insert_quality_warnings(warnings.new)
    return fired_count


def _judge_weather(uow: UnitOfWork, arrival: WeatherArrival, rule: Rule, weather, spells: dict,
                   warnings: _Warnings, settings: AlertsSettings) -> int:
    city, today = arrival.city, arrival.today
    first = today - timedelta(days=settings.weather_lookback_days)
    readings = weather.readings(city.code, first, today + timedelta(days=rule.params.lead_days))
    fired = spells.setdefault((rule.rule_id, city.code), [])
    outcome = evaluate_weather_rule(rule, city, readings, today, list(fired))
    fired_count = 0
    for firing in outcome.firings:
        span = (firing.uplift.start_day, firing.uplift.end_day) if firing.uplift else (
            date.fromisoformat(firing.evidence["spell_start"]), date.fromisoformat(firing.evidence["spell_end"]))
        if record_firing(uow, firing, rule, settings, span):
            fired_count += 1
            fired.append(FiredSpell(*span))
    alerts = AlertRepository(uow.session)
    for decision in outcome.decisions:
        if decision.decision == "extend":
            earlier, spell = decision.fired, decision.spell
            alerts.extend_spell(rule.rule_id, city.code, earlier, spell.start, spell.end)
            grown = FiredSpell(min(spell.start, earlier.start), max(spell.end, earlier.end))
            fired[:] = [grown if known == earlier else known for known in fired]
    warnings.record(city.code, outcome.warnings, uow.now())
    return fired_count


class _Warnings:
    """Data-quality warnings: each (city, day, reason) recorded once, when first seen."""

    def __init__(self, known: set[tuple[str, date, str]]) -> None:
        self.known = known
        self.new: list[dict] = []

    def record(self, city_code: str, warnings: Iterable, now) -> None:
        for warning in warnings:
            key = (city_code, warning.day, warning.reason)
            if key not in self.known:
                self.known.add(key)
                self.new.append({"city_code": city_code, "day": warning.day, "reason": warning.reason,
                                 "first_seen_at": now})


def apply_sales(uow: UnitOfWork, arrivals: Sequence[SalesArrival], settings: AlertsSettings) -> int:
    """Store sales batches as if one after the other (one upsert, one re-total), then judge each
    batch's days that it changed, in arrival order. The caller makes sure no batch changes a day
    that an earlier batch of the same city judges or bases a judgement on."""
    changed = FactRepository(uow.session).store_sales_batches(
        [(arrival.city.code, arrival.sales) for arrival in arrivals], uow.now())
    work = [(arrival.city, sorted(arrival.judge & days)) for arrival, days in zip(arrivals, changed, strict=True)]
    return evaluate_cliffs(uow, [(city, days) for city, days in work if days], settings)


def evaluate_cliffs(uow: UnitOfWork, work: Sequence[tuple[CityInfo, list[date]]], settings: AlertsSettings) -> int:
    """Judge each (city, sorted days) in order; the actuals of all the cities are read in one query."""
    plans = [(city, days, rules_for_city(uow, "sales_cliff", city)) for city, days in work if days]
    windows: dict[str, tuple[date, date]] = {}
    for city, days, rules in plans:
        if rules:
            reach = max(max(7 * rule.params.weeks, rule.params.window_days) for rule in rules)
            _widen(windows, city.code, days[0] - timedelta(days=reach), days[-1])
    actuals = FactRepository(uow.session).actuals_within(windows)
    fired_count = 0
    for city, days, rules in plans:
        for rule in rules:  # a day's judgement reads only that day and the `reach` days before it
            for day in days:
                firing, _result = evaluate_cliff_rule(rule, city, day, actuals[city.code])
                if firing is not None:
                    fired_count += record_firing(uow, firing, rule, settings)
    return fired_count


def _widen(windows: dict[str, tuple[date, date]], code: str, first: date, last: date) -> None:
    if code in windows:
        known = windows[code]
        first, last = min(first, known[0]), max(last, known[1])
    windows[code] = (first, last)


def evaluate_lag(uow: UnitOfWork, city: CityInfo, event, settings: AlertsSettings) -> int:
    period = package_period(uow, event.package_id)
    if period is None:
        log.info("attainment for unknown package %s: lag rules skipped", event.package_id)
        return 0
    fired_count = 0
    for rule in rules_for_city(uow, "attainment_lag", city):
        firing, _ = evaluate_lag_rule(rule, city, event.attainment_pct, event.as_of, period[0], event.package_id)
        if firing is not None:
            fired_count += record_firing(uow, firing, rule, settings)
    return fired_count


def package_period(uow: UnitOfWork, package_id: str) -> tuple[date, date] | None:
    """A package's period never changes once recorded; an unknown one is looked up again (its
    `package_published` may come later in the same transaction)."""
    periods = uow.session.info.setdefault("alerts.package_periods", {})
    if package_id not in periods:
        period = FactRepository(uow.session).package_period(package_id)
        if period is None:
            return None
        periods[package_id] = period
    return periods[package_id]


def evaluate_calendar(uow: UnitOfWork, today: date, settings: AlertsSettings) -> int:
    repository = RuleRepository(uow.session)
    directory = FactRepository(uow.session).directory(repository.groups())
    fired_count = 0
    for rule in repository.current(include_disabled=False, kind="calendar_window"):
        try:
            codes = directory.resolve(rule.scope)
        except UnknownGroup:
            continue
        for code in codes:
            for firing in evaluate_calendar_rule(rule, directory.get(code), today):
                span = (date.fromisoformat(firing.evidence["start"]), date.fromisoformat(firing.evidence["end"]))
                fired_count += record_firing(uow, firing, rule, settings, span)
    return fired_count


def clock_today(uow: UnitOfWork) -> date:
    return shanghai_date(uow.now())
