from datetime import date

import pytest
from allocation_service.domain.history import DailyFact
from allocation_service.domain.windows import Window


def _daily(outlet: str, city_code: str, start: date, end: date, orders: int, channel: str = "美食"):
    return [DailyFact(outlet, city_code, channel, day, orders) for day in Window(start, end).each_day()]


@pytest.fixture()
def daily():
    """daily(outlet, city, start, end, orders[, channel]) → one fact per day with the same orders."""
    return _daily
