from datetime import date
from decimal import Decimal

from allocation_service.domain.budget import expense_budget
from allocation_service.domain.phasing import (
    FESTIVAL,
    REST,
    WORKDAY,
    daily_shape,
    day_type,
    month_totals,
    phase_days,
    phase_months,
)
from allocation_service.domain.windows import Window

VALUE_BY_TYPE = {WORKDAY: Decimal(10), REST: Decimal(20), FESTIVAL: Decimal(40)}


def test_day_types_follow_the_chinese_calendar():
    assert day_type(date(2016, 9, 15)) == FESTIVAL  # 中秋节
    assert day_type(date(2016, 9, 17)) == FESTIVAL  # a Saturday inside the 中秋 holiday
    assert day_type(date(2016, 9, 18)) == WORKDAY  # a make-up working Sunday
    assert day_type(date(2016, 7, 2)) == REST
    assert day_type(date(2016, 7, 4)) == WORKDAY


def test_phasing_follows_last_years_day_types_and_sums_exactly():
    last_year = {day: VALUE_BY_TYPE[day_type(day)] for day in Window(date(2015, 9, 1), date(2015, 9, 30)).each_day()}
    period = Window(date(2016, 9, 12), date(2016, 9, 18))
    shape = daily_shape(period, last_year)
    # Mon–Wed workdays, Thu–Sat the festival, Sunday a make-up workday
    assert [shape[day] for day in period.each_day()] == [Decimal(10)] * 3 + [Decimal(40)] * 3 + [Decimal(10)]
    parts = phase_days(Decimal(1000), shape)
    assert [parts[day] for day in period.each_day()] == [63, 63, 62, 250, 250, 250, 62]
    assert sum(parts.values()) == 1000


def test_month_level_follows_last_year():
    last_year = {day: Decimal(10 if day.month == 7 else 30) for day in Window(date(2015, 7, 1), date(2015, 8, 31)).each_day()}
    period = Window(date(2016, 7, 1), date(2016, 8, 31))
    daily = phase_days(Decimal(6200), daily_shape(period, last_year))
    months = month_totals(daily)
    assert sum(months.values()) == 6200
    # July's level is a third of August's; weekday factors are the same in both, so about 1:3
    assert months["2016-07"] < months["2016-08"] / 2


def test_without_history_days_weigh_the_same():
    period = Window(date(2016, 7, 1), date(2016, 7, 4))
    assert phase_days(Decimal(10), daily_shape(period, {}, {})) == {
        date(2016, 7, 1): 3, date(2016, 7, 2): 3, date(2016, 7, 3): 2, date(2016, 7, 4): 2,
    }


def test_without_last_year_recent_day_types_shape_the_days():
    recent = {day: VALUE_BY_TYPE[day_type(day)] for day in Window(date(2016, 4, 2), date(2016, 6, 30)).each_day()}
    period = Window(date(2016, 9, 14), date(2016, 9, 15))  # a workday, then 中秋
    shape = daily_shape(period, {}, recent)
    assert shape[date(2016, 9, 15)] == shape[date(2016, 9, 14)] * 4


def test_c02d_25_over_four_months():
    months = {"2016-07": Decimal(1), "2016-08": Decimal(1), "2016-09": Decimal(1), "2016-10": Decimal(1)}
    assert list(phase_months(Decimal(25), months).values()) == [7, 6, 6, 6]


def test_expense_budget_sums_are_exact():
    budget = expense_budget(
        targets={"330100": Decimal(1000), "440100": Decimal(501)},
        regions={"330100": "华东", "440100": "华南"},
        channel_mix={"330100": {"美食": Decimal(3), "超市便利店": Decimal(1)}, "440100": {"美食": Decimal(1)}},
        expense_ratios={"美食": Decimal("0.1"), "超市便利店": Decimal("0.05")},
    )
    # exact: 330100 = 750 × 0.1 + 250 × 0.05 = 87.5; 440100 = 50.1; total 137.6 → 138
    assert budget.total == 138
    assert budget.by_city == {"330100": 88, "440100": 50}
    assert budget.by_region == {"华东": 88, "华南": 50}
    assert budget.by_city_channel == {("330100", "美食"): 75, ("330100", "超市便利店"): 13, ("440100", "美食"): 50}


def test_expense_budget_to_a_head_office_figure():
    budget = expense_budget(
        targets={"A": Decimal(100), "B": Decimal(100), "C": Decimal(100)},
        regions={"A": "r1", "B": "r1", "C": "r2"},
        channel_mix={},
        expense_ratios={},
        default_ratio=Decimal(1),
        total=Decimal(1000),
    )
    assert budget.by_city == {"A": 334, "B": 333, "C": 333}
    assert budget.by_region == {"r1": 667, "r2": 333}
    assert sum(budget.by_region.values()) == budget.total == 1000
