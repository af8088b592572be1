"""Domain inputs built straight from the real Koubei CSV files, independent of ingestion.

Used by the real-data tests and the benchmark: outlets are shops, channels are `cate_1_name`,
cities are keyed by adcode with the seven-region map.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from allocation_service.domain.history import (
    City,
    DailyFact,
    SalesHistory,
    build_history,
    history_from_panels,
)
from allocation_service.domain.series import DailyPanel

DATA_DIR = Path(os.environ.get("DATA_DIR", "/work/shared/data"))
DATA_START = date(2015, 6, 26)
WORD_MASKS = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)
SEPARATOR = np.zeros(256, dtype=bool)
SEPARATOR[[ord(","), ord("\n")]] = True
FOREIGN = np.ones(256, dtype=bool)  # neither a digit nor a separator
FOREIGN[[*range(ord("0"), ord("9") + 1), ord(","), ord("\n")]] = False
_PAIRS = np.arange(1 << 16, dtype=np.int64)  # two digit bytes (high, low) read as one 16-bit number
TENS_AND_UNITS = (_PAIRS >> 8) * 10 + (_PAIRS & 255)
THOUSANDS_AND_HUNDREDS = (_PAIRS >> 8) * 1000 + (_PAIRS & 255) * 100


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
    with open(DATA_DIR / "koubei" / "shop_info.csv", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        shop, city, channel = (header.index(name) for name in ("shop_id", "city_name", "cate_1_name"))
        return {row[shop]: (code_of[row[city]], row[channel]) for row in reader}


@dataclass(frozen=True)
class WideSales:
    """The wide file as a matrix: shop i's paying customers on day `first_day + j` in `values[i, j]`
    (`present[i, j]` False: a blank cell)."""

    shops: list[str]
    first_day: date
    values: np.ndarray
    present: np.ndarray

    def until(self, last_day: date | None) -> WideSales:
        if last_day is None:
            return self
        width = max(0, min(self.values.shape[1], (last_day - self.first_day).days + 1))
        return WideSales(self.shops, self.first_day, self.values[:, :width], self.present[:, :width])

    def as_dict(self) -> dict[str, dict[date, int]]:
        days = [self.first_day + timedelta(days=offset) for offset in range(self.values.shape[1])]
        return {
            shop: {days[j]: int(self.values[i, j]) for j in np.flatnonzero(self.present[i])}
            for i, shop in enumerate(self.shops)
        }


def parse_wide(until: date | None = None) -> WideSales:
    """The wide file parsed with numpy in a few passes over its bytes (blank cells kept apart from 0)."""
    raw = (DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    raw = raw.replace(b"\r", b"")
    header_end = raw.index(b"\n")
    days = [date.fromisoformat(text) for text in raw[:header_end].decode().split(",")[1:]]
    if len(set(days)) != len(days):
        raise ValueError("a day appears twice in the wide file's header")
    body = np.frombuffer(raw, dtype=np.uint8)[header_end + 1:]
    if len(body) and body[-1] != ord("\n"):
        body = np.append(body, np.uint8(ord("\n")))
    ends = np.flatnonzero(SEPARATOR[body])
    columns = len(days) + 1
    rows = len(ends) // columns
    if len(ends) != rows * columns or not np.all(body[ends[columns - 1::columns]] == ord("\n")):
        raise ValueError("the wide file is expected rectangular: a shop id and one cell per day on every line")
    foreign = np.flatnonzero(FOREIGN[body])  # allowed only inside shop ids
    if len(foreign) and np.any(np.searchsorted(ends, foreign) % columns):
        raise ValueError("the wide file's cells are expected whole numbers of paying customers")
    first = min(days)
    offsets = np.array([(day - first).days for day in days], dtype=np.int64)  # a day may be missing (2015-12-12)
    wanted = np.flatnonzero(offsets <= (until - first).days) if until is not None else np.arange(len(days))
    cell = (np.arange(rows)[:, None] * columns + 1 + wanted).ravel()  # a day's cell: never the first of its line
    cell_ends = ends[cell]
    lengths = cell_ends - ends[cell - 1] - 1
    if len(lengths) and lengths.max() > 18:
        raise ValueError("a cell of the wide file is too long for a count of paying customers")
    values = _cell_values(body - np.uint8(ord("0")), cell_ends, lengths, int(lengths.max()) if len(lengths) else 0)
    width = int(offsets[wanted].max()) + 1 if len(wanted) else 0
    cells = np.zeros((rows, width), dtype=np.int64)
    cells[:, offsets[wanted]] = values.reshape(rows, len(wanted))
    present = np.zeros((rows, width), dtype=bool)
    present[:, offsets[wanted]] = lengths.reshape(rows, len(wanted)) > 0
    starts = np.append(0, ends[:-1] + 1)[::columns]
    shops = [raw[header_end + 1 + a:header_end + 1 + b].decode() for a, b in zip(starts, ends[::columns], strict=True)]
    return WideSales(shops, first, cells, present)


def _cell_values(digits: np.ndarray, ends: np.ndarray, lengths: np.ndarray, longest: int) -> np.ndarray:
    """The number in each cell from the digit values of the bytes (0 at separators) and where cells end."""
    if longest <= 4:  # the 4 bytes before each separator read as one big-endian word, then masked to the cell
        padded = np.concatenate((np.zeros(4, dtype=np.uint8), digits))
        words = np.ndarray(buffer=padded, dtype=">u4", shape=(len(padded) - 3,), strides=(1,))[ends]
        words = words & WORD_MASKS[np.minimum(lengths, 4)]  # native byte order from here on
        return TENS_AND_UNITS[words & 0xFFFF] + THOUSANDS_AND_HUNDREDS[words >> 16]
    values = np.zeros(len(ends), dtype=np.int64)
    for place in range(1, longest + 1):  # the units digit sits just before the separator, the tens before it...
        values += np.where(lengths >= place, digits[ends - place], 0).astype(np.int64) * 10 ** (place - 1)
    return values


def read_wide(until: date | None = None) -> dict[str, dict[date, int]]:
    """shop id → day → paying customers (blank cells left out)."""
    return parse_wide(until).as_dict()


def load_facts(code_of: dict[str, str], until: date | None = None, wide=None) -> list[DailyFact]:
    shops = load_shops(code_of)
    wide = wide if wide is not None else read_wide(until)
    return [
        DailyFact(shop, shops[shop][0], shops[shop][1], day, orders)
        for shop, values in wide.items()
        for day, orders in values.items()
        if until is None or day <= until
    ]


def load_history(until: date, wide: dict[str, dict[date, int]] | None = None
                 ) -> tuple[SalesHistory, dict[str, City], WideSales | list[DailyFact]]:
    """(history to `until`, cities, the sales read): straight from the parsed matrix, or, when `wide` is
    given (shop → day → customers), from its facts (then returned as the third item)."""
    cities, code_of = load_cities()
    shops = load_shops(code_of)
    if wide is not None:
        facts = load_facts(code_of, until, wide)
        return build_history(facts, data_start=DATA_START, data_end=until, outlet_master=shops), cities, facts
    sales = parse_wide(until)
    known = [shop for shop in sales.shops if shop in shops]
    if len(known) != len(sales.shops):
        raise ValueError(f"shops in the wide file but not in shop_info.csv: {sorted(set(sales.shops) - set(shops))[:5]}")
    ids = sales.shops + sorted(set(shops) - set(sales.shops))
    extra = len(ids) - len(sales.shops)
    values, present = sales.values, sales.present
    if extra:  # shops without a line in the wide file: no sales yet
        values = np.concatenate((values, np.zeros((extra, values.shape[1]), dtype=np.int64)))
        present = np.concatenate((present, np.zeros((extra, values.shape[1]), dtype=bool)))
    orders = DailyPanel(sales.first_day.toordinal(), values, present)
    history = history_from_panels(ids, shops, orders, data_start=DATA_START, data_end=until)
    return history, cities, sales
