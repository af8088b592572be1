from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from ingestion_service.domain.facts import FulfilmentFact, Outlet, SalesFact, WeatherFact
from ingestion_service.domain.parse_fulfilment import parse_fulfilment
from ingestion_service.domain.parse_sales import parse_sales_long, parse_sales_wide
from ingestion_service.domain.parse_weather import parse_weather, parse_weather_warnings
from ingestion_service.domain.problems import FileProblem, RowError
from ingestion_service.domain.tables import read_table

OUTLETS = {
    "1": Outlet("1", "330100", "美食"),
    "2": Outlet("2", "530800", "超市便利店"),
}


def test_wide_layout_unpivots_non_blank_cells_and_rejects_unknown_outlets():
    data = (b"shop_id,2016-07-01,2016-07-02,2016/7/3\n"
            b"1,12,,3\n"
            b"2,,\"1,204\",\n"
            b"9,5,5,5\n"
            b"1 ,x,,\n")
    parsed = parse_sales_wide(read_table(data), OUTLETS)
    assert [(row, fact) for row, fact in parsed.facts] == [
        (2, SalesFact(date(2016, 7, 1), "1", "美食", "330100", 12)),
        (2, SalesFact(date(2016, 7, 3), "1", "美食", "330100", 3)),
        (3, SalesFact(date(2016, 7, 2), "2", "超市便利店", "530800", 1204)),
    ]
    assert parsed.errors == [
        RowError(4, "shop_id", "9", "unknown_outlet", "unknown outlet 9: import the outlets first"),
        RowError(5, "2016-07-01", "x", "invalid_count", "not a number: 'x'"),
    ]
    assert parsed.rows_read == 4


def test_wide_layout_needs_date_headers():
    with pytest.raises(FileProblem) as caught:
        parse_sales_wide(read_table(b"shop_id,2016-07-01,total\n1,2,2\n"), OUTLETS)
    assert caught.value.code == "not_a_date_column"
    assert "total" in caught.value.detail


def test_long_layout_takes_city_and_channel_from_the_outlet(small_directory):
    data = ("date,shop_id,pay_count,revenue,city\n"
            "2016-07-01,1,3,\"¥1,234.50\",\n"
            "42552,2,4,,思茅\n"
            "2016-07-01,1,3,,宁波\n"
            "2016-07-01,7,3,,\n"
            "2016-07-32,1,-1,,\n").encode()
    parsed = parse_sales_long(read_table(data), OUTLETS, small_directory)
    assert [f for _, f in parsed.facts] == [
        SalesFact(date(2016, 7, 1), "1", "美食", "330100", 3, Decimal("1234.50")),
        SalesFact(date(2016, 7, 1), "2", "超市便利店", "530800", 4),
    ]
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (4, "city", "city_mismatch"),
        (5, "shop_id", "unknown_outlet"),
        (5, "channel", "missing_value"),
        (6, "date", "invalid_date"),
        (6, "pay_count", "invalid_count"),
    ]


def test_long_layout_accepts_a_new_outlet_that_names_city_and_channel(small_directory):
    data = "日期,门店,订单数,城市,渠道\n2016年7月1日,n1,5,杭州市,美食\n".encode("gb18030")
    parsed = parse_sales_long(read_table(data), OUTLETS, small_directory)
    assert [f for _, f in parsed.facts] == [SalesFact(date(2016, 7, 1), "n1", "美食", "330100", 5)]
    assert parsed.errors == []


def test_fulfilment(small_directory):
    data = ("dealer_id,city,date,quantity_ordered,quantity_delivered\n"
            "d1,杭州,2016-07-01,100,95\n"
            "d2,火星,2016-07-01,1,1\n"
            "d3,宁波,2016-07-01,1.5,\n").encode()
    parsed = parse_fulfilment(read_table(data), small_directory)
    assert [f for _, f in parsed.facts] == [FulfilmentFact(date(2016, 7, 1), "d1", "330100", 100, 95)]
    assert parsed.errors == [
        RowError(3, "city", "火星", "unknown_city", "unknown city 火星"),
        RowError(4, "quantity_ordered", "1.5", "invalid_count", "not a whole number: '1.5'"),
        RowError(4, "quantity_delivered", "", "missing_value", "quantity_delivered is required"),
    ]


def test_weather_observations_and_forecasts(small_directory):
    data = ("city_name,date,tmax_c,tmin_c,weather,wind_dir,wind_level,kind,issued_on\n"
            "杭州,2016-07-01,35,26,晴,南风,3-4级,,\n"
            "杭州,2016-07-08,36℃,27℃,多云,,,forecast,2016-07-01\n"
            "杭州,2016-07-08,36,27,,,,预报,\n"
            "宁波,2016-07-01,20,25,,,,,\n"
            "宁波,2016-07-01,,,,,,,2016-07-02\n").encode()
    parsed = parse_weather(read_table(data), small_directory)
    assert [f for _, f in parsed.facts] == [
        WeatherFact("330100", date(2016, 7, 1), "observation", None, Decimal(35), Decimal(26), "晴", "南风 3-4级"),
        WeatherFact("330100", date(2016, 7, 8), "forecast", date(2016, 7, 1), Decimal(36), Decimal(27), "多云"),
    ]
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (4, "issued_on", "missing_value"),
        (5, "tmax_c", "tmax_below_tmin"),
        (6, "issued_on", "issued_after_day"),
    ]


def test_weather_warnings_read_local_times_as_shanghai(small_directory):
    data = ("city,warning_type,level,valid_from,valid_to\n"
            "杭州,高温,黄色,2016-07-20 10:00,2016-07-22T18:00:00+08:00\n"
            "杭州,高温,橙色,2016-07-22 10:00,2016-07-21 10:00\n").encode()
    parsed = parse_weather_warnings(read_table(data), small_directory)
    [(row, warning)] = parsed.facts
    assert (warning.city_code, warning.warning_type, warning.level) == ("330100", "高温", "yellow")
    assert warning.valid_from == datetime(2016, 7, 20, 2, 0, tzinfo=timezone.utc)
    assert warning.valid_to == datetime(2016, 7, 22, 10, 0, tzinfo=timezone.utc)
    assert warning.warning_id.startswith("w-") and len(warning.warning_id) == 22
    again = parse_weather_warnings(read_table(data), small_directory).facts[0][1]
    assert again.warning_id == warning.warning_id
    assert [(e.row, e.code) for e in parsed.errors] == [(3, "ends_before_start")]


def test_missing_columns_are_one_whole_file_problem(small_directory):
    with pytest.raises(FileProblem) as caught:
        parse_fulfilment(read_table(b"dealer_id,city\nd1,x\n"), small_directory)
    assert caught.value.code == "missing_columns"
    assert caught.value.detail.startswith("missing column(s): day (or date / 日期 / 业务日期)")
