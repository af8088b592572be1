"""Evaluating the rules when facts arrive (called from the consumers and the calendar worker)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
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


def evaluate_weather(uow: UnitOfWork, city: CityInfo, today: date, settings: AlertsSettings) -> int:
    facts = FactRepository(uow.session)
    alerts = AlertRepository(uow.session)
    fired_count = 0
    for rule in rules_for_city(uow, "weather_spell", city):
        first = today - timedelta(days=settings.weather_lookback_days)
        readings = facts.weather_readings(city.code, first, today + timedelta(days=rule.params.lead_days))
        fired = alerts.fired_spells(rule.rule_id, city.code)
        outcome = evaluate_weather_rule(rule, city, readings, today, fired)
        for firing in outcome.firings:
            span = (firing.uplift.start_day, firing.uplift.end_day) if firing.uplift else (
                date.fromisoformat(firing.evidence["spell_start"]), date.fromisoformat(firing.evidence["spell_end"]))
            fired_count += record_firing(uow, firing, rule, settings, span)
        for decision in outcome.decisions:
            if decision.decision == "extend":
                alerts.extend_spell(rule.rule_id, city.code, decision.fired, decision.spell.start, decision.spell.end)
        facts.record_warnings(city.code, outcome.warnings, uow.now())
    return fired_count


def evaluate_cliffs(uow: UnitOfWork, city: CityInfo, days: Iterable[date], settings: AlertsSettings) -> int:
    days = sorted(days)
    if not days:
        return 0
    facts = FactRepository(uow.session)
    fired_count = 0
    for rule in rules_for_city(uow, "sales_cliff", city):
        reach = max(7 * rule.params.weeks, rule.params.window_days)
        actuals = facts.city_actuals(city.code, days[0] - timedelta(days=reach), days[-1])
        for day in days:
            firing, _result = evaluate_cliff_rule(rule, city, day, actuals)
            if firing is not None:
                fired_count += record_firing(uow, firing, rule, settings)
    return fired_count


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
