"""FactRepository.store_sales (one set-based upsert per batch) against the row-by-row rules it
replaced: which rows end up stored, which days count as changed, and the city totals of those days,
on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.adapters.tables import city_daily_actuals, outlet_daily_sales
from alerts_service.bootstrap import SERVICE
from sqlalchemy import select

from shared.events.ingestion import DailySale
from shared.timeutil import UTC

NOW = datetime(2016, 7, 1, 1, 0, tzinfo=UTC)
CITY = "440100"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sessions(request, embedded_host, pg_host):
    factory = embedded_host if request.param == "sqlite" else pg_host
    host = factory([SERVICE])
    return host.services["alerts"].context.sessions


def reference(stored: dict, facts: list[DailySale]) -> tuple[dict, set[date]]:
    """The rules as applied one fact at a time (the former implementation): a new key is inserted,
    and a fact of the same batch with an equal or higher revision replaces it; a stored key is
    replaced only by a strictly higher revision."""
    stored = dict(stored)
    inserted: set[tuple] = set()
    changed: set[date] = set()
    for fact in facts:
        key = (fact.day, fact.outlet_id, fact.channel)
        current = stored.get(key)
        if current is None:
            inserted.add(key)
        elif not (fact.revision > current[0] or (key in inserted and fact.revision == current[0])):
            continue
        stored[key] = (fact.revision, fact.orders)
        changed.add(fact.day)
    return stored, changed


def stored_rows(session) -> dict:
    rows = session.execute(select(outlet_daily_sales).where(outlet_daily_sales.c.city_code == CITY))
    return {(r.day, r.outlet_id, r.channel): (r.revision, r.orders) for r in rows}


def city_totals(session) -> dict:
    rows = session.execute(select(city_daily_actuals).where(city_daily_actuals.c.city_code == CITY))
    return {r.day: (r.orders, r.outlets) for r in rows}


def expected_totals(stored: dict) -> dict:
    totals: dict[date, list] = {}
    for (day, outlet, _channel), (_revision, orders) in stored.items():
        entry = totals.setdefault(day, [0, set()])
        entry[0] += orders
        entry[1].add(outlet)
    return {day: (orders, len(outlets)) for day, (orders, outlets) in totals.items()}


def test_a_batch_inserts_corrects_and_ignores_as_the_row_by_row_rules(sessions):
    first = [DailySale(day=date(2016, 6, 1), outlet_id="A", channel="美食", orders=10),
             DailySale(day=date(2016, 6, 1), outlet_id="B", channel="美食", orders=20),
             DailySale(day=date(2016, 6, 2), outlet_id="A", channel="美食", orders=30)]
    with sessions() as session:
        assert FactRepository(session).store_sales(CITY, first, NOW) == {date(2016, 6, 1), date(2016, 6, 2)}
        session.commit()
    second = [
        DailySale(day=date(2016, 6, 1), outlet_id="A", channel="美食", orders=11, revision=2),  # correction
        DailySale(day=date(2016, 6, 2), outlet_id="A", channel="美食", orders=99, revision=1),  # equal: ignored
        DailySale(day=date(2016, 6, 3), outlet_id="C", channel="超市", orders=5, revision=1),  # new
        DailySale(day=date(2016, 6, 3), outlet_id="C", channel="超市", orders=6, revision=1),  # new, tie: later wins
        DailySale(day=date(2016, 6, 1), outlet_id="B", channel="美食", orders=21, revision=3),  # stored key:
        DailySale(day=date(2016, 6, 1), outlet_id="B", channel="美食", orders=22, revision=3),  # tie: first wins
        DailySale(day=date(2016, 6, 1), outlet_id="B", channel="美食", orders=23, revision=2),  # lower: ignored
    ]
    with sessions() as session:
        changed = FactRepository(session).store_sales(CITY, second, NOW)
        session.commit()
    with sessions() as session:
        assert changed == {date(2016, 6, 1), date(2016, 6, 3)}
        assert stored_rows(session) == {
            (date(2016, 6, 1), "A", "美食"): (2, 11), (date(2016, 6, 1), "B", "美食"): (3, 21),
            (date(2016, 6, 2), "A", "美食"): (1, 30), (date(2016, 6, 3), "C", "超市"): (1, 6),
        }
        assert city_totals(session) == {date(2016, 6, 1): (32, 2), date(2016, 6, 2): (30, 1), date(2016, 6, 3): (6, 1)}
    with sessions() as session:  # a redelivered batch changes nothing
        assert FactRepository(session).store_sales(CITY, second, NOW) == set()


def test_random_batches_match_the_row_by_row_rules(sessions):
    rng = random.Random(20160701)
    model: dict = {}
    for _ in range(12):
        facts = []
        for _ in range(rng.randint(1, 700)):  # above MAX_FACTS_PER_EVENT too: chunking
            facts.append(DailySale(day=date(2016, 6, 1) + timedelta(days=rng.randint(0, 9)),
                                   outlet_id=f"S{rng.randint(0, 40):03d}", channel=rng.choice(["美食", "超市"]),
                                   orders=rng.randint(0, 500), revision=rng.randint(1, 4)))
        model, expected_changed = reference(model, facts)
        with sessions() as session:
            changed = FactRepository(session).store_sales(CITY, facts, NOW)
            session.commit()
        assert changed == expected_changed
        with sessions() as session:
            assert stored_rows(session) == model
            assert city_totals(session) == expected_totals(model)
