"""Rules as data: kind, scope, typed parameters, action, cooldown, version.

A rule is immutable; editing it makes the next version (`Rule.revised`). Parameters are parsed
from plain mappings (the API's JSON, a YAML file) into typed, validated dataclasses with the
defaults of the issue: heat wave ≥ 35 °C (inclusive) for 3 calendar days, +15 %, 7 days ahead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from alerts_service.domain.calendar_windows import CalendarWindow, parse_window
from alerts_service.domain.cities import CityDirectory, Scope
from shared.money import to_decimal

KINDS = ("weather_spell", "calendar_window", "sales_cliff", "attainment_lag")
ACTIONS = ("uplift", "notify")


class RuleInvalid(ValueError):
    """A rule definition that cannot be accepted; `field` names the offending entry."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class WeatherSpellParams:
    threshold_c: Decimal = Decimal("35")
    min_days: int = 3
    lead_days: int = 7
    source: str = "any"  # forecast | observation | any (an observation overrides a forecast)


@dataclass(frozen=True)
class CalendarWindowParams:
    windows: tuple[CalendarWindow, ...] = ()
    lead_days: int = 0


@dataclass(frozen=True)
class SalesCliffParams:
    drop_pct: Decimal = Decimal("30")
    critical_pct: Decimal = Decimal("50")
    baseline: str = "same_weekday"  # same_weekday | trailing_median
    weeks: int = 4
    window_days: int = 28
    min_baseline_days: int = 3
    min_baseline: Decimal = Decimal("0")
    holiday_aware: bool = True


@dataclass(frozen=True)
class AttainmentLagParams:
    lag_points: Decimal = Decimal("10")
    after_day: int = 7


Params = WeatherSpellParams | CalendarWindowParams | SalesCliffParams | AttainmentLagParams
_PARAM_TYPES: dict[str, type] = {
    "weather_spell": WeatherSpellParams,
    "calendar_window": CalendarWindowParams,
    "sales_cliff": SalesCliffParams,
    "attainment_lag": AttainmentLagParams,
}
_DEFAULT_COOLDOWN = {
    "weather_spell": timedelta(0),
    "calendar_window": timedelta(0),
    "sales_cliff": timedelta(0),
    "attainment_lag": timedelta(days=7),
}


@dataclass(frozen=True)
class Action:
    type: str  # uplift | notify
    percent: Decimal | None = None  # uplift: +15 means ×1.15
    channels: tuple[str, ...] = ("wecom",)  # where the alert is pushed: wecom (per region), webhook


@dataclass(frozen=True)
class Rule:
    rule_id: str
    version: int
    name: str
    kind: str
    scope: Scope
    params: Params
    action: Action
    cooldown: timedelta = timedelta(0)
    enabled: bool = True
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def revised(self, **changes: Any) -> Rule:
        """The next version with `changes` applied (the rule id stays)."""
        return replace(self, version=self.version + 1, **changes)

    def to_mapping(self) -> dict[str, Any]:
        """The plain form accepted by `rule_from_mapping` (JSON- and YAML-safe)."""
        return {
            "id": self.rule_id,
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "enabled": self.enabled,
            "scope": self.scope.as_dict(),
            "params": params_to_mapping(self.params),
            "action": {
                "type": self.action.type,
                **({"percent": format(self.action.percent, "f")} if self.action.percent is not None else {}),
                "channels": list(self.action.channels),
            },
            "cooldown": format_duration(self.cooldown),
        }


def rule_from_mapping(data: Mapping[str, Any], *, version: int = 1, rule_id: str | None = None) -> Rule:
    if not isinstance(data, Mapping):
        raise RuleInvalid("rule", "must be a mapping")
    rule_id = rule_id or _text(data, "id")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", rule_id):
        raise RuleInvalid("id", "1–64 letters, digits, '_', '-' or '.'")
    kind = _text(data, "kind")
    if kind not in KINDS:
        raise RuleInvalid("kind", f"must be one of {', '.join(KINDS)}")
    scope = _scope(data.get("scope"))
    params = parse_params(kind, data.get("params") or {})
    action = _action(data.get("action"), kind)
    cooldown = parse_duration(data["cooldown"]) if data.get("cooldown") is not None else _DEFAULT_COOLDOWN[kind]
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleInvalid("enabled", "must be true or false")
    return Rule(
        rule_id=rule_id,
        version=version,
        name=str(data.get("name") or rule_id),
        kind=kind,
        scope=scope,
        params=params,
        action=action,
        cooldown=cooldown,
        enabled=enabled,
        description=str(data.get("description") or ""),
    )


def parse_params(kind: str, raw: Mapping[str, Any]) -> Params:
    if not isinstance(raw, Mapping):
        raise RuleInvalid("params", "must be a mapping")
    param_type = _PARAM_TYPES[kind]
    known = set(param_type.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise RuleInvalid(f"params.{unknown[0]}", f"unknown parameter for {kind}")
    defaults = param_type()
    values: dict[str, Any] = {}
    for name in known:
        if name not in raw:
            continue
        values[name] = _coerce_param(kind, name, raw[name], getattr(defaults, name))
    params = param_type(**values)
    _check_params(kind, params)
    return params


def params_to_mapping(params: Params) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in params.__dataclass_fields__:
        value = getattr(params, name)
        if isinstance(value, Decimal):
            out[name] = format(value, "f")
        elif name == "windows":
            out[name] = [window.to_mapping() for window in value]
        else:
            out[name] = value
    return out


_DURATION = re.compile(r"^\s*([0-9]+)\s*([smhd])\s*$")
_MAX_INT_DIGITS = 12
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> timedelta:
    """`"7d"`, `"12h"`, `"30m"`, `"45s"` or a whole number of seconds."""
    if isinstance(value, bool):
        raise RuleInvalid("cooldown", "must be a duration such as '7d' or '12h'")
    if isinstance(value, int) and value >= 0:
        try:
            return timedelta(seconds=value)
        except OverflowError as exc:
            raise RuleInvalid("cooldown", f"must be at most {format_duration(MAX_COOLDOWN)}") from exc
    match = _DURATION.match(str(value))
    if not match:
        raise RuleInvalid("cooldown", "must be a duration such as '7d' or '12h'")
    if len(match.group(1)) > _MAX_INT_DIGITS:
        raise RuleInvalid("cooldown", f"must be at most {format_duration(MAX_COOLDOWN)}")
    try:
        return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    except OverflowError as exc:
        raise RuleInvalid("cooldown", f"must be at most {format_duration(MAX_COOLDOWN)}") from exc


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def _coerce_param(kind: str, name: str, value: Any, default: Any) -> Any:
    where = f"params.{name}"
    if name == "windows":
        if not isinstance(value, list) or not value:
            raise RuleInvalid(where, "must be a non-empty list of windows")
        try:
            return tuple(parse_window(item) for item in value)
        except ValueError as exc:
            raise RuleInvalid(where, str(exc)) from exc
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise RuleInvalid(where, "must be true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= _MAX_INT_DIGITS:
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleInvalid(where, "must be a whole number")
        return value
    if isinstance(default, Decimal):
        try:
            number = to_decimal(value)
        except (TypeError, ValueError) as exc:
            raise RuleInvalid(where, "must be a number given as a string or integer (no floats)") from exc
        if not number.is_finite():
            raise RuleInvalid(where, "must be a finite number")
        return number
    return str(value)


def _check_params(kind: str, params: Params) -> None:
    if isinstance(params, WeatherSpellParams):
        if params.min_days < 1:
            raise RuleInvalid("params.min_days", "must be at least 1")
        if not 0 <= params.lead_days <= 30:
            raise RuleInvalid("params.lead_days", "must be between 0 and 30")
        if params.source not in ("forecast", "observation", "any"):
            raise RuleInvalid("params.source", "must be forecast, observation or any")
    elif isinstance(params, CalendarWindowParams):
        if not params.windows:
            raise RuleInvalid("params.windows", "at least one window is required")
        if params.lead_days < 0:
            raise RuleInvalid("params.lead_days", "must not be negative")
    elif isinstance(params, SalesCliffParams):
        if not Decimal(0) < params.drop_pct <= Decimal(100):
            raise RuleInvalid("params.drop_pct", "must be in (0, 100]")
        if params.critical_pct < params.drop_pct:
            raise RuleInvalid("params.critical_pct", "must not be below drop_pct")
        if params.baseline not in ("same_weekday", "trailing_median"):
            raise RuleInvalid("params.baseline", "must be same_weekday or trailing_median")
        if params.weeks < 1 or params.window_days < 1 or params.min_baseline_days < 1:
            raise RuleInvalid("params", "weeks, window_days and min_baseline_days must be at least 1")
    elif isinstance(params, AttainmentLagParams):
        if params.lag_points <= 0:
            raise RuleInvalid("params.lag_points", "must be positive")
        if params.after_day < 0:
            raise RuleInvalid("params.after_day", "must not be negative")


# -- limits on what a new or revised rule may say ------------------------------------------------
# Checked when a definition comes in (API, YAML import), not when a stored version is read back: a
# version stored before these limits existed must still load (and simply never fire).
MAX_DECIMAL_PLACES = 4
MAX_COOLDOWN = timedelta(days=365)
_LIMITS: dict[str, dict[str, tuple[Any, Any]]] = {
    "weather_spell": {"threshold_c": (Decimal(-60), Decimal(70)), "min_days": (1, 60), "lead_days": (0, 30)},
    "calendar_window": {"lead_days": (0, 30)},
    "sales_cliff": {"drop_pct": (Decimal(0), Decimal(100)), "critical_pct": (Decimal(0), Decimal(100)),
                    "weeks": (1, 52), "window_days": (1, 366), "min_baseline_days": (1, 366),
                    "min_baseline": (Decimal(0), Decimal(10) ** 12)},
    "attainment_lag": {"lag_points": (Decimal(0), Decimal(100)), "after_day": (0, 366)},
}


def check_limits(rule: Rule) -> None:
    """Every number finite, within its bounds and with at most MAX_DECIMAL_PLACES decimals; raises
    RuleInvalid naming the first field that is not."""
    for name, (low, high) in _LIMITS[rule.kind].items():
        _within(f"params.{name}", getattr(rule.params, name), low, high)
    if rule.action.percent is not None:
        _within("action.percent", rule.action.percent, Decimal(0), Decimal(100))
    if rule.cooldown > MAX_COOLDOWN:
        raise RuleInvalid("cooldown", f"must be at most {format_duration(MAX_COOLDOWN)}")


def _within(where: str, value: Any, low: Any, high: Any) -> None:
    if isinstance(value, Decimal) and not value.is_finite():
        raise RuleInvalid(where, "must be a finite number")
    if not low <= value <= high:
        raise RuleInvalid(where, f"must be between {low} and {high}")
    if isinstance(value, Decimal) and value != value.quantize(_SMALLEST):  # bounded above, so quantize fits
        raise RuleInvalid(where, f"at most {MAX_DECIMAL_PLACES} decimal places")


_SMALLEST = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)


def admit(rule: Rule, directory: CityDirectory) -> list[str]:
    """Check a new or revised rule against the limits and what alerts knows. An unknown city group
    is refused (groups are alerts' own configuration); cities and regions alerts has not heard of
    are accepted, since ingestion may record them later, but named in the warnings returned."""
    check_limits(rule)
    unknown_groups = [group for group in rule.scope.groups if group not in directory.groups]
    if unknown_groups:
        raise RuleInvalid("scope.groups", f"unknown city group(s): {', '.join(unknown_groups)}; "
                                          f"known: {', '.join(sorted(directory.groups)) or 'none'}")
    return scope_warnings(rule.scope, directory)


def scope_warnings(scope: Scope, directory: CityDirectory) -> list[str]:
    names = {city.name for city in directory.cities.values()}
    warnings = [f"scope.cities: {city} is not a city alerts knows yet; the rule covers it once it is recorded"
                for city in scope.cities if city not in directory.cities and city not in names]
    return warnings + region_warnings(scope.regions, directory, "scope.regions")


def region_warnings(regions: Iterable[str], directory: CityDirectory, where: str) -> list[str]:
    known = directory.known_regions()
    return [f"{where}: {region} is not a region alerts knows yet; no city is covered there until one is recorded"
            for region in regions if region not in known]


def _scope(raw: Any) -> Scope:
    if raw is None:
        raise RuleInvalid("scope", "is required (cities, regions and/or groups)")
    if not isinstance(raw, Mapping):
        raise RuleInvalid("scope", "must be a mapping")
    unknown = sorted(set(raw) - {"cities", "regions", "groups", "group"})
    if unknown:
        raise RuleInvalid(f"scope.{unknown[0]}", "unknown scope entry")

    def names(key: str) -> tuple[str, ...]:
        value = raw.get(key) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, (str, int)) for item in value):
            raise RuleInvalid(f"scope.{key}", "must be a list of names")
        return tuple(str(item) for item in value)

    scope = Scope(cities=names("cities"), regions=names("regions"), groups=names("groups") + names("group"))
    if scope.is_empty():
        raise RuleInvalid("scope", "must name at least one city, region or group")
    return scope


def _action(raw: Any, kind: str) -> Action:
    if raw is None:
        raw = {"type": "uplift"} if kind == "weather_spell" else {"type": "notify"}
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, Mapping):
        raise RuleInvalid("action", "must be a mapping")
    action_type = raw.get("type")
    if action_type not in ACTIONS:
        raise RuleInvalid("action.type", "must be uplift or notify")
    if action_type == "uplift" and kind not in ("weather_spell", "calendar_window"):
        raise RuleInvalid("action.type", f"{kind} rules can only notify")
    percent = None
    if action_type == "uplift":
        try:
            percent = to_decimal(raw.get("percent", "15"))
        except (TypeError, ValueError) as exc:
            raise RuleInvalid("action.percent", "must be a number given as a string or integer") from exc
        if not Decimal(0) < percent <= Decimal(100):
            raise RuleInvalid("action.percent", "must be in (0, 100]")
    channels = raw.get("channels", ["wecom"])
    if isinstance(channels, str):
        channels = [channels]
    if not isinstance(channels, list) or any(c not in ("wecom", "webhook") for c in channels):
        raise RuleInvalid("action.channels", "must list wecom and/or webhook")
    return Action(type=action_type, percent=percent, channels=tuple(channels))


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleInvalid(key, "is required")
    return value.strip()
