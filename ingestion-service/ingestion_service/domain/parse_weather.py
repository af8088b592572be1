"""Daily weather (observations, and forecasts with their issue date) and official warnings."""

from __future__ import annotations

import hashlib

from ingestion_service.domain.cities import CityDirectory
from ingestion_service.domain.columns import CITY, DAY, Column, resolve_columns
from ingestion_service.domain.dates import parse_date, parse_instant
from ingestion_service.domain.facts import FORECAST, OBSERVATION, Parsed, WeatherFact, WeatherWarningFact
from ingestion_service.domain.numbers import normalize_text, parse_temperature
from ingestion_service.domain.row_reader import RowReader
from ingestion_service.domain.tables import Table

WEATHER_COLUMNS = (
    CITY,
    DAY,
    Column("tmax_c", ("tmax", "最高气温", "最高温度")),
    Column("tmin_c", ("tmin", "最低气温", "最低温度")),
    Column("text", ("weather", "天气", "天气状况"), required=False),
    Column("wind_dir", ("风向",), required=False),
    Column("wind_level", ("风力",), required=False),
    Column("kind", ("类型",), required=False),
    Column("issued_on", ("issue_date", "forecast_issued_on", "发布日期"), required=False),
)
WARNING_COLUMNS = (
    CITY,
    Column("warning_type", ("type", "预警类型", "预警")),
    Column("level", ("预警级别", "级别", "颜色")),
    Column("valid_from", ("start", "from", "生效时间", "开始时间")),
    Column("valid_to", ("end", "to", "解除时间", "结束时间")),
    Column("warning_id", ("id", "预警编号"), required=False),
)
_KINDS = {"observation": OBSERVATION, "actual": OBSERVATION, "实况": OBSERVATION, "观测": OBSERVATION,
          "forecast": FORECAST, "预报": FORECAST}
_LEVELS = {"蓝色": "blue", "蓝": "blue", "黄色": "yellow", "黄": "yellow", "橙色": "orange", "橙": "orange",
           "红色": "red", "红": "red"}


def parse_weather(table: Table, cities: CityDirectory) -> Parsed[WeatherFact]:
    reader = RowReader(table, resolve_columns(table, WEATHER_COLUMNS))
    parsed: Parsed[WeatherFact] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        city_name = reader.required_text("city")
        match = cities.resolve(city_name) if city_name else None
        if match is not None and match.city is None:
            reader.reject("city", "unknown_city", match.reason)
        day = reader.parse("day", parse_date, "invalid_date", required=True)
        tmax = reader.parse("tmax_c", parse_temperature, "invalid_number")
        tmin = reader.parse("tmin_c", parse_temperature, "invalid_number")
        if tmax is not None and tmin is not None and tmax < tmin:
            reader.reject("tmax_c", "tmax_below_tmin", f"tmax {tmax} is below tmin {tmin}")
        issued_on = reader.parse("issued_on", parse_date, "invalid_date")
        kind = _kind(reader, issued_on)
        if kind == FORECAST and issued_on is None:
            reader.reject("issued_on", "missing_value", "a forecast needs its issue date")
        if issued_on is not None and day is not None and issued_on > day:
            reader.reject("issued_on", "issued_after_day", f"issued on {issued_on}, after the day it forecasts")
        text = normalize_text(reader.text("text")) or None
        wind = " ".join(part for part in (reader.text("wind_dir"), reader.text("wind_level")) if part) or None
        if reader.errors or match is None or match.city is None:
            parsed.errors.extend(reader.errors)
            continue
        parsed.facts.append((record.row, WeatherFact(match.city.code, day, kind, issued_on if kind == FORECAST
                                                     else None, tmax, tmin, text, wind)))
    return parsed


def _kind(reader: RowReader, issued_on: object) -> str:
    raw = normalize_text(reader.text("kind")).lower()
    if not raw:
        return FORECAST if issued_on is not None else OBSERVATION
    kind = _KINDS.get(raw)
    if kind is None:
        reader.reject("kind", "invalid_kind", f"kind must be observation or forecast, not {raw!r}")
        return OBSERVATION
    return kind


def parse_weather_warnings(table: Table, cities: CityDirectory) -> Parsed[WeatherWarningFact]:
    reader = RowReader(table, resolve_columns(table, WARNING_COLUMNS))
    parsed: Parsed[WeatherWarningFact] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        city_name = reader.required_text("city")
        match = cities.resolve(city_name) if city_name else None
        if match is not None and match.city is None:
            reader.reject("city", "unknown_city", match.reason)
        warning_type = normalize_text(reader.required_text("warning_type"))
        raw_level = normalize_text(reader.required_text("level"))
        level = _LEVELS.get(raw_level, raw_level.lower())
        valid_from = reader.parse("valid_from", parse_instant, "invalid_datetime", required=True)
        valid_to = reader.parse("valid_to", parse_instant, "invalid_datetime", required=True)
        if valid_from is not None and valid_to is not None and valid_to <= valid_from:
            reader.reject("valid_to", "ends_before_start", "a warning must end after it starts")
        if reader.errors or match is None or match.city is None:
            parsed.errors.extend(reader.errors)
            continue
        code = match.city.code
        warning_id = normalize_text(reader.text("warning_id")) or _warning_id(code, warning_type, level, valid_from)
        parsed.facts.append(
            (record.row, WeatherWarningFact(warning_id, code, warning_type, level, valid_from, valid_to))
        )
    return parsed


def _warning_id(city_code: str, warning_type: str, level: str, valid_from: object) -> str:
    digest = hashlib.sha256(f"{city_code}|{warning_type}|{level}|{valid_from.isoformat()}".encode()).hexdigest()
    return f"w-{digest[:20]}"
