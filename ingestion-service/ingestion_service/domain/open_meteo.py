"""The Open-Meteo daily JSON shape, read as a weather table the weather parser understands.

    {"daily": {"time": ["2016-07-01", ...], "temperature_2m_max": [35.1, ...],
               "temperature_2m_min": [26.0, ...], "weather_code": [1, ...]}}

Numbers keep their JSON text (no float on the way); a null is a blank cell. Row n is the n-th day.
"""

from __future__ import annotations

import json

from ingestion_service.domain.encoding import decode_text
from ingestion_service.domain.facts import FORECAST
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import Record, Table

WEATHER_COLUMNS = ["city", "date", "tmax_c", "tmin_c", "weather", "kind", "issued_on"]

# WMO weather interpretation codes (as Open-Meteo documents them), in Chinese.
WMO_TEXT = {
    0: "晴", 1: "晴间多云", 2: "多云", 3: "阴", 45: "雾", 48: "雾凇",
    51: "小毛毛雨", 53: "毛毛雨", 55: "大毛毛雨", 56: "冻毛毛雨", 57: "冻毛毛雨",
    61: "小雨", 63: "中雨", 65: "大雨", 66: "冻雨", 67: "冻雨",
    71: "小雪", 73: "中雪", 75: "大雪", 77: "雪粒", 80: "阵雨", 81: "阵雨", 82: "强阵雨",
    85: "阵雪", 86: "强阵雪", 95: "雷阵雨", 96: "雷阵雨伴有冰雹", 99: "雷阵雨伴有冰雹",
}


def open_meteo_table(data: bytes, city: str, kind: str, issued_on: str | None) -> Table:
    decoded = decode_text(data)
    try:
        document = json.loads(decoded.text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise FileProblem("invalid_json", f"not an Open-Meteo JSON document: {exc.msg}") from exc
    daily = document.get("daily") if isinstance(document, dict) else None
    if not isinstance(daily, dict) or not isinstance(daily.get("time"), list):
        raise FileProblem("invalid_open_meteo", "an Open-Meteo document needs daily.time")
    days = daily["time"]
    series = {name: daily.get(name) or [None] * len(days)
              for name in ("temperature_2m_max", "temperature_2m_min", "weather_code")}
    for name, values in series.items():
        if len(values) != len(days):
            raise FileProblem("invalid_open_meteo", f"daily.{name} has {len(values)} values for {len(days)} days")
    records = []
    for index, day in enumerate(days):
        code = series["weather_code"][index]
        text = WMO_TEXT.get(int(code), f"WMO {code}") if code not in (None, "") else ""
        records.append(Record(index + 1, (
            city, str(day), _cell(series["temperature_2m_max"][index]), _cell(series["temperature_2m_min"][index]),
            text, kind, (issued_on or "") if kind == FORECAST else "",
        )))
    return Table(list(WEATHER_COLUMNS), records, encoding=decoded.encoding)


def _cell(value: object) -> str:
    return "" if value is None else str(value)
