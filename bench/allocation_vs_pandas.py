"""The Q3-2016 package for all real cities with the allocation service's own code, against pandas.

Service side: what the service runs for a scenario and a heat map (application/scenarios.py
`build_plan`, application/heat.py `heat_rows`), called directly: the history built from the real
CSV files by the service's own adapter (`adapters/koubei_csv.load_history`: the wide file parsed with
numpy into the same `DailyPanel` (outlets × days integer matrix with prefix sums) that the database
path builds in `history_from_rows`), then `domain.heatmap.build_heat_map` (12 months to 2016-06-30) and
`domain.planning.generate` (basis → tiers → tiered model → reconciliation to a head-office total
of 20,000,000 orders → phasing). Baseline: bench/baselines/pandas_allocation.py, the same three
steps (heat-map metrics, tiers, targets reconciled to the total) from the same CSV files. Both run
in this process, interleaved, REPS times; medians are reported. Their results are compared city by
city (tiers, targets, heat scores).

Scaling: the cities are replicated 10× and 100× with new codes (code + copy number), each copy with
copies of its outlets and their sales, so cities × channels grow 10× and 100× (the regions stay the
seven real ones). Timed: the compute steps on inputs already in memory (no CSV reading). The
service's 100× run is stopped after BENCH_ALLOC_CAP_SECONDS (default 90 s) and then reported as
"> cap" with a linear extrapolation; BENCH_ALLOC_FULL=1 lets it finish. The copies share their
originals' panel rows (as the copies of the series were shared before), so replication is not timed.

Goal (issue 4): the service's time ≤ 0.3 × the pandas time.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from queue import Empty

from _common import DATA_DIR, Row, log, median, print_table, require_data, yes_no

sys.path.insert(0, str(Path(__file__).resolve().parent / "baselines"))

import pandas_allocation as pa  # noqa: E402
from allocation_service.adapters import koubei_csv  # noqa: E402
from allocation_service.domain import planning  # noqa: E402
from allocation_service.domain.heatmap import build_heat_map  # noqa: E402
from allocation_service.domain.history import City, OutletHistory, SalesHistory  # noqa: E402
from allocation_service.domain.planning import PlanSpec, generate  # noqa: E402
from allocation_service.domain.windows import Window  # noqa: E402

HISTORY_END = date(2016, 6, 30)
PERIOD = Window(date(2016, 7, 1), date(2016, 9, 30))
HEAT_WINDOW = Window(date(2015, 7, 1), HISTORY_END)
HQ_TOTAL = 20_000_000
REPS = int(os.environ.get("BENCH_ALLOC_REPS", "3"))
SCALES = (1, 10, 100)
CAP_SECONDS = None if os.environ.get("BENCH_ALLOC_FULL") == "1" else float(os.environ.get("BENCH_ALLOC_CAP_SECONDS", "90"))
GOAL = 0.3


@dataclass
class Timing:
    load: float = 0.0
    heat: float = 0.0
    targets: float = 0.0
    phasing: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def compute(self) -> float:
        return self.heat + self.targets

    @property
    def total(self) -> float:
        return self.load + self.compute


class PhasingTimer:
    """Adds up the time `generate` spends in phasing (day_shapes, phase_classes), which pandas skips."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._originals = {name: getattr(planning, name) for name in ("day_shapes", "phase_classes")}

    def __enter__(self) -> PhasingTimer:
        for name, original in self._originals.items():
            setattr(planning, name, self._timed(original))
        return self

    def __exit__(self, *_exc) -> None:
        for name, original in self._originals.items():
            setattr(planning, name, original)

    def _timed(self, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        return wrapper


def spec() -> PlanSpec:
    return PlanSpec(PERIOD, HISTORY_END, hq_total=Decimal(HQ_TOTAL))


def service_compute(history: SalesHistory, cities: dict[str, City], timing: Timing):
    started = time.perf_counter()
    heat = build_heat_map(history, cities, HEAT_WINDOW)
    timing.heat = time.perf_counter() - started
    with PhasingTimer() as phasing:
        started = time.perf_counter()
        plan = generate(history, cities, spec())
        timing.targets = time.perf_counter() - started
    timing.phasing = phasing.seconds
    return heat, plan


def service_from_csv() -> tuple[Timing, tuple]:
    timing = Timing()
    started = time.perf_counter()
    history, cities, _facts = koubei_csv.load_history(HISTORY_END)
    timing.load = time.perf_counter() - started
    heat, plan = service_compute(history, cities, timing)
    return timing, (history, cities, heat, plan)


def pandas_compute(inputs: pa.Inputs, timing: Timing):
    started = time.perf_counter()
    heat = pa.heat_map(inputs, HISTORY_END)
    tier = pa.tiers(heat)
    timing.heat = time.perf_counter() - started
    started = time.perf_counter()
    result = pa.targets(inputs, tier, pa.Window(PERIOD.start, PERIOD.end), HISTORY_END, HQ_TOTAL)
    timing.targets = time.perf_counter() - started
    return heat, result


def pandas_from_csv() -> tuple[Timing, tuple]:
    timing = Timing()
    started = time.perf_counter()
    inputs = pa.load(DATA_DIR, HISTORY_END)
    timing.load = time.perf_counter() - started
    heat, result = pandas_compute(inputs, timing)
    return timing, (inputs, heat, result)


# -- replication (cities × channels grow k×) -----------------------------------------------------

def replicate_history(history: SalesHistory, cities: dict[str, City], copies: int):
    """k copies of every city (code + 3-digit copy number) with copies of its outlets; the daily
    series (rows of the history's panels) are immutable and shared, so memory grows with the outlets,
    not with the facts."""
    outlets = dict(history.outlets)
    all_cities = dict(cities)
    for k in range(1, copies):
        suffix = f"{k:03d}"
        for outlet in history.outlets.values():
            copy = OutletHistory(f"{outlet.outlet_id}#{suffix}", outlet.city_code + suffix, outlet.channel,
                                 outlet.orders, outlet.revenue, outlet.revenue_orders, outlet.units, outlet.opened_on)
            outlets[copy.outlet_id] = copy
        for code, city in cities.items():
            all_cities[code + suffix] = City(code + suffix, f"{city.name}#{suffix}", city.region, city.province,
                                             city.lng, city.lat, city.gdp_growth)
    return SalesHistory(history.data_start, history.data_end, outlets, history.fulfilments), all_cities


def _service_scaled(history, cities, copies, queue) -> None:
    history, cities = replicate_history(history, cities, copies)
    gc.collect()
    queue.put("started")
    timing = Timing()
    service_compute(history, cities, timing)
    queue.put((timing.heat, timing.targets, timing.phasing))


def service_scaled(history, cities, copies: int, cap: float | None) -> Timing | None:
    """In a forked child (so that it can be stopped at the cap, None: no cap); None when it was stopped."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_service_scaled, args=(history, cities, copies, queue), daemon=True)
    child.start()
    try:
        if _get(queue, child, 600) != "started":  # the replication before it is not timed
            raise RuntimeError("the scaled run did not start")
        heat, targets, phasing = _get(queue, child, cap)
    except TimeoutError:
        return None
    finally:
        if child.is_alive():
            child.terminate()
        child.join(10)
    return Timing(heat=heat, targets=targets, phasing=phasing)


def _get(queue, child, timeout: float | None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        try:
            return queue.get(timeout=1.0)
        except Empty:
            if not child.is_alive():
                raise RuntimeError(f"the scaled run died (exit code {child.exitcode})") from None
    raise TimeoutError


# -- agreement ---------------------------------------------------------------------------------

def agreement(heat, plan, pandas_heat, pandas_result) -> list[Row]:
    lines = {line.city.code: line for line in plan.lines}
    tiers = sum(1 for code, line in lines.items() if pandas_result.at[code, "tier"] == line.tier)
    targets = [abs(int(line.target) - int(pandas_result.at[code, "target"])) for code, line in lines.items()]
    scores = {row.city.code: row.score for row in heat}
    same_scores = sum(1 for code, score in scores.items()
                      if score is not None and abs(float(score) - float(pandas_heat.at[code, "heat_score"])) < 1e-9)
    n = len(lines)
    return [
        Row("same result: tiers equal", f"{tiers}/{n} cities", "", "", "all", yes_no(tiers == n)),
        Row("same result: targets equal", f"{sum(1 for d in targets if d == 0)}/{n} cities",
            f"max |diff| {max(targets)}", "", "all", yes_no(max(targets) == 0)),
        Row("same result: heat scores equal", f"{same_scores}/{len(scores)} cities", "", "", "all",
            yes_no(same_scores == len(scores))),
        Row("Σ targets (service | pandas)", f"{int(plan.total):,}", f"{int(pandas_result['target'].sum()):,}", "",
            f"= {HQ_TOTAL:,}", yes_no(int(plan.total) == HQ_TOTAL == int(pandas_result["target"].sum()))),
    ]


def seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 1 else f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def _load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> int:
    require_data()
    start_load = _load_average()
    service_runs: list[Timing] = []
    pandas_runs: list[Timing] = []
    for rep in range(REPS):
        log(f"1× from CSV, run {rep + 1}/{REPS}: service, then pandas")
        gc.collect()
        timing, service_result = service_from_csv()
        service_runs.append(timing)
        gc.collect()
        timing, pandas_result = pandas_from_csv()
        pandas_runs.append(timing)
    history, cities, heat, plan = service_result
    inputs, pandas_heat, pandas_targets = pandas_result

    def med(runs: list[Timing], attr: str) -> float:
        return median([getattr(run, attr) for run in runs])

    def best(runs: list[Timing], attr: str) -> float:
        return min(getattr(run, attr) for run in runs)

    s_total, p_total = med(service_runs, "total"), med(pandas_runs, "total")
    s_compute, p_compute = med(service_runs, "compute"), med(pandas_runs, "compute")
    ratios = sorted(s.total / p.total for s, p in zip(service_runs, pandas_runs, strict=True))
    rows = [
        Row("1× end to end from the CSV files", seconds(s_total), f"pandas {seconds(p_total)}",
            f"{s_total / p_total:.2f}×", f"≤ {GOAL}× pandas", yes_no(s_total <= GOAL * p_total)),
        Row("  best of the runs | ratio of each run (service / pandas)",
            f"{seconds(best(service_runs, 'total'))}", f"pandas {seconds(best(pandas_runs, 'total'))}",
            " ".join(f"{ratio:.2f}" for ratio in ratios), "", ""),
        Row("  read CSV → history", seconds(med(service_runs, "load")), f"pandas {seconds(med(pandas_runs, 'load'))}",
            f"{med(service_runs, 'load') / med(pandas_runs, 'load'):.2f}×", "", ""),
        Row("  heat map (+ tiers in pandas)", seconds(med(service_runs, "heat")),
            f"pandas {seconds(med(pandas_runs, 'heat'))}",
            f"{med(service_runs, 'heat') / med(pandas_runs, 'heat'):.2f}×", "", ""),
        Row("  tiers, targets, reconciliation (+ phasing)", seconds(med(service_runs, "targets")),
            f"pandas {seconds(med(pandas_runs, 'targets'))}",
            f"{med(service_runs, 'targets') / med(pandas_runs, 'targets'):.2f}×", "", ""),
        Row("    of which phasing (service only)", seconds(med(service_runs, "phasing")), "not done", "", "", ""),
        *agreement(heat, plan, pandas_heat, pandas_targets),
    ]

    pairs = len({(o.city_code, o.channel) for o in history.outlets.values()})
    scale_rows = []
    base_service, base_pandas = s_compute, p_compute
    for copies in SCALES[1:]:
        log(f"{copies}× cities × channels: pandas")
        gc.collect()
        scaled = pa.replicate(inputs, copies)
        timing = Timing()
        pandas_compute(scaled, timing)
        del scaled
        gc.collect()
        cap = CAP_SECONDS if copies == SCALES[-1] else None
        log(f"{copies}× cities × channels: service" + (f" (stopped if not done after {cap:.0f} s)" if cap else ""))
        service = service_scaled(history, cities, copies, cap)
        label = (f"compute only, {copies}×: {len(cities) * copies:,} cities, {pairs * copies:,} city×channel, "
                 f"{len(history.outlets) * copies:,} outlets")
        if service is None:
            estimate = base_service * copies
            scale_rows.append(Row(label, f"> {cap:.0f} s (stopped; ≈ {estimate:.0f} s linear)",
                                  f"pandas {seconds(timing.compute)}", f"> {cap / timing.compute:.0f}×",
                                  f"≤ {GOAL}× pandas", "NO"))
        else:
            scale_rows.append(Row(label, f"{seconds(service.compute)} ({service.compute / base_service:.0f}× of 1×)",
                                  f"pandas {seconds(timing.compute)} ({timing.compute / base_pandas:.1f}× of 1×)",
                                  f"{service.compute / timing.compute:.2f}×", f"≤ {GOAL}× pandas",
                                  yes_no(service.compute <= GOAL * timing.compute)))
            if service.phasing:
                scale_rows.append(Row("    of which phasing (service only)", seconds(service.phasing), "", "", "", ""))
    rows.append(Row(f"compute only, 1×: {len(cities)} cities, {pairs} city×channel, {len(history.outlets):,} outlets",
                    seconds(s_compute), f"pandas {seconds(p_compute)}", f"{s_compute / p_compute:.2f}×",
                    f"≤ {GOAL}× pandas", yes_no(s_compute <= GOAL * p_compute)))
    rows.extend(scale_rows)
    print_table(
        "allocation_vs_pandas: Q3-2016 package for all real cities (history to 2016-06-30), service domain vs pandas",
        rows,
        notes=[
            f"medians of {REPS} interleaved runs for 1×; one run per scale; head-office total {HQ_TOTAL:,} orders; "
            f"load average at the start / end: {start_load} / {_load_average()}",
            "the service's `generate` also phases every target into days and months (pandas does not): shown apart",
            "10× and 100× are SYNTHESISED: every real city replicated with a new code (code + copy number) "
            "together with copies of its outlets and their real daily sales; timed on inputs in memory",
            f"facts to 2016-06-30: {inputs.sales.shape[0]:,} (× the copies at each scale)",
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
