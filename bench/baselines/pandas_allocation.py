"""The pandas baseline for bench/allocation_vs_pandas.py: the same three steps as the allocation
service — heat-map metrics, tiers, targets reconciled to a head-office total — from the same CSV
files, written the way a data analyst would write it in pandas (vectorised group-bys, floats).

The rules follow the allocation domain (allocation_service/domain/: heatmap, growth, tiers, basis,
target_models, reconciliation) so that the results can be compared city by city:
- heat map per city over the 12 months of history: average daily orders, like-for-like half-year
  and year-on-year growth (outlets open since the start of the earlier period and trading in both;
  `None` when the earlier period reaches before the data or its total is 0), active outlets (traded
  in the last 90 days), new outlets; score = weighted mean of mid-rank percentiles over the metrics
  present (missing metrics leave the weights renormalised);
- tiers from the half-year growth: ≥ +10 % high_potential, ≤ −5 % declining, else stable, none → new;
- targets (`tiered` model): last-year-same-period of like-for-like outlets × {1.3, 1.1, 1.0, 1.0}
  + run rate of newer outlets (average daily of the last 90 days since opening × days of the period)
  + a peer basis for outlets not trading yet (regional, else national, average daily per trading
  outlet of their channel × days of the period); reconciled to the total by spreading the gap in
  proportion to bottom-up × tier weight {1.5, 1.0, 0.5, 1.0}, never below 0, rounded by largest
  remainder (ties by city code).
Not done here (the service does it inside `generate`): phasing into days and months, budgets.

    python bench/baselines/pandas_allocation.py      prints the plan's summary
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(os.environ.get("DATA_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data")
EPOCH = date(1970, 1, 1)
WEIGHTS = {"avg_daily_orders": 0.30, "half_year_growth": 0.25, "yoy_growth": 0.15, "avg_order_value": 0.10,
           "fulfilment_rate": 0.10, "active_outlets": 0.10}
MULTIPLIER = {"high_potential": 1.3, "stable": 1.1, "declining": 1.0, "new": 1.0}
TIER_WEIGHT = {"high_potential": 1.5, "stable": 1.0, "declining": 0.5, "new": 1.0}


def day_number(day: date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def mask(self, days: pd.Series) -> pd.Series:
        return (days >= day_number(self.start)) & (days <= day_number(self.end))


@dataclass
class Inputs:
    sales: pd.DataFrame  # outlet (int), day (int, days since 1970), orders
    outlets: pd.DataFrame  # index outlet (int): city, channel
    cities: pd.DataFrame  # index city code (str): name, region, lng, lat
    data_start: date


# -- reading the CSV files ---------------------------------------------------------------------

def load(data_dir: Path = DATA_DIR, history_end: date = date(2016, 6, 30)) -> Inputs:
    regions = pd.read_csv(data_dir / "geo" / "province_region_map.csv")
    dim = pd.read_csv(data_dir / "geo" / "koubei_city_dim.csv", dtype={"city_adcode": str})
    dim = dim.merge(regions, on="province", how="left")
    cities = dim.set_index("city_adcode")[["city", "region_7", "lng", "lat"]].rename(
        columns={"city": "name", "region_7": "region"})
    shops = pd.read_csv(data_dir / "koubei" / "shop_info.csv", usecols=["shop_id", "city_name", "cate_1_name"])
    shops["city"] = shops["city_name"].map(dim.set_index("koubei_city_name")["city_adcode"])
    outlets = shops.set_index("shop_id")[["city", "cate_1_name"]].rename(columns={"cate_1_name": "channel"})

    wide = pd.read_csv(data_dir / "koubei" / "shop_daily_pay_wide.csv", index_col="shop_id")
    wide.columns = (pd.to_datetime(wide.columns) - pd.Timestamp(EPOCH)).days
    wide = wide.loc[:, wide.columns <= day_number(history_end)]
    sales = wide.stack().dropna().rename("orders").reset_index()
    sales.columns = ["outlet", "day", "orders"]
    sales["orders"] = sales["orders"].astype("int64")
    data_start = EPOCH + timedelta(days=int(wide.columns.min()))
    return Inputs(sales, outlets, cities, data_start)


def replicate(inputs: Inputs, copies: int) -> Inputs:
    """`copies` × the cities (new codes: code + 3-digit copy number), each with a copy of its
    outlets and their sales; copy 0 keeps the real codes."""
    if copies == 1:
        return inputs
    n = int(inputs.outlets.index.max()) + 1
    sales = pd.concat([inputs.sales.assign(outlet=inputs.sales["outlet"] + k * n) for k in range(copies)],
                      ignore_index=True)
    outlets = pd.concat([
        inputs.outlets.assign(city=inputs.outlets["city"] + (f"{k:03d}" if k else "")).set_axis(
            inputs.outlets.index + k * n)
        for k in range(copies)
    ])
    cities = pd.concat([
        inputs.cities.set_axis(inputs.cities.index + (f"{k:03d}" if k else "")) for k in range(copies)
    ])
    return Inputs(sales, outlets, cities, inputs.data_start)


# -- step 1: heat-map metrics --------------------------------------------------------------------

def months_ending(last: date, months: int) -> Window:
    index = last.year * 12 + last.month - months  # month after `last`, minus `months`
    return Window(date(index // 12, index % 12 + 1, 1), last)


def per_outlet(inputs: Inputs, windows: dict[str, Window]) -> pd.DataFrame:
    """Per outlet: first trading day, and for each window the total and the trading days."""
    sales = inputs.sales
    traded = sales[sales["orders"] > 0]
    table = pd.DataFrame(index=inputs.outlets.index)
    table["first_day"] = traded.groupby("outlet")["day"].min()
    for name, window in windows.items():
        inside = sales[window.mask(sales["day"])]
        table[f"{name}_total"] = inside.groupby("outlet")["orders"].sum()
        table[f"{name}_trading"] = (inside["orders"] > 0).groupby(inside["outlet"]).sum()
    return table.fillna({c: 0 for c in table.columns if c != "first_day"}).join(inputs.outlets)


def lfl_growth(table: pd.DataFrame, previous: Window, current: Window, prev: str, cur: str,
               data_start: date) -> pd.Series:
    """City → like-for-like growth rate (NaN when it cannot be computed)."""
    cities = table["city"].unique()
    if previous.start < data_start:
        return pd.Series(np.nan, index=cities)
    comparable = table[(table["first_day"] <= day_number(previous.start))
                       & (table[f"{prev}_trading"] > 0) & (table[f"{cur}_trading"] > 0)]
    totals = comparable.groupby("city")[[f"{prev}_total", f"{cur}_total"]].sum().reindex(cities, fill_value=0)
    before, now = totals[f"{prev}_total"].astype(float), totals[f"{cur}_total"].astype(float)
    return ((now - before) / before).where(before > 0)


def heat_map(inputs: Inputs, history_end: date, table: pd.DataFrame | None = None) -> pd.DataFrame:
    window = Window(months_ending(history_end, 12).start, history_end)
    half_current = months_ending(history_end, 6)
    half_previous = months_ending(half_current.start - timedelta(days=1), 6)
    quarter = months_ending(history_end, 3)
    quarter_before = Window(quarter.start.replace(year=quarter.start.year - 1),
                            quarter.end.replace(year=quarter.end.year - 1))
    active = Window(history_end - timedelta(days=89), history_end)
    if table is None:
        table = per_outlet(inputs, {"window": window, "half_prev": half_previous, "half_cur": half_current,
                                    "q_prev": quarter_before, "q_cur": quarter, "active": active})
    covered = Window(max(window.start, inputs.data_start), window.end)
    by_city = table.groupby("city")
    heat = pd.DataFrame(index=sorted(table["city"].unique()))
    raw = by_city["window_total"].sum() / covered.days
    heat["avg_daily_orders"] = np.floor(raw * 100 + 0.5) / 100
    heat["avg_order_value"] = np.nan  # no revenue in the data
    heat["fulfilment_rate"] = np.nan  # no ERP data
    heat["half_year_growth"] = lfl_growth(table, half_previous, half_current, "half_prev", "half_cur", inputs.data_start)
    heat["yoy_growth"] = lfl_growth(table, quarter_before, quarter, "q_prev", "q_cur", inputs.data_start)
    heat["active_outlets"] = (table["active_trading"] > 0).groupby(table["city"]).sum().astype(float)
    first = table["first_day"]
    heat["new_outlets"] = ((first >= day_number(window.start)) & (first <= day_number(window.end))) \
        .groupby(table["city"]).sum()
    heat = heat[heat.index.isin(inputs.cities.index)]
    # mid-rank percentiles over the rows that have the metric: (average rank − 1) × 100 / (n − 1)
    score_sum = pd.Series(0.0, index=heat.index)
    weight_sum = pd.Series(0.0, index=heat.index)
    for metric, weight in WEIGHTS.items():
        values = heat[metric]
        n = values.notna().sum()
        if n == 0:
            continue
        pct = (values.rank(method="average") - 1) * 100 / (n - 1) if n > 1 else values.notna() * 50.0
        heat[f"pct_{metric}"] = pct
        score_sum += pct.fillna(0) * weight
        weight_sum += pct.notna() * weight
    heat["heat_score"] = (np.floor(score_sum / weight_sum * 10 + 0.5) / 10).where(weight_sum > 0)
    return heat


# -- step 2: tiers -----------------------------------------------------------------------------

def tiers(heat: pd.DataFrame, high: float = 0.10, declining: float = -0.05) -> pd.Series:
    growth = heat["half_year_growth"]
    tier = np.select([growth.isna(), growth >= high, growth <= declining],
                     ["new", "high_potential", "declining"], "stable")
    return pd.Series(tier, index=heat.index, name="tier")


# -- step 3: targets reconciled to the total ------------------------------------------------------

def targets(inputs: Inputs, tier: pd.Series, period: Window, history_end: date, hq_total: int,
            run_rate_days: int = 90) -> pd.DataFrame:
    last_year = Window(period.start.replace(year=period.start.year - 1), period.end.replace(year=period.end.year - 1))
    recent = Window(history_end - timedelta(days=run_rate_days - 1), history_end)
    table = per_outlet(inputs, {"last_year": last_year, "recent": recent})
    table = table.join(inputs.cities["region"], on="city")
    covered = last_year.start >= inputs.data_start and last_year.end <= history_end
    first = table["first_day"]
    never = first.isna()
    closed = ~never & (table["recent_trading"] == 0)
    comparable = ~never & ~closed & covered & (first <= day_number(last_year.start)) & (table["last_year_trading"] > 0)
    fresh = ~never & ~closed & ~comparable
    open_days = day_number(recent.end) - np.maximum(first, day_number(recent.start)) + 1
    daily_rate = table["recent_total"] / open_days  # average daily since opening, inside the run-rate window
    # peer rates: region × channel average daily per trading outlet, else the national channel figure
    trading = table[~never & ~closed].assign(rate=daily_rate)
    regional = trading.groupby(["region", "channel"])["rate"].mean()
    national = trading.groupby("channel")["rate"].mean()
    pending = table[never].join(regional.rename("regional"), on=["region", "channel"]) \
        .join(national.rename("national"), on="channel")
    pending_rate = pending["regional"].fillna(pending["national"])
    basis = pd.DataFrame(index=inputs.cities.index.sort_values())
    basis["lfl_base"] = table[comparable].groupby("city")["last_year_total"].sum()
    basis["run_rate"] = (daily_rate[fresh] * period.days).groupby(table.loc[fresh, "city"]).sum()
    basis["peer"] = (pending_rate * period.days).groupby(pending["city"]).sum()
    counts = pd.DataFrame({"comparable": comparable, "fresh": fresh & open_days.notna(),
                           "pending": never & pending_rate.reindex(table.index).notna(), "city": table["city"]})
    basis = basis.fillna(0.0).join(counts.groupby("city").sum())
    basis["tier"] = tier.reindex(basis.index).fillna("new")
    basis["flagged"] = (basis[["comparable", "fresh", "pending"]].fillna(0).sum(axis=1) == 0)
    basis["bottom_up"] = basis["lfl_base"] * basis["tier"].map(MULTIPLIER) + basis["run_rate"] + basis["peer"]
    planned = basis[~basis["flagged"]]
    basis["target"] = reconcile(planned["bottom_up"], planned["tier"], hq_total)
    return basis


def reconcile(amounts: pd.Series, tier: pd.Series, total: int) -> pd.Series:
    """Spread the gap by bottom-up × tier weight, clamp at 0 and re-spread, then largest remainder."""
    weights = amounts * tier.map(TIER_WEIGHT)
    if weights.sum() == 0:
        weights = pd.Series(1.0, index=amounts.index)
    values = amounts.astype(float).copy()
    open_ = pd.Series(True, index=amounts.index)
    while True:
        fixed = values[~open_].sum()
        gap = total - fixed - amounts[open_].sum()
        w = weights[open_]
        if w.sum() == 0:
            weights[open_] = 1.0
            w = weights[open_]
        values[open_] = amounts[open_] + gap * w / w.sum()
        below = open_ & (values < 0)
        if not below.any():
            break
        values[below] = 0.0
        open_ &= ~below
    values = values.sort_index()
    exact = values * total / values.sum()
    floors = np.floor(exact)
    leftover = int(round(total - floors.sum()))
    remainder = (exact - floors).rename("remainder").to_frame()
    remainder["position"] = np.arange(len(remainder))
    winners = remainder.sort_values(["remainder", "position"], ascending=[False, True]).index[:leftover]
    floors[winners] += 1
    return floors.astype("int64")


# -- the whole run -------------------------------------------------------------------------------

def plan(inputs: Inputs, period: Window, history_end: date, hq_total: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    heat = heat_map(inputs, history_end)
    tier = tiers(heat)
    return heat, targets(inputs, tier, period, history_end, hq_total)


def run(data_dir: Path = DATA_DIR, period: Window = Window(date(2016, 7, 1), date(2016, 9, 30)),
        history_end: date = date(2016, 6, 30), hq_total: int = 20_000_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    return plan(load(data_dir, history_end), period, history_end, hq_total)


if __name__ == "__main__":
    heat, result = run()
    print(result[["tier", "lfl_base", "run_rate", "peer", "bottom_up", "target"]].to_string())
    print("total", int(result["target"].sum()), "tiers", result["tier"].value_counts().to_dict())
    print(heat[["avg_daily_orders", "half_year_growth", "active_outlets", "heat_score"]].head(10).to_string())
