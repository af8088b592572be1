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
COMMA, NEWLINE = ord(","), ord("\n")
# A cell of at most 4 digits is read as the little-endian word of the 4 bytes before its separator (the
# units digit in the top byte); the mask keeps the cell's own bytes, indexed by the cell's length.
CELL_MASKS = np.array([0, 0xFF000000, 0xFFFF0000, 0xFFFFFF00, 0xFFFFFFFF], dtype=np.uint32)
LONGEST_CELL = 18  # digits: a larger count of paying customers would not fit int64 sums
BLOCK_BYTES = 1 << 16  # lines parsed at once: their intermediate arrays stay in the cache


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
    """The wide file parsed with numpy (blank cells kept apart from 0), a block of lines at a time so that
    every intermediate array stays small: the separators of a block in one pass, then only the wanted
    cells, each read from the word of bytes that ends it."""
    raw = (DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    raw = raw.replace(b"\r", b"")
    header_end = raw.index(b"\n")
    days = [date.fromisoformat(text) for text in raw[:header_end].decode().split(",")[1:]]
    if len(set(days)) != len(days):
        raise ValueError("a day appears twice in the wide file's header")
    if not raw.endswith(b"\n"):
        raw += b"\n"
    if header_end + 1 < 4:  # a cell's word may reach before the body: never past the file's start
        raw, header_end = b"\n" * 4 + raw, header_end + 4
    base = header_end + 1
    body = np.frombuffer(raw, dtype=np.uint8)[base:]
    line_ends = np.flatnonzero(body == NEWLINE)
    rows, columns = len(line_ends), len(days) + 1
    first = min(days)
    offsets = np.array([(day - first).days for day in days], dtype=np.int64)  # a day may be missing (2015-12-12)
    wanted = np.flatnonzero(offsets <= (until - first).days) if until is not None else np.arange(len(days))
    cell_columns = _selector(wanted + 1)  # a day's cell: never the first field of its line
    runs = _runs(offsets[wanted])
    width = int(offsets[wanted].max()) + 1 if len(wanted) else 0
    cells = np.zeros((rows, width), dtype=np.int64)
    present = np.zeros((rows, width), dtype=bool)
    id_ends = np.zeros(rows, dtype=np.int64)
    lines = max(1, BLOCK_BYTES * rows // max(len(body), 1))
    for top in range(0, rows, lines):
        bottom = min(rows, top + lines)
        start = int(line_ends[top - 1]) + 1 if top else 0
        block = body[start:int(line_ends[bottom - 1]) + 1]
        ends, foreign = _separators(block)
        if len(ends) != (bottom - top) * columns or not np.all(block[ends[columns - 1::columns]] == NEWLINE):
            raise ValueError("the wide file is expected rectangular: a shop id and one cell per day on every line")
        if len(foreign) and np.any(np.searchsorted(ends, foreign) % columns):  # allowed only inside shop ids
            raise ValueError("the wide file's cells are expected whole numbers of paying customers")
        grid = ends.reshape(bottom - top, columns)
        spans = np.empty_like(ends)  # a field's length + 1 (its separator)
        spans[0] = ends[0] + 1
        np.subtract(ends[1:], ends[:-1], out=spans[1:])
        lengths = spans.reshape(grid.shape)[:, cell_columns] - 1
        longest = int(lengths.max()) if lengths.size else 0
        if longest > LONGEST_CELL:
            raise ValueError("a cell of the wide file is too long for a count of paying customers")
        cell_ends = grid[:, cell_columns] + (base + start)  # positions in `raw`
        if longest <= 4:
            values = _short_cells(raw, base + start - 4, len(block) + 4, cell_ends, lengths)
        else:
            values = _long_cells(raw, cell_ends, lengths, longest)
        for source, target in runs:
            cells[top:bottom, target] = values[:, source]
            np.greater(lengths[:, source], 0, out=present[top:bottom, target])
        id_ends[top:bottom] = grid[:, 0] + start
    starts = [0, *(line_ends[:-1] + 1).tolist()]
    shops = [raw[base + a:base + b].decode() for a, b in zip(starts, id_ends.tolist(), strict=True)]
    return WideSales(shops, first, cells, present)


def _separators(body: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of the commas and line ends, positions of the other bytes that are not digits)."""
    others = np.flatnonzero((body - np.uint8(ord("0"))) > 9)
    if len(others) == np.count_nonzero(body == COMMA) + np.count_nonzero(body == NEWLINE):
        return others, others[:0]
    found = body[others]
    separator = (found == COMMA) | (found == NEWLINE)
    return others[separator], others[~separator]


def _selector(wanted: np.ndarray) -> slice | np.ndarray:
    """The wanted columns as a slice when they are consecutive (a view, not a copy)."""
    if len(wanted) and int(wanted[-1] - wanted[0]) == len(wanted) - 1 and np.all(np.diff(wanted) == 1):
        return slice(int(wanted[0]), int(wanted[-1]) + 1)
    return wanted


def _runs(offsets: np.ndarray) -> list[tuple[slice, slice]]:
    """(source columns, target columns) slices of the runs of consecutive offsets."""
    cuts = [0, *(np.flatnonzero(np.diff(offsets) != 1) + 1).tolist(), len(offsets)]
    return [(slice(a, b), slice(int(offsets[a]), int(offsets[a]) + b - a)) for a, b in zip(cuts, cuts[1:]) if b > a]


def _short_cells(raw: bytes, offset: int, size: int, ends: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The numbers in cells of at most 4 digits ending (separator) at `ends` in `raw[offset:offset + size]`:
    the 4 bytes before each separator read as one word, masked to the cell, their digits combined in pairs."""
    words = np.ndarray(buffer=raw, dtype="<u4", shape=(size - 3,), strides=(1,), offset=offset)
    value = np.take(words, ends - (offset + 4))  # take copies the block's words once: faster than indexing them
    mask = np.take(CELL_MASKS, lengths)
    value &= mask
    mask &= np.uint32(0x30303030)  # the code of "0" in each byte of the cell
    value -= mask  # digit values, the first (thousands) in the lowest byte
    pairs = value >> np.uint32(8)
    value *= np.uint32(10)
    value += pairs
    value &= np.uint32(0x00FF00FF)  # thousands-and-hundreds, tens-and-units
    pairs = value >> np.uint32(16)
    value *= np.uint32(100)
    value += pairs
    value &= np.uint32(0xFFFF)
    return value


def _long_cells(raw: bytes, ends: np.ndarray, lengths: np.ndarray, longest: int) -> np.ndarray:
    """The numbers in cells of up to LONGEST_CELL digits, one digit place at a time."""
    digits = np.frombuffer(raw, dtype=np.uint8) - np.uint8(ord("0"))
    values = np.zeros(ends.shape, dtype=np.int64)
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
