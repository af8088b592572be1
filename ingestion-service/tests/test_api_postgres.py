"""The same imports on the real PostgreSQL: COPY for bulk facts, updates for corrections, instants."""

from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.postgres

CITIES = "city_adcode,city,province\n330100,杭州市,浙江省\n530800,普洱市,云南省\n".encode()
OUTLETS = "shop_id,city_name,cate_1_name\n" + "".join(
    f"{n},{'杭州' if n % 2 else '思茅'},美食\n" for n in range(1, 11))
DAYS = [date(2016, 1, 1) + timedelta(days=d) for d in range(300)]


def _wide(value_of) -> bytes:
    header = "shop_id," + ",".join(day.isoformat() for day in DAYS)
    rows = [f"{n}," + ",".join(str(value_of(n, d)) for d in range(len(DAYS))) for n in range(1, 11)]
    return ("\n".join([header, *rows]) + "\n").encode()


def test_bulk_facts_corrections_and_instants_on_postgres(pg_api):
    api = pg_api
    assert api.import_and_wait("cities", CITIES)["accepted"] == 2
    assert api.import_and_wait("outlets", OUTLETS.encode())["accepted"] == 10

    first = api.import_and_wait("sales_wide", _wide(lambda n, d: n + d))
    assert (first["status"], first["accepted"], first["rejected"]) == ("succeeded", 3000, 0)
    expected = sum(n + d for n in range(1, 11) for d in range(300))
    total = api.get("/sales/total", params={"start": "2016-01-01", "end": "2016-12-31"}).json()
    assert (total["orders"], total["facts"]) == (expected, 3000)
    hangzhou = api.get("/sales/total", params={"start": "2016-01-01", "end": "2016-12-31", "city_code": "330100"})
    assert hangzhou.json()["orders"] == sum(n + d for n in range(1, 11, 2) for d in range(300))

    again = api.import_and_wait("sales_wide", _wide(lambda n, d: n + d))
    assert (again["accepted"], again["unchanged"]) == (0, 3000)
    corrected = api.import_and_wait("sales_wide", _wide(lambda n, d: n + d + (1 if n == 3 else 0)))
    assert (corrected["accepted"], corrected["unchanged"]) == (300, 2700)
    total = api.get("/sales/total", params={"start": "2016-01-01", "end": "2016-12-31"}).json()
    assert total["orders"] == expected + 300
    revisions = {s["revision"] for e in api.outbox_events("ingestion.daily_sales_recorded")[-1:]
                 for s in e["data"]["sales"]}
    assert revisions == {2}

    warnings = api.import_and_wait("weather_warnings", (
        "city,warning_type,level,valid_from,valid_to\n杭州,高温,黄色,2016-07-20 10:00,2016-07-22 18:00\n").encode())
    assert warnings["accepted"] == 1
    [issued] = api.outbox_events("ingestion.weather_warning_issued")
    assert (issued["data"]["valid_from"], issued["data"]["valid_to"]) == ("2016-07-20T02:00:00Z", "2016-07-22T10:00:00Z")
    same = api.import_and_wait("weather_warnings", (
        "city,warning_type,level,valid_from,valid_to\n杭州,高温,黄色,2016-07-20T02:00:00Z,2016-07-22T18:00+08:00\n"
    ).encode())
    assert (same["accepted"], same["unchanged"]) == (0, 1)
