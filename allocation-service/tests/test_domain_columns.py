"""The columnar history (panels, per-class phasing) gives exactly what the per-day rules give."""

import random
from datetime import date
from decimal import Decimal

from allocation_service.domain.history import build_history, history_from_rows
from allocation_service.domain.phasing import DayClasses, day_classes, month_totals, phase_classes, phase_days
from allocation_service.domain.windows import Window

PERIOD = Window(date(2016, 7, 1), date(2016, 9, 30))
JULY = Window(date(2016, 7, 1), date(2016, 7, 31))


def test_phasing_per_class_equals_phasing_day_by_day():
    generator = random.Random(4)
    for by in ("month_and_type", "type", "none"):
        classes: DayClasses = day_classes(PERIOD, by)
        for _ in range(40):
            weights = [Decimal(generator.randint(1, 9)) / Decimal(generator.randint(1, 7)) for _ in classes.keys]
            if len(weights) > 2:
                weights[1] = +weights[0]  # equal remainders in two classes: ties by date across them
            target = Decimal(generator.randint(0, 10**7))
            for quantum in (Decimal(1), Decimal("0.01")):
                daily, months = phase_classes(target, classes, weights, quantum)
                expected = phase_days(target, classes.as_dict(weights), quantum)
                assert daily == expected and list(daily) == list(expected)
                assert months == month_totals(expected)


def test_a_later_fact_replaces_an_earlier_one_and_revenue_follows_the_latest():
    rows = [
        ("A", "330100", "美食", date(2016, 7, 1), 5, Decimal("10.50"), 2),
        ("A", "330100", "美食", date(2016, 7, 2), 3, Decimal("4.25"), None),
        ("A", "330100", "美食", date(2016, 7, 1), 7, None, None),  # revision: no revenue, units kept
    ]
    outlet = history_from_rows(rows).outlets["A"]
    assert outlet.orders.total(JULY) == 10
    assert outlet.revenue.total(JULY) == Decimal("4.25") and outlet.revenue_orders.total(JULY) == 3
    assert outlet.units.total(JULY) == 2
    assert outlet.orders.items(JULY) == [(date(2016, 7, 1), 7), (date(2016, 7, 2), 3)]


def test_the_order_of_the_facts_does_not_matter():
    facts = [("B", "330100", "美食", date(2016, 7, d), d, None, None) for d in range(1, 20)]
    facts += [("A", "310000", "超市", date(2016, 7, d), 2 * d, None, None) for d in range(3, 9)]
    one, other = history_from_rows(facts), history_from_rows(list(reversed(facts)))
    assert list(one.outlets) == list(other.outlets) == ["A", "B"]
    for outlet_id in one.outlets:
        assert one.outlets[outlet_id].orders.items(JULY) == other.outlets[outlet_id].orders.items(JULY)
    assert build_history([], data_start=JULY.start, data_end=JULY.end).outlets == {}


def test_whole_unit_phasing_equals_phasing_day_by_day_on_rounded_and_tied_weights():
    """Quantum 1 is added up in integers: the same days and months as the Decimal path, also when the
    weights are 28-digit quotients (sums rounded) and when many classes tie on their remainders."""
    generator = random.Random(7)
    for by in ("month_and_type", "type", "none"):
        classes = day_classes(PERIOD, by)
        for case in range(60):
            if case % 3 == 0:  # the real shapes: means of daily sums over other means, 28 digits
                weights = [Decimal(generator.randint(1, 10**6)) / Decimal(generator.randint(1, 10**4)) / Decimal(7)
                           for _ in classes.keys]
            elif case % 3 == 1:  # every class the same weight: every remainder ties
                weights = [Decimal(generator.randint(1, 5)) / Decimal(3)] * len(classes.keys)
            else:  # whole weights, some zero
                weights = [Decimal(generator.randint(0, 3)) for _ in classes.keys]
                weights[0] += 1
            target = Decimal(generator.choice([0, 1, 91, 92, 93, generator.randint(0, 10**9)]))
            daily, months = phase_classes(target, classes, weights)
            expected = phase_days(target, classes.as_dict(weights))
            assert list(daily.items()) == list(expected.items())
            assert [str(value) for value in daily.values()] == [str(value) for value in expected.values()]
            assert months == month_totals(expected)
            assert [str(value) for value in months.values()] == [str(v) for v in month_totals(expected).values()]
            assert sum(daily.values()) == target
