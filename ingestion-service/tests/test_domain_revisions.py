from datetime import date

from ingestion_service.domain.batching import MAX_FACTS_PER_EVENT, batches_by_city
from ingestion_service.domain.facts import SalesFact
from ingestion_service.domain.revisions import Stored, reconcile

from shared.events.ingestion import MAX_FACTS_PER_EVENT as CONTRACT_MAX


def _sale(day, outlet, orders, city="330100"):
    return SalesFact(date(2016, 7, day), outlet, "美食", city, orders)


def test_new_unchanged_and_corrected_facts():
    stored = {
        _sale(1, "1", 10).key: Stored((10, None, None), 1),
        _sale(2, "1", 20).key: Stored((20, None, None), 3),
    }
    result = reconcile([(2, _sale(1, "1", 10)), (3, _sale(2, "1", 21)), (4, _sale(3, "1", 5))], stored)
    assert [(r.fact.day.day, r.revision, r.row, r.is_correction) for r in result.changed] == [
        (2, 4, 3, True), (3, 1, 4, False)]
    assert result.unchanged == 1
    assert result.accepted == 2
    assert result.errors == []


def test_reimporting_the_same_facts_changes_nothing():
    facts = [(n + 2, _sale(n % 28 + 1, str(n), n)) for n in range(50)]
    first = reconcile(facts, {})
    stored = {r.fact.key: Stored(r.fact.value, r.revision) for r in first.changed}
    again = reconcile(facts, stored)
    assert (first.accepted, again.accepted, again.unchanged) == (50, 0, 50)


def test_duplicate_rows_in_one_file():
    result = reconcile([(2, _sale(1, "1", 10)), (3, _sale(1, "1", 10)), (4, _sale(1, "1", 11))], {})
    assert result.accepted == 1
    assert result.unchanged == 1
    [error] = result.errors
    assert (error.row, error.code, error.value) == (4, "conflicting_duplicate", "2016-07-01 / 1 / 美食")
    assert error.reason == "row 2 has the same key (2016-07-01 / 1 / 美食) with a different value"


def test_batches_are_bounded_and_keep_each_citys_order():
    assert MAX_FACTS_PER_EVENT == CONTRACT_MAX == 500
    facts = [_sale(1, str(n), n, city="330100" if n % 3 else "310000") for n in range(1201)]
    batches = batches_by_city(facts, lambda f: f.city_code)
    assert [(b.city_code, len(b.items)) for b in batches] == [
        ("310000", 401), ("330100", 500), ("330100", 300)]
    hangzhou = [f.orders for b in batches if b.city_code == "330100" for f in b.items]
    assert hangzhou == [n for n in range(1201) if n % 3]
    assert sum(len(b.items) for b in batches) == 1201


def test_small_batches():
    batches = batches_by_city(list(range(5)), lambda n: "a", size=2)
    assert [b.items for b in batches] == [(0, 1), (2, 3), (4,)]
