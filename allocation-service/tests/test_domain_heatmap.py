from datetime import date
from decimal import Decimal

from allocation_service.domain.heatmap import build_heat_map, heat_score, heat_windows, percentile_ranks
from allocation_service.domain.history import City, Fulfilment, build_history
from allocation_service.domain.windows import Window

WINDOW = Window(date(2015, 7, 1), date(2016, 6, 30))


def test_heat_windows():
    w = heat_windows(WINDOW)
    assert (w.half_year_previous, w.half_year_current) == (
        Window(date(2015, 7, 1), date(2015, 12, 31)), Window(date(2016, 1, 1), date(2016, 6, 30)),
    )
    assert (w.yoy_previous, w.yoy_current) == (
        Window(date(2015, 4, 1), date(2015, 6, 30)), Window(date(2016, 4, 1), date(2016, 6, 30)),
    )
    assert w.active == Window(date(2016, 4, 2), date(2016, 6, 30))


def test_percentile_ranks_leave_missing_out():
    ranks = percentile_ranks({"a": Decimal(1), "b": Decimal(2), "c": Decimal(2), "d": None})
    assert ranks == {"a": Decimal(0), "b": Decimal(75), "c": Decimal(75)}
    assert percentile_ranks({"only": Decimal(3)}) == {"only": Decimal(50)}


def test_heat_score_renormalises_weights_over_present_metrics():
    weights = {"x": Decimal("0.3"), "y": Decimal("0.1"), "z": Decimal("0.6")}
    assert heat_score({"x": Decimal(100), "y": Decimal(50)}, weights) == Decimal("87.5")
    assert heat_score({}, weights) is None


def test_heat_map_per_city_with_fulfilment_only_where_erp_exists(daily):
    facts = (
        daily("A", "330100", date(2015, 7, 1), WINDOW.end, 10)
        + daily("B", "440100", date(2016, 1, 1), WINDOW.end, 30)
    )
    history = build_history(
        facts,
        fulfilments=[Fulfilment("330100", date(2016, 3, 1), 200, 190)],
    )
    cities = {"330100": City("330100", "杭州市", "华东"), "440100": City("440100", "广州市", "华南")}
    rows = build_heat_map(history, cities, WINDOW)
    hz, gz = rows
    assert hz.metrics["avg_daily_orders"] == Decimal("10.00")
    assert gz.metrics["avg_daily_orders"] == (Decimal(30 * 182) / 366).quantize(Decimal("0.01"))  # 14.92
    assert (hz.metrics["fulfilment_rate"], gz.metrics["fulfilment_rate"]) == (Decimal("0.9500"), None)
    assert hz.metrics["half_year_growth"] == Decimal(10 * 182 - 10 * 184) / Decimal(10 * 184)
    assert (gz.metrics["half_year_growth"], gz.half_year.reason) == (None, "no_baseline")
    assert hz.metrics["yoy_growth"] is None and hz.year_on_year.reason == "no_history"
    assert (hz.metrics["active_outlets"], hz.metrics["new_outlets"]) == (1, 1)
    # 杭州 ranks 0 on orders, 100 on active (tie: 50), has the only growth and fulfilment (50 each)
    assert hz.percentiles == {"avg_daily_orders": 0, "half_year_growth": 50, "fulfilment_rate": 50, "active_outlets": 50}
    assert hz.score == ((0 * Decimal("0.30") + 50 * Decimal("0.25") + 50 * Decimal("0.10") + 50 * Decimal("0.10"))
                        / Decimal("0.75")).quantize(Decimal("0.1"))
    # 广州: missing growth and fulfilment are left out, not counted as 0
    assert gz.score == ((100 * Decimal("0.30") + 50 * Decimal("0.10")) / Decimal("0.40")).quantize(Decimal("0.1"))


def test_heat_map_per_city_and_channel(daily):
    facts = daily("A", "330100", WINDOW.start, WINDOW.end, 10) + daily("S", "330100", WINDOW.start, WINDOW.end, 5, "超市便利店")
    rows = build_heat_map(build_history(facts), {"330100": City("330100", "杭州市", "华东")}, WINDOW, by_channel=True)
    assert [(r.key, r.metrics["avg_daily_orders"]) for r in rows] == [
        ("330100|美食", Decimal("10.00")), ("330100|超市便利店", Decimal("5.00")),
    ]
