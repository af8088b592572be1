"""The set-based upsert (`shared.db.set_based_upsert`) on SQLite and on the real PostgreSQL, the
inbox's batch claim, and the outbox's JSON fast paths (`wrap_json`, `message_from_envelope_json`)
against the plain ones they replace."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select
from sqlalchemy.exc import StatementError

from shared.clock import ReplayClock
from shared.db import ExactDecimal, UTCDateTime, make_engine, session_factory, set_based_upsert
from shared.envelope import (
    envelope_from_json,
    envelope_json,
    message_from_envelope_json,
    to_message,
    wrap,
    wrap_json,
)
from shared.events.alerts import UpliftRequested
from shared.outbox import UnitOfWork, add_outbox_tables
from shared.timeutil import UTC
from tests.fixtures import create_pg_database

metadata = MetaData()
facts = Table(
    "facts", metadata,
    Column("outlet_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("amount", ExactDecimal, nullable=True),
    Column("note", String(200), nullable=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
)
outbox, inbox = add_outbox_tables(metadata)
AT = datetime(2016, 7, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sessions(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'facts.db'}" if request.param == "sqlite" else create_pg_database("t_setbased")
    engine = make_engine(url)
    metadata.create_all(engine)
    yield session_factory(engine)
    engine.dispose()


def row(outlet: str, day: int, amount: str | None, revision: int, note: str | None = None) -> dict:
    return {"outlet_id": outlet, "day": date(2016, 6, day), "amount": None if amount is None else Decimal(amount),
            "note": note, "seen_at": AT, "revision": revision}


def stored(session) -> dict:
    return {(r.outlet_id, r.day.day): (r.amount, r.note, r.seen_at, r.revision) for r in session.execute(select(facts))}


def test_values_round_trip_exactly(sessions):
    note = '美食\t"quoted", back\\slash\nnew line'
    with sessions() as session:
        set_based_upsert(session, facts, [row("A", 1, "12345678901234567890.123456789", 1, note),
                                          row("B", 2, None, 1), row("C", 3, "-0.10", 1)], ("outlet_id", "day"))
        session.commit()
    with sessions() as session:
        assert stored(session) == {
            ("A", 1): (Decimal("12345678901234567890.123456789"), note, datetime(2016, 7, 1, 0, 30, tzinfo=UTC), 1),
            ("B", 2): (None, None, datetime(2016, 7, 1, 0, 30, tzinfo=UTC), 1),
            ("C", 3): (Decimal("-0.10"), None, datetime(2016, 7, 1, 0, 30, tzinfo=UTC), 1),
        }


def test_revisions_decide_and_returning_lists_only_the_rows_written(sessions):
    with sessions() as session:
        set_based_upsert(session, facts, [row("A", 1, "10", 2), row("B", 1, "20", 1)], ("outlet_id", "day"))
        session.commit()
    with sessions() as session:
        written = set_based_upsert(
            session, facts, [row("A", 1, "11", 2), row("B", 1, "21", 2), row("C", 1, "30", 1)], ("outlet_id", "day"),
            revisioned=True, strictly_newer=True, returning=("outlet_id",))
        session.commit()
        assert sorted(r[0] for r in written) == ["B", "C"]  # A: an equal revision is not newer
        assert {k: v[0] for k, v in stored(session).items()} == {
            ("A", 1): Decimal("10"), ("B", 1): Decimal("21"), ("C", 1): Decimal("30")}
    with sessions() as session:
        set_based_upsert(session, facts, [row("A", 1, "12", 2)], ("outlet_id", "day"), revisioned=True)
        session.commit()
        assert stored(session)[("A", 1)][0] == Decimal("12")  # >=: an equal revision replaces
    with sessions() as session:
        kept = set_based_upsert(session, facts, [row("A", 1, "99", 9), row("D", 1, "40", 1)], ("outlet_id", "day"),
                                keep_existing=True, returning=("outlet_id",))
        session.commit()
        assert [r[0] for r in kept] == ["D"]
        assert stored(session)[("A", 1)][0] == Decimal("12")


def test_a_float_or_a_naive_datetime_is_refused(sessions):
    with sessions() as session:
        with pytest.raises((TypeError, StatementError), match="float"):
            set_based_upsert(session, facts, [{**row("A", 1, None, 1), "amount": 1.5}], ("outlet_id", "day"))
    with sessions() as session:
        with pytest.raises((ValueError, StatementError), match="naive"):
            set_based_upsert(session, facts, [{**row("A", 1, None, 1), "seen_at": datetime(2016, 7, 1)}],
                             ("outlet_id", "day"))


def test_the_batch_claim_skips_what_the_inbox_holds_and_repeats_within_the_batch(sessions):
    first, second = (wrap(uplift(i), producer="alerts", now=AT) for i in ("u1", "u2"))

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, outbox, inbox, producer="test", clock=ReplayClock(AT))

    with uow() as unit:
        assert unit.claim("c", first)
        unit.commit()
    with uow() as unit:
        assert unit.claim_many("c", [first, second, second]) == {second.id}
        unit.commit()
    with uow() as unit:
        assert unit.claim_many("c", [first, second]) == set()
        assert unit.claim_many("other", [first]) == {first.id}


def uplift(uplift_id: str) -> UpliftRequested:
    return UpliftRequested(uplift_id=uplift_id, rule_id="heat", rule_version=1, city_code="310000", percent="15",
                           start_day="2024-07-03", end_day="2024-07-03", reason='高温 "35℃",\\"data":{}',
                           requested_at=datetime(2024, 7, 1, tzinfo=UTC))


def test_wrap_json_and_the_relay_fast_path_give_what_the_plain_path_gives():
    event = uplift("u-1")
    event_id, text = wrap_json(event, producer="alerts", now=AT, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    plain = wrap(event, producer="alerts", now=AT, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01")
    assert text == envelope_json(plain.model_copy(update={"id": event_id}))
    fast = message_from_envelope_json(text, UpliftRequested.TOPIC)
    slow = to_message(envelope_from_json(text), UpliftRequested.TOPIC)
    assert (fast.topic, fast.key, fast.headers) == (slow.topic, slow.key, slow.headers)
    assert json.loads(fast.value) == json.loads(slow.value) == event.model_dump(mode="json")
    # any other layout (here: data first) takes the full path
    reordered = json.dumps({"data": json.loads(text)["data"], **{k: v for k, v in json.loads(text).items() if k != "data"}})
    assert message_from_envelope_json(reordered, UpliftRequested.TOPIC).headers == slow.headers
