from datetime import date, datetime, timezone

import pytest
from ingestion_service.domain.dates import (
    DateError,
    excel_serial_to_datetime,
    parse_date,
    parse_instant,
    parse_local_datetime,
)


def test_c08_excel_serials_from_1899_12_30():
    assert parse_date("44185") == date(2020, 12, 20)
    assert parse_date("45658") == date(2025, 1, 1)
    assert parse_date(44185) == date(2020, 12, 20)
    assert parse_local_datetime("45321.375") == datetime(2024, 1, 30, 9, 0)
    assert parse_date("44185") != date(2090, 12, 22)  # the Unix-epoch mistake


def test_c08_fractional_serial_is_shanghai_local_time():
    assert parse_instant("45321.375") == datetime(2024, 1, 30, 1, 0, tzinfo=timezone.utc)


def test_a_date_column_refuses_a_time_of_day():
    with pytest.raises(DateError, match="without a time"):
        parse_date("45321.375")


@pytest.mark.parametrize(
    "raw",
    ["2016-07-01", "2016/7/1", "2016.07.01", "20160701", "2016年7月1日", "2016年07月01日", "２０１６－０７－０１",
     " 2016-07-01 ", "2016-07-01 00:00:00", "2016-07-01T00:00", "42552"],
)
def test_date_spellings(raw):
    assert parse_date(raw) == date(2016, 7, 1)


def test_blank_dates_are_none():
    assert parse_date("") is None
    assert parse_instant("  ") is None


@pytest.mark.parametrize("bad", ["2016-02-30", "2016/13/1", "yesterday", "60", "7/1/2016"])
def test_impossible_or_ambiguous_dates_are_refused(bad):
    with pytest.raises(DateError):
        parse_date(bad)


def test_serial_rounds_to_the_second():
    assert excel_serial_to_datetime("45321.3333333333") == datetime(2024, 1, 30, 8, 0)


def test_instants_with_and_without_offsets():
    expected = datetime(2024, 6, 4, 1, 0, tzinfo=timezone.utc)
    assert parse_instant("2024-06-04T09:00:00+08:00") == expected
    assert parse_instant("2024-06-04T01:00:00Z") == expected
    assert parse_instant("2024-06-04 09:00") == expected
    assert parse_instant("2024/6/4 9:00") == expected
