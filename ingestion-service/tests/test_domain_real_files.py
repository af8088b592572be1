"""The parsers on the real files in ../shared/data, checked against independent csv-module sums."""

import csv
from collections import defaultdict
from datetime import date

import pytest
from ingestion_service.config import load_historical_names
from ingestion_service.domain.cities import CityDirectory
from ingestion_service.domain.parse_reference import parse_cities, parse_outlets
from ingestion_service.domain.parse_sales import parse_sales_long, parse_sales_wide
from ingestion_service.domain.parse_weather import parse_weather
from ingestion_service.domain.revisions import Stored, reconcile
from ingestion_service.domain.tables import read_table


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def directory(data_dir, regions):
    national = parse_cities(read_table((data_dir / "geo/china_cities.csv").read_bytes()), regions)
    koubei = parse_cities(read_table((data_dir / "geo/koubei_city_dim.csv").read_bytes()), regions)
    assert (len(national.facts), national.errors, len(koubei.facts), koubei.errors) == (365, [], 122, [])
    by_code = {city.code: city for _, city in national.facts}
    by_code.update({city.code: city for _, city in koubei.facts})
    return CityDirectory(by_code.values(), load_historical_names())


@pytest.fixture(scope="module")
def outlets(data_dir, directory):
    parsed = parse_outlets(read_table((data_dir / "koubei/shop_info.csv").read_bytes()), directory)
    assert parsed.errors == []
    return {outlet.outlet_id: outlet for _, outlet in parsed.facts}


@pytest.fixture(scope="module")
def wide(data_dir, outlets):
    return parse_sales_wide(read_table((data_dir / "koubei/shop_daily_pay_wide.csv").read_bytes()), outlets)


def test_every_koubei_city_name_resolves_to_its_adcode(data_dir, directory):
    header, *rows = _rows(data_dir / "geo/koubei_city_dim.csv")
    name, code = header.index("koubei_city_name"), header.index("city_adcode")
    assert len(rows) == 122
    assert {row[name]: directory.resolve(row[name]).city.code for row in rows} == {row[name]: row[code] for row in rows}
    assert directory.resolve("思茅").city.name == "普洱市"


def test_outlets_take_channel_from_cate_1_name(data_dir, outlets):
    header, *rows = _rows(data_dir / "koubei/shop_info.csv")
    channel = header.index("cate_1_name")
    assert len(outlets) == 2000
    assert {o.outlet_id: o.channel for o in outlets.values()} == {row[0]: row[channel] for row in rows}


def test_wide_file_cells_sum_to_the_published_total(data_dir, wide):
    header, *rows = _rows(data_dir / "koubei/shop_daily_pay_wide.csv")
    cells = [int(cell) for row in rows for cell in row[1:] if cell.strip()]
    assert sum(cells) == 69_674_110
    assert wide.errors == []
    assert len(wide.facts) == len(cells) == 599_275
    assert sum(fact.orders for _, fact in wide.facts) == 69_674_110


def test_a_citys_quarter_total_is_the_sum_of_its_outlets_cells(data_dir, outlets, wide):
    info_header, *info = _rows(data_dir / "koubei/shop_info.csv")
    hangzhou_shops = {row[0] for row in info if row[info_header.index("city_name")] == "杭州"}
    header, *rows = _rows(data_dir / "koubei/shop_daily_pay_wide.csv")
    q3 = [i for i, h in enumerate(header) if "2016-07-01" <= h <= "2016-09-30"]
    expected = sum(int(row[i]) for row in rows if row[0] in hangzhou_shops for i in q3 if row[i])
    per_city = defaultdict(int)
    for _, fact in wide.facts:
        if date(2016, 7, 1) <= fact.day <= date(2016, 9, 30):
            per_city[fact.city_code] += fact.orders
    assert len(q3) == 92
    assert expected > 0
    assert per_city["330100"] == expected


def test_the_supermarket_long_file_repeats_wide_cells_so_it_changes_nothing(data_dir, outlets, directory, wide):
    stored = {fact.key: Stored(fact.value, 1) for _, fact in wide.facts}
    long = parse_sales_long(read_table((data_dir / "koubei/shop_daily_pay_supermarket.csv").read_bytes()),
                            outlets, directory)
    assert long.errors == []
    result = reconcile(long.facts, stored)
    assert (result.accepted, result.unchanged, result.errors) == (0, 153_075, [])


def test_weather_file_every_row_becomes_an_observation(data_dir, directory):
    parsed = parse_weather(read_table((data_dir / "weather/china_city_weather_daily.csv").read_bytes()), directory)
    assert parsed.errors == []
    assert len(parsed.facts) == 122 * 519 == 63_318
    assert {fact.kind for _, fact in parsed.facts} == {"observation"}
    header, *rows = _rows(data_dir / "weather/china_city_weather_daily.csv")
    hot = sum(1 for row in rows if int(row[header.index("tmax_c")]) >= 35)
    assert sum(1 for _, fact in parsed.facts if fact.tmax_c >= 35) == hot
