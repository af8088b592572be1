from datetime import datetime, timedelta, timezone

import pytest
from negotiation_service.domain.errors import ConflictError, RuleViolation, WindowClosedError
from negotiation_service.domain.window import WindowStatus, open_window

from shared.timeutil import SHANGHAI, UTC


def test_window_is_72_hours_stored_in_utc(window):
    assert window.opened_at == datetime(2024, 6, 1, 1, 0, tzinfo=UTC)
    assert window.closes_at == datetime(2024, 6, 4, 1, 0, tzinfo=UTC)
    assert window.closes_at.tzinfo is UTC
    assert window.closes_at.astimezone(SHANGHAI).isoformat() == "2024-06-04T09:00:00+08:00"


def test_c13_boundary_in_shanghai(window):
    assert window.accepts(datetime(2024, 6, 4, 8, 59, 59, 999999, tzinfo=SHANGHAI)) is True
    assert window.accepts(datetime(2024, 6, 4, 9, 0, 0, 0, tzinfo=SHANGHAI)) is False
    with pytest.raises(WindowClosedError) as caught:
        window.require_open(datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI))
    assert caught.value.code == "window_closed"


def test_c13_boundary_in_utc_is_the_same_instant(window):
    assert window.accepts(datetime(2024, 6, 4, 0, 59, 59, 999999, tzinfo=UTC)) is True
    assert window.accepts(datetime(2024, 6, 4, 1, 0, tzinfo=UTC)) is False
    assert datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI) == datetime(2024, 6, 4, 1, 0, tzinfo=timezone.utc)


def test_opening_instant_is_inside_and_before_is_not_open(window):
    assert window.accepts(datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)) is True
    with pytest.raises(ConflictError) as caught:
        window.require_open(datetime(2024, 6, 1, 8, 59, 59, tzinfo=SHANGHAI))
    assert caught.value.code == "window_not_open"


def test_naive_datetimes_are_refused(window):
    with pytest.raises(RuleViolation) as caught:
        window.accepts(datetime(2024, 6, 4, 9, 0))
    assert caught.value.code == "naive_datetime"
    with pytest.raises(RuleViolation):
        open_window("w", "p", 1, datetime(2024, 6, 1, 9, 0))


def test_due_and_close(window):
    assert window.is_due(datetime(2024, 6, 4, 0, 59, 59, 999999, tzinfo=UTC)) is False
    assert window.is_due(datetime(2024, 6, 4, 1, 0, tzinfo=UTC)) is True
    with pytest.raises(ConflictError) as early:
        window.close(datetime(2024, 6, 4, 0, 59, tzinfo=UTC))
    assert early.value.code == "window_not_due"
    closed = window.close(datetime(2024, 6, 4, 9, 0, 5, tzinfo=SHANGHAI))
    assert closed.status is WindowStatus.CLOSED
    assert closed.closed_at == datetime(2024, 6, 4, 1, 0, 5, tzinfo=UTC)
    assert closed.version == 2
    assert closed.accepts(datetime(2024, 6, 2, tzinfo=UTC)) is False
    with pytest.raises(ConflictError) as twice:
        closed.close(datetime(2024, 6, 5, tzinfo=UTC))
    assert twice.value.code == "window_already_closed"


def test_duration_is_configurable():
    short = open_window("w", "p", 1, datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI), timedelta(hours=2))
    assert short.closes_at == datetime(2024, 6, 1, 3, 0, tzinfo=UTC)
    with pytest.raises(RuleViolation):
        open_window("w", "p", 1, datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI), timedelta(0))
