"""Turning a rule and a city's data into firings, one function per rule kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from alerts_service.domain.attainment_lag import LagResult, evaluate_attainment_lag
from alerts_service.domain.calendar_windows import due_windows
from alerts_service.domain.cities import CityInfo
from alerts_service.domain.firings import Firing, UpliftPlan
from alerts_service.domain.rules import (
    AttainmentLagParams,
    CalendarWindowParams,
    Rule,
    SalesCliffParams,
    WeatherSpellParams,
)
from alerts_service.domain.sales_cliff import CliffResult, evaluate_cliff
from alerts_service.domain.uplifts import uplift_id
from alerts_service.domain.weather_spells import (
    DataQualityWarning,
    FiredSpell,
    SpellDecision,
    WeatherReading,
    best_known_tmax,
    decide,
    find_spells,
    severity,
)


@dataclass(frozen=True)
class WeatherEvaluation:
    firings: tuple[Firing, ...]
    decisions: tuple[SpellDecision, ...]
    warnings: tuple[DataQualityWarning, ...]


def _check(rule: Rule, params_type: type) -> None:
    if not isinstance(rule.params, params_type):
        raise TypeError(f"rule {rule.rule_id} is a {rule.kind} rule")


def evaluate_weather_rule(
    rule: Rule,
    city: CityInfo,
    readings: Iterable[WeatherReading],
    today: date,
    fired: Iterable[FiredSpell] = (),
) -> WeatherEvaluation:
    _check(rule, WeatherSpellParams)
    params: WeatherSpellParams = rule.params
    series = best_known_tmax(readings, today, params.lead_days, params.source)
    scan = find_spells(series, params.threshold_c, params.min_days)
    decisions = decide(scan.spells, fired, today)
    firings = []
    for decision in decisions:
        if decision.decision != "fire":
            continue
        spell = decision.spell
        threshold = format(params.threshold_c, "f")
        title = f"高温预警：{city.name} {spell.start.isoformat()} 起连续 {spell.days} 天最高气温 ≥ {threshold}℃"
        uplift = None
        if rule.action.type == "uplift":
            percent = rule.action.percent
            title += f"，目标上调 {format(percent, 'f')}%"
            uplift = UpliftPlan(
                uplift_id=uplift_id(rule.rule_id, rule.version, city.code, spell.start),
                percent=percent,
                start_day=spell.start,
                end_day=spell.end,
                reason=f"{rule.name}: {title}",
            )
        firings.append(
            Firing(
                rule_id=rule.rule_id,
                rule_version=rule.version,
                kind=rule.kind,
                city_code=city.code,
                city_name=city.name,
                region=city.region,
                fire_key=spell.start.isoformat(),
                severity=severity(spell.peak_c),
                title=title,
                evidence={
                    "spell_start": spell.start.isoformat(),
                    "fire_day": spell.fire_day.isoformat(),
                    "spell_end": spell.end.isoformat(),
                    "days": spell.days,
                    "peak_c": format(spell.peak_c, "f"),
                    "threshold_c": threshold,
                    "evaluated_on": today.isoformat(),
                    "tmax_c": {
                        d.isoformat(): format(series[d], "f")
                        for d in _days(spell.start, spell.end)
                    },
                },
                uplift=uplift,
            )
        )
    return WeatherEvaluation(tuple(firings), tuple(decisions), scan.warnings)


def evaluate_calendar_rule(rule: Rule, city: CityInfo, today: date) -> list[Firing]:
    _check(rule, CalendarWindowParams)
    params: CalendarWindowParams = rule.params
    firings = []
    for occurrence in due_windows(params.windows, today, params.lead_days):
        title = f"日历窗口：{city.name} {occurrence.name}（{occurrence.start.isoformat()} 至 {occurrence.end.isoformat()}）"
        uplift = None
        if rule.action.type == "uplift":
            title += f"，目标上调 {format(rule.action.percent, 'f')}%"
            uplift = UpliftPlan(
                uplift_id(rule.rule_id, rule.version, city.code, occurrence.start),
                rule.action.percent,
                occurrence.start,
                occurrence.end,
                f"{rule.name}: {title}",
            )
        firings.append(
            Firing(
                rule.rule_id, rule.version, rule.kind, city.code, city.name, city.region,
                fire_key=occurrence.start.isoformat(),
                severity="info",
                title=title,
                evidence={
                    "window": occurrence.name,
                    "start": occurrence.start.isoformat(),
                    "end": occurrence.end.isoformat(),
                    "days": occurrence.days,
                    "evaluated_on": today.isoformat(),
                },
                uplift=uplift,
            )
        )
    return firings


def evaluate_cliff_rule(
    rule: Rule, city: CityInfo, day: date, actuals: Mapping[date, Decimal]
) -> tuple[Firing | None, CliffResult]:
    _check(rule, SalesCliffParams)
    params: SalesCliffParams = rule.params
    result = evaluate_cliff(params, day, actuals)
    if result.status != "cliff":
        return None, result
    title = (
        f"销量断崖：{city.name} {day.isoformat()} 实际 {format(result.actual, 'f')}，"
        f"较基线 {format(result.baseline, 'f')} 下降 {format(result.drop_pct, 'f')}%"
    )
    firing = Firing(
        rule.rule_id, rule.version, rule.kind, city.code, city.name, city.region,
        fire_key=day.isoformat(),
        severity=result.severity,
        title=title,
        evidence=result.evidence(params.baseline),
    )
    return firing, result


def evaluate_lag_rule(
    rule: Rule,
    city: CityInfo,
    attainment_pct: Decimal | None,
    as_of: date,
    period_start: date,
    package_id: str,
) -> tuple[Firing | None, LagResult]:
    _check(rule, AttainmentLagParams)
    params: AttainmentLagParams = rule.params
    result = evaluate_attainment_lag(params, attainment_pct, as_of, period_start)
    if result.status != "lagging":
        return None, result
    title = (
        f"达成落后：{city.name} 截至 {as_of.isoformat()}（第 {result.day_index} 天）达成率 "
        f"{format(attainment_pct, 'f')}%，落后 {format(result.lag_points, 'f')} 个百分点"
    )
    firing = Firing(
        rule.rule_id, rule.version, rule.kind, city.code, city.name, city.region,
        fire_key=f"{package_id}:{as_of.isoformat()}",
        severity=result.severity,
        title=title,
        evidence={
            "package_id": package_id,
            "as_of": as_of.isoformat(),
            "period_start": period_start.isoformat(),
            "day_index": result.day_index,
            "attainment_pct": format(attainment_pct, "f"),
            "lag_points": format(result.lag_points, "f"),
            "threshold_points": format(params.lag_points, "f"),
        },
    )
    return firing, result


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]
