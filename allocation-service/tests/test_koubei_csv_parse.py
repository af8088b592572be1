"""The numpy parse of the Koubei wide file against the csv module, on small files and on the real one."""

import csv
import io
from datetime import date

import numpy as np
import pytest
from allocation_service.adapters import koubei_csv


def reference(text: str, until: date | None = None) -> dict[str, dict[date, int]]:
    """shop → day → customers read with the csv module (blank cells left out)."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    days = [date.fromisoformat(day) for day in rows[0][1:]]
    return {
        row[0]: {day: int(cell) for day, cell in zip(days, row[1:], strict=True)
                 if cell != "" and (until is None or day <= until)}
        for row in rows[1:]
    }


@pytest.fixture()
def wide_file(tmp_path, monkeypatch):
    """wide_file(text or bytes): writes the wide file under a data directory of its own."""
    (tmp_path / "koubei").mkdir()
    monkeypatch.setattr(koubei_csv, "DATA_DIR", tmp_path)

    def write(content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        (tmp_path / "koubei" / "shop_daily_pay_wide.csv").write_bytes(data)
    return write


SMALL = (
    "shop_id,2015-12-10,2015-12-11,2015-12-13,2015-12-14\n"  # 2015-12-12 missing, as in the real file
    "1,7,,0,1234\n"
    "22,,,,\n"
    "s-3,98765,12,5,\n"  # a shop id that is not a number; a cell of five digits
    "4,123456789012345678,1,22,333\n"
)


def test_cells_blanks_and_long_numbers_match_the_csv_module(wide_file):
    wide_file(SMALL)
    sales = koubei_csv.parse_wide()
    assert sales.shops == ["1", "22", "s-3", "4"]
    assert sales.first_day == date(2015, 12, 10)
    assert sales.values.tolist() == [
        [7, 0, 0, 0, 1234],
        [0, 0, 0, 0, 0],
        [98765, 12, 0, 5, 0],
        [123456789012345678, 1, 0, 22, 333],
    ]
    assert sales.present.tolist() == [
        [True, False, False, True, True],
        [False] * 5,
        [True, True, False, True, False],
        [True, True, False, True, True],
    ]
    assert koubei_csv.read_wide() == reference(SMALL)
    assert koubei_csv.read_wide(date(2015, 12, 13)) == reference(SMALL, date(2015, 12, 13))
    assert koubei_csv.parse_wide(date(2015, 12, 11)).values.shape == (4, 2)


def test_bom_crlf_and_a_missing_last_line_end(wide_file):
    wide_file(b"\xef\xbb\xbf" + SMALL.replace("\n", "\r\n").rstrip("\r\n").encode())
    assert koubei_csv.read_wide() == reference(SMALL)


@pytest.mark.parametrize("block_bytes", [1, 50, 1 << 16])
def test_any_block_size_gives_the_same_cells(wide_file, monkeypatch, block_bytes):
    rng = np.random.default_rng(4)
    days = [date(2016, 1, 1).fromordinal(date(2016, 1, 1).toordinal() + k) for k in range(40)]
    lines = ["shop_id," + ",".join(day.isoformat() for day in days)]
    for shop in range(60):
        cells = [str(v) if v >= 0 else "" for v in rng.integers(-3000, 12000, len(days)) // rng.integers(1, 40)]
        lines.append(f"{shop},{','.join(cells)}")
    text = "\n".join(lines) + "\n"
    wide_file(text)
    monkeypatch.setattr(koubei_csv, "BLOCK_BYTES", block_bytes)
    assert koubei_csv.read_wide() == reference(text)
    assert koubei_csv.read_wide(date(2016, 1, 20)) == reference(text, date(2016, 1, 20))


@pytest.mark.parametrize("content, message", [
    ("shop_id,2016-01-01,2016-01-02\n1,2\n", "rectangular"),
    ("shop_id,2016-01-01,2016-01-02\n1,2,3,4\n", "rectangular"),
    ("shop_id,2016-01-01,2016-01-02\n1,2,3\n2,4\n", "rectangular"),
    ("shop_id,2016-01-01,2016-01-02\n1,2,x\n", "whole numbers"),
    ("shop_id,2016-01-01,2016-01-02\n1,-2,3\n", "whole numbers"),
    ("shop_id,2016-01-01,2016-01-02\n1,2.5,3\n", "whole numbers"),
    ("shop_id,2016-01-01,2016-01-02\n1,2,1234567890123456789\n", "too long"),
    ("shop_id,2016-01-01,2016-01-01\n1,2,3\n", "twice"),
])
def test_malformed_files_are_refused(wide_file, content, message):
    wide_file(content)
    with pytest.raises(ValueError, match=message):
        koubei_csv.parse_wide()


def test_the_real_file_matches_the_csv_module():
    if not koubei_csv.available():
        pytest.fail(f"the real data is expected under {koubei_csv.DATA_DIR} (set DATA_DIR)")
    text = (koubei_csv.DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").read_text(encoding="utf-8")
    assert koubei_csv.read_wide() == reference(text)
    until = date(2016, 6, 30)
    expected = reference(text, until)
    assert koubei_csv.read_wide(until) == expected
    assert sum(len(days) for days in reference(text).values()) == 599_275  # the non-blank cells
    assert sum(len(days) for days in expected.values()) == 366_982
