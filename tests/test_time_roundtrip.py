"""C12/C13: an instant round-trips as the same instant on SQLite and on the real PostgreSQL."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select

from shared.db import ExactDecimal, UTCDateTime, make_engine
from shared.timeutil import SHANGHAI, UTC
from tests.fixtures import create_pg_database

metadata = MetaData()
deadlines = Table("deadlines", metadata, Column("id", Integer, primary_key=True),
                  Column("closes_at", UTCDateTime), Column("amount", ExactDecimal))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else create_pg_database("t_time")
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_aware_instant_round_trips_as_utc(engine):
    closes_at = datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI)
    amount = Decimal("1234567890123456789.123456")
    with engine.begin() as connection:
        connection.execute(deadlines.insert().values(id=1, closes_at=closes_at, amount=amount))
    with engine.connect() as connection:
        row = connection.execute(select(deadlines)).one()
    assert row.closes_at == datetime(2024, 6, 4, 1, 0, tzinfo=UTC)
    assert row.closes_at.utcoffset() == timedelta(0)
    assert row.closes_at == closes_at
    assert row.amount == amount and str(row.amount) == "1234567890123456789.123456"


def test_naive_datetime_is_refused(engine):
    with pytest.raises(Exception, match="naive"):
        with engine.begin() as connection:
            connection.execute(deadlines.insert().values(id=2, closes_at=datetime(2024, 6, 4, 9, 0)))


def test_offsets_compare_equal():
    assert datetime(2024, 6, 4, 9, 0, tzinfo=timezone(timedelta(hours=8))) == datetime(2024, 6, 4, 1, 0, tzinfo=UTC)
