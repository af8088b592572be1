"""Domain inputs built straight from the real Koubei CSV files, independent of ingestion.

Used by the real-data tests and the benchmark: outlets are shops, channels are `cate_1_name`,
cities are keyed by adcode with the seven-region map.
"""

from __future__ import annotations

import csv
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

from allocation_service.domain.history import City, DailyFact, SalesHistory, build_history

DATA_DIR = Path(os.environ.get("DATA_DIR", "/work/shared/data"))


def available() -> bool:
    return (DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").exists()


def read_rows(relative: str) -> list[dict[str, str]]:
    with open(DATA_DIR / relative, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def load_cities() -> tuple[dict[str, City], dict[str, str]]:
    """(cities by adcode, adcode by Koubei city name)."""
    region_of = {row["province"]: row["region_7"] for row in read_rows("geo/province_region_map.csv")}
    cities: dict[str, City] = {}
    code_of: dict[str, str] = {}
    for row in read_rows("geo/koubei_city_dim.csv"):
        cities[row["city_adcode"]] = City(
            code=row["city_adcode"],
            name=row["city"],
            region=region_of[row["province"]],
            province=row["province"],
            lng=Decimal(row["lng"]),
            lat=Decimal(row["lat"]),
        )
        code_of[row["koubei_city_name"]] = row["city_adcode"]
    return cities, code_of


def load_shops(code_of: dict[str, str]) -> dict[str, tuple[str, str]]:
    """shop id → (city adcode, channel = cate_1_name)."""
    return {row["shop_id"]: (code_of[row["city_name"]], row["cate_1_name"]) for row in read_rows("koubei/shop_info.csv")}


def read_wide(until: date | None = None) -> dict[str, dict[date, int]]:
    """shop id → day → paying customers (blank cells left out)."""
    result: dict[str, dict[date, int]] = {}
    with open(DATA_DIR / "koubei" / "shop_daily_pay_wide.csv", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        days = [date.fromisoformat(text) for text in header[1:]]
        for row in reader:
            result[row[0]] = {
                day: int(cell) for day, cell in zip(days, row[1:], strict=False) if cell and (until is None or day <= until)
            }
    return result


def load_facts(code_of: dict[str, str], until: date | None = None, wide=None) -> list[DailyFact]:
    shops = load_shops(code_of)
    wide = wide if wide is not None else read_wide(until)
    return [
        DailyFact(shop, shops[shop][0], shops[shop][1], day, orders)
        for shop, values in wide.items()
        for day, orders in values.items()
        if until is None or day <= until
    ]


def load_history(until: date, wide=None) -> tuple[SalesHistory, dict[str, City], list[DailyFact]]:
    cities, code_of = load_cities()
    facts = load_facts(code_of, until, wide)
    history = build_history(facts, data_start=date(2015, 6, 26), data_end=until, outlet_master=load_shops(code_of))
    return history, cities, facts
