from decimal import Decimal

import pytest
from ingestion_service.domain.numbers import NumberError, parse_count, parse_decimal, parse_temperature
from ingestion_service.domain.tables import read_csv


def test_c07_quoted_thousands_separators_become_exact_decimals():
    table = read_csv(b'city,ly\nA,"1,234.50"\nB,"12,345"\nC,999.5\n')
    values = [parse_decimal(record.values[1]) for record in table.records]
    assert values == [Decimal("1234.50"), Decimal("12345"), Decimal("999.5")]
    assert str(values[0]) == "1234.50"


def test_c07_variant_grouped_value_after_row_100_still_loads():
    lines = ["city,ly"] + [f"C{i},{i}.25" for i in range(100)] + ['C100,"1,049.34"']
    table = read_csv("\n".join(lines).encode())
    values = [parse_decimal(record.values[1]) for record in table.records]
    assert len(values) == 101
    assert values[100] == Decimal("1049.34")
    assert table.records[100].row == 102
    assert sum(values) == sum(Decimal(f"{i}.25") for i in range(100)) + Decimal("1049.34")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 1,234 ", Decimal("1234")),
        ("¥1,234.56", Decimal("1234.56")),
        ("￥１２，３４５．６", Decimal("12345.6")),
        ("$ 99", Decimal("99")),
        ("1234元", Decimal("1234")),
        ("-¥5,000", Decimal("-5000")),
        ("¥-5,000", Decimal("-5000")),
        ("\u3000８８\u3000", Decimal("88")),
        ("0.1", Decimal("0.1")),
        (".5", Decimal("0.5")),
        (7, Decimal(7)),
    ],
)
def test_messy_numbers(raw, expected):
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize("blank", ["", "   ", "\u3000", None])
def test_blank_is_no_value(blank):
    assert parse_decimal(blank) is None


@pytest.mark.parametrize("bad", ["1,5", "12,34,567", "abc", "1e3", "NaN", "1.2.3", "--5", "¥"])
def test_ambiguous_or_foreign_numbers_are_refused(bad):
    with pytest.raises(NumberError):
        parse_decimal(bad)


def test_floats_are_refused():
    with pytest.raises(NumberError):
        parse_decimal(0.1)


def test_counts_are_whole_and_not_negative():
    assert parse_count("1,204") == 1204
    assert parse_count("12.0") == 12
    assert parse_count("") is None
    with pytest.raises(NumberError, match="whole"):
        parse_count("12.5")
    with pytest.raises(NumberError, match="negative"):
        parse_count("-3")


def test_temperatures_with_units():
    assert parse_temperature("35℃") == Decimal("35")
    assert parse_temperature("34.9 °C") == Decimal("34.9")
    assert parse_temperature("-3°") == Decimal("-3")
    assert parse_temperature("") is None
