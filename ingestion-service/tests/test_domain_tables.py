import io
import time
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


# -- width limits (a 2 MB header of 200,000 columns must not tie the server up) -------------------
def test_a_header_of_200000_columns_is_refused_from_the_raw_bytes_at_once():
    from ingestion_service.domain.tables import check_csv_header

    header = "day,outlet_id,orders," + ",".join(f"c{i}" for i in range(200_000 - 3))
    data = (header + "\n2016-07-01,1,3\n").encode()
    started = time.perf_counter()
    with pytest.raises(FileProblem) as refused:
        read_table(data, "wide.csv")
    assert time.perf_counter() - started < 0.5
    assert refused.value.code == "too_many_columns"
    assert refused.value.detail == ("the header line is longer than 65536 bytes: at most 2000 columns are "
                                    "accepted")
    with pytest.raises(FileProblem):
        check_csv_header(data)


def test_more_than_2000_columns_are_refused_but_2000_are_read():
    too_wide = ("a," * 2000 + "b\n1\n").encode()  # 2001 columns, 4 kB
    with pytest.raises(FileProblem) as refused:
        read_table(too_wide, "x.csv")
    assert (refused.value.code, refused.value.detail) == (
        "too_many_columns", "the header has 2001 columns; at most 2000 are accepted")
    quoted = ('"a,b",' + ",".join(f"c{i}" for i in range(1999)) + "\n1\n").encode()  # commas in quotes do not count
    assert len(read_table(quoted, "x.csv").columns) == 2000
    blank_first = ("\n\n" + ",".join(f"c{i}" for i in range(2001)) + "\n1\n").encode("gb18030")
    with pytest.raises(FileProblem) as blank:
        read_table(blank_first, "x.csv")
    assert blank.value.code == "too_many_columns"
    wide_row = ("a,b\n" + "1," * 2001 + "1\n").encode()  # a short header but a data row of 2002 cells
    with pytest.raises(FileProblem) as row:
        read_table(wide_row, "x.csv")
    assert (row.value.code, row.value.detail) == (
        "too_many_columns", "row 2 has 2002 cells; at most 2000 columns are accepted")


def test_naming_columns_is_linear_in_the_width(monkeypatch):
    from ingestion_service.domain import tables

    monkeypatch.setattr(tables, "MAX_COLUMNS", 1_000_000, raising=False)
    monkeypatch.setattr(tables, "MAX_HEADER_BYTES", 10_000_000, raising=False)
    width = 40_000
    data = (",".join(f"c{i}" for i in range(width)) + ",\n" + ",".join("1" * 1 for _ in range(width + 1)) + "\n")
    started = time.perf_counter()
    table = read_table(data.encode(), "x.csv")
    assert time.perf_counter() - started < 1.0  # quadratic duplicate detection took ~60 s here
    assert (len(table.columns), table.columns[-1]) == (width + 1, f"column_{width + 1}")


def test_xlsx_and_json_lines_are_held_to_the_same_width():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["a", "b"])
    sheet.append([1, 2])
    sheet.cell(row=3, column=5000).number_format = "0.00"  # formatting stretches the sheet, no data there
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "x.xlsx")
    assert (table.columns, [r.values for r in table.records]) == (["a", "b"], [("1", "2")])

    sheet.cell(row=2, column=2001, value="x")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(FileProblem) as refused:
        read_table(buffer.getvalue(), "x.xlsx")
    assert (refused.value.code, refused.value.detail) == (
        "too_many_columns", "row 2 has 2001 cells; at most 2000 columns are accepted")

    line = "{" + ",".join(f'"k{i}": 1' for i in range(2001)) + "}\n"
    with pytest.raises(FileProblem) as jsonl:
        read_table(line.encode(), "x.jsonl")
    assert (jsonl.value.code, jsonl.value.detail) == (
        "too_many_columns", "row 1 has 2001 cells; at most 2000 columns are accepted")
