"""bulk_insert (binary COPY with declared column types on PostgreSQL, executemany on SQLite) stores
exactly the values given: text needing escapes, NULLs, exact decimals, dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from ingestion_service.adapters.fact_store import BULK_THRESHOLD, bulk_insert, copy_types
from ingestion_service.adapters.tables import sales_facts, weather_facts
from ingestion_service.bootstrap import SERVICE
from sqlalchemy import select

ODD = [("a\\b", None, None), ("tab\there", Decimal("1.50"), 3), ("nl\nx\r", Decimal("1E+2"), None),
       ("\\N", Decimal("-0.001"), 0), ("", None, None), ("普通店", Decimal("12345678901234567890.123"), 7)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sessions(request, embedded_host, pg_host):
    factory = embedded_host if request.param == "sqlite" else pg_host
    return factory([SERVICE]).services["ingestion"].context.sessions


def test_copy_types_follow_the_columns():
    assert copy_types(sales_facts) == ["date", "text", "text", "text", "int4", "numeric", "int4", "int4", "text"]
    assert copy_types(weather_facts) == ["text", "date", "text", "text", "date", "numeric", "numeric", "text", "text",
                                         "int4", "text"]


def test_bulk_rows_come_back_as_written(sessions):
    sales = [{"day": date(2016, 7, 1), "outlet_id": outlet, "channel": "美食", "city_code": "440100", "orders": i,
              "revenue": revenue, "units": units, "revision": 1, "job_id": "job-1"}
             for i, (outlet, revenue, units) in enumerate(ODD)]
    sales += [{"day": date(2016, 6, 1) + timedelta(days=i % 30), "outlet_id": f"S{i:05d}", "channel": "超市",
               "city_code": "310000", "orders": i, "revenue": None, "units": None, "revision": 2, "job_id": "job-1"}
              for i in range(BULK_THRESHOLD)]
    weather = [{"city_code": "440100", "day": date(2016, 7, 1) + timedelta(days=i % 60), "kind": "forecast",
                "issued_key": f"k{i}", "issued_on": None if i % 2 else date(2016, 6, 30), "tmax_c": Decimal("35.5"),
                "tmin_c": None, "text": "晴\t转多云" if i == 7 else "晴", "wind": None, "revision": 1, "job_id": "job-1"}
               for i in range(BULK_THRESHOLD)]
    with sessions() as session:
        bulk_insert(session, sales_facts, sales)
        bulk_insert(session, weather_facts, weather)
        session.commit()
    with sessions() as session:
        stored_sales = [dict(row._mapping) for row in session.execute(select(sales_facts))]
        stored_weather = [dict(row._mapping) for row in session.execute(select(weather_facts))]
    by_sales_key = lambda row: (row["day"], row["outlet_id"], row["channel"])  # noqa: E731
    assert sorted(stored_sales, key=by_sales_key) == sorted(sales, key=by_sales_key)
    assert sorted(stored_weather, key=lambda row: row["issued_key"]) == sorted(weather, key=lambda row: row["issued_key"])
    assert sum(row["orders"] for row in stored_sales) == sum(range(len(ODD))) + sum(range(BULK_THRESHOLD))
