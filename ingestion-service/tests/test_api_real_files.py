"""Acceptance on the real files: the whole wide file through the API, checked against the csv module."""

import csv
import time

import pytest


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def loaded(api, data_dir):
    for kind, name in [("cities", "geo/koubei_city_dim.csv"), ("outlets", "koubei/shop_info.csv")]:
        job = api.import_and_wait(kind, (data_dir / name).read_bytes(), name.split("/")[-1])
        assert (job["status"], job["rejected"]) == ("succeeded", 0)
    started = time.monotonic()
    wide = api.import_and_wait("sales_wide", (data_dir / "koubei/shop_daily_pay_wide.csv").read_bytes(),
                               "shop_daily_pay_wide.csv")
    return api, wide, time.monotonic() - started


def test_the_wide_file_end_to_end_then_reimported(loaded, data_dir):
    api, wide, seconds = loaded
    header, *rows = _rows(data_dir / "koubei/shop_daily_pay_wide.csv")
    cells = [int(cell) for row in rows for cell in row[1:] if cell]
    assert sum(cells) == 69_674_110
    assert (wide["status"], wide["accepted"], wide["rejected"], wide["unchanged"]) == (
        "succeeded", len(cells), 0, 0)

    everything = api.get("/sales/total", params={"start": "2015-06-26", "end": "2016-10-31"}).json()
    assert (everything["orders"], everything["facts"]) == (69_674_110, 599_275)

    info_header, *info = _rows(data_dir / "koubei/shop_info.csv")
    hangzhou = {row[0] for row in info if row[info_header.index("city_name")] == "杭州"}
    q3 = [i for i, h in enumerate(header) if "2016-07-01" <= h <= "2016-09-30"]
    expected = sum(int(row[i]) for row in rows if row[0] in hangzhou for i in q3 if row[i])
    quarter = api.get("/sales/total", params={"start": "2016-07-01", "end": "2016-09-30", "city_code": "330100"})
    assert quarter.json()["orders"] == expected

    sales_events = api.outbox_events("ingestion.daily_sales_recorded")
    assert sum(len(e["data"]["sales"]) for e in sales_events) == 599_275
    assert max(len(e["data"]["sales"]) for e in sales_events) == 500
    assert sum(s["orders"] for e in sales_events for s in e["data"]["sales"]) == 69_674_110
    assert {e["key"] for e in sales_events} == {e["data"]["city_code"] for e in sales_events}

    again = api.import_and_wait("sales_wide", (data_dir / "koubei/shop_daily_pay_wide.csv").read_bytes())
    assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 599_275, 0)
    supermarket = api.import_and_wait(
        "sales_long", (data_dir / "koubei/shop_daily_pay_supermarket.csv").read_bytes())
    assert (supermarket["accepted"], supermarket["unchanged"], supermarket["rejected"]) == (0, 153_075, 0)
    assert len(api.outbox_events("ingestion.daily_sales_recorded")) == len(sales_events)
