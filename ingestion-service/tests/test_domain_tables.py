import io
from datetime import date, datetime

import pytest
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import detect_format, read_table
from openpyxl import Workbook


def test_csv_rows_are_numbered_as_in_the_file_and_blank_rows_are_skipped():
    data = "城市,值\n杭州,1\n\n宁波,2\n,\n\n".encode()
    table = read_table(data, "x.csv")
    assert [(r.row, r.values) for r in table.records] == [(2, ("杭州", "1")), (4, ("宁波", "2"))]


def test_quoted_multiline_cell_counts_as_one_row():
    table = read_table(b'a,b\n"x\ny",1\nz,2\n', "x.csv")
    assert [(r.row, r.values) for r in table.records] == [(2, ("x\ny", "1")), (3, ("z", "2"))]


def test_trailing_blank_columns_from_excel_are_dropped_but_unnamed_data_is_kept():
    table = read_table(b"a,b,,\n1,2,,\n3,4,5,\n", "x.csv")
    assert table.columns == ["a", "b", "column_3"]
    assert [r.values for r in table.records] == [("1", "2", ""), ("3", "4", "5")]


def test_duplicate_headers_and_empty_files_are_whole_file_problems():
    with pytest.raises(FileProblem) as duplicate:
        read_table(b"a,a\n1,2\n", "x.csv")
    assert duplicate.value.code == "duplicate_columns"
    with pytest.raises(FileProblem) as empty:
        read_table(b"\n\n", "x.csv")
    assert empty.value.code == "empty_file"


def test_tab_separated_text():
    table = read_table("城市\t值\n杭州\t1\n".encode(), "x.csv")
    assert table.columns == ["城市", "值"]


def test_json_lines_keep_number_text_exactly_and_report_bad_lines():
    data = '{"city":"杭州","revenue":1234.50,"orders":3}\nnot json\n\n{"city":"宁波","extra":null}\n'.encode()
    table = read_table(data, "feed.jsonl")
    assert table.columns == ["city", "revenue", "orders", "extra"]
    assert [(r.row, r.values) for r in table.records] == [
        (1, ("杭州", "1234.50", "3", "")),
        (4, ("宁波", "", "", "")),
    ]
    assert [(e.row, e.code) for e in table.errors] == [(2, "invalid_json")]


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_cells_become_text_the_parsers_understand():
    data = _xlsx([
        ["日期", "门店", "订单数", "金额"],
        [date(2016, 7, 1), "s1", 12, 1234.5],
        [44185, "s2", 3.0, "1,000"],
        [datetime(2024, 1, 30, 9, 0), "s3", None, None],
        [None, None, None, None],
    ])
    assert detect_format("upload.bin", data) == "xlsx"
    table = read_table(data, "upload.xlsx")
    assert table.columns == ["日期", "门店", "订单数", "金额"]
    assert [(r.row, r.values) for r in table.records] == [
        (2, ("2016-07-01", "s1", "12", "1234.5")),
        (3, ("44185", "s2", "3", "1,000")),
        (4, ("2024-01-30T09:00:00", "s3", "", "")),
    ]


def test_a_damaged_xlsx_is_a_whole_file_problem():
    with pytest.raises(FileProblem) as caught:
        read_table(b"PK\x03\x04 not really a zip", "x.xlsx")
    assert caught.value.code == "malformed_xlsx"
