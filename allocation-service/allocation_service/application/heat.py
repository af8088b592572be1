"""The heat map from stored facts: map-ready JSON and a picture of China coloured by heat score."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from allocation_service.adapters import fact_store
from allocation_service.adapters.tables import daily_sales
from allocation_service.application.codec import dec
from allocation_service.domain.heatmap import DEFAULT_WEIGHTS, HeatRow, build_heat_map
from allocation_service.domain.metrics import metric_named
from allocation_service.domain.tiers import TierRule
from allocation_service.domain.windows import Window, add_months
from shared.problems import ProblemError


def heat_rows(session, history_end: date | None, months: int, metric: str, by_channel: bool,
              weights: dict | None = None) -> tuple[Window, list[HeatRow]]:
    if history_end is None:
        history_end = session.execute(select(func.max(daily_sales.c.day))).scalar()
        if history_end is None:
            raise ProblemError(409, "no_history", "No sales history yet")
    window = Window(add_months(history_end + timedelta(days=1), -months), history_end)
    history = fact_store.load_history(session, window.start - timedelta(days=400), history_end)
    cities = fact_store.load_cities(session)
    try:
        rows = build_heat_map(history, cities, window, metric_named(metric), weights or DEFAULT_WEIGHTS, by_channel)
    except ValueError as error:
        raise ProblemError(422, "invalid_heat_map", str(error)) from error
    return window, rows


def heat_json(window: Window, rows: list[HeatRow], weights: dict | None = None) -> dict:
    rule = TierRule()
    return {
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "weights": {k: dec(v) for k, v in (weights or DEFAULT_WEIGHTS).items()},
        "features": [
            {
                "city_code": row.city.code,
                "city_name": row.city.name,
                "region": row.city.region,
                "channel": row.channel,
                "lng": dec(row.city.lng),
                "lat": dec(row.city.lat),
                "heat_score": dec(row.score),
                "tier": rule.tier_for(row.half_year.rate),
                "metrics": {name: dec(value) for name, value in row.metrics.items()},
                "half_year_growth": row.half_year.as_dict(),
                "yoy_growth": row.year_on_year.as_dict(),
                "percentiles": {name: dec(value.quantize(Decimal("0.1"))) for name, value in row.percentiles.items()},
            }
            for row in rows
        ],
    }


def render_png(window: Window, rows: list[HeatRow], font_path: Path, out: Path | None = None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = None
    if font_path.exists():
        font_manager.fontManager.addfont(str(font_path))
        font = font_manager.FontProperties(fname=str(font_path))
    placed = [row for row in rows if row.city.lng is not None and row.city.lat is not None]
    figure, axes = plt.subplots(figsize=(10, 8), dpi=100)
    scored = [row for row in placed if row.score is not None]
    unscored = [row for row in placed if row.score is None]
    if unscored:
        axes.scatter([float(r.city.lng) for r in unscored], [float(r.city.lat) for r in unscored],
                     c="lightgrey", s=25, edgecolors="grey", linewidths=0.5, label="no data")
    if scored:
        points = axes.scatter(
            [float(r.city.lng) for r in scored], [float(r.city.lat) for r in scored],
            c=[float(r.score) for r in scored], cmap="YlOrRd", vmin=0, vmax=100, s=60,
            edgecolors="black", linewidths=0.4,
        )
        figure.colorbar(points, ax=axes, label="heat score (0-100)", shrink=0.7)
        for row in sorted(scored, key=lambda r: r.score, reverse=True)[:15]:
            axes.annotate(row.city.name, (float(row.city.lng), float(row.city.lat)), fontsize=8,
                          xytext=(3, 3), textcoords="offset points", fontproperties=font)
    axes.set_xlim(73, 136)
    axes.set_ylim(17, 54)
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.set_title(f"城市热度 heat map {window.start}…{window.end}", fontproperties=font)
    axes.grid(True, linewidth=0.3, alpha=0.5)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    data = buffer.getvalue()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return data
