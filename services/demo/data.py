"""The real data the demo feeds in, and the files it derives from it (a reshaping, never new data).

Everything is read from `DATA_DIR` (default `../shared/data`, see its README) and the derived files
are written into the run's work directory, never into the repository:
- the sales history in the wide layout, restricted to the days up to the end of history;
- one long-layout sales file per replayed day (date, shop_id, pay_count; blank cells are no sales);
- the weather observations up to the end of history, and per replayed day the observation of that
  day and the "7-day-ahead forecast" issued that day, which is the observed weather of day + 7
  (the data has no forecasts; the demo forecasts perfectly, and says so).
"""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

CITIES = Path("geo/koubei_city_dim.csv")
OUTLETS = Path("koubei/shop_info.csv")
SALES_WIDE = Path("koubei/shop_daily_pay_wide.csv")
WEATHER = Path("weather/china_city_weather_daily.csv")
REQUIRED = (CITIES, OUTLETS, SALES_WIDE, WEATHER)
WEATHER_COLUMNS = ("city_name", "date", "tmax_c", "tmin_c", "weather", "wind_dir", "wind_level")


def default_data_dir() -> Path:
    configured = os.environ.get("DATA_DIR")
    return Path(configured) if configured else (REPO_ROOT.parent / "shared" / "data")


def missing_files(data_dir: Path) -> list[Path]:
    return [data_dir / relative for relative in REQUIRED if not (data_dir / relative).is_file()]


def _csv_bytes(header: list[str] | tuple[str, ...], rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@dataclass
class RealData:
    """The wide sales file and the weather file, read once; derived files written on demand."""

    data_dir: Path
    work_dir: Path

    def __post_init__(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / SALES_WIDE).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            self.sales_header = header
            self.sales_rows = [row for row in reader]
        self.sales_days = [date.fromisoformat(column) for column in header[1:]]
        self.weather: dict[date, list[list[str]]] = defaultdict(list)
        with (self.data_dir / WEATHER).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                self.weather[date.fromisoformat(row["date"])].append([row[c] for c in WEATHER_COLUMNS])

    def path(self, *parts: str) -> Path:
        target = self.work_dir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def source(self, relative: Path) -> Path:
        return self.data_dir / relative

    # -- sales ---------------------------------------------------------------------------------
    def history_wide(self, last_day: date) -> Path:
        """shop_id and the date columns up to `last_day` (every shop; a blank cell is no sale)."""
        keep = [0] + [i + 1 for i, day in enumerate(self.sales_days) if day <= last_day]
        rows = [[row[i] for i in keep] for row in self.sales_rows]
        target = self.path(f"sales_wide_until_{last_day.isoformat()}.csv")
        target.write_bytes(_csv_bytes([self.sales_header[i] for i in keep], rows))
        return target

    def sales_day(self, day: date) -> Path:
        """The long layout for one day: date, shop_id, pay_count (blank cells: no sales, no row)."""
        column = self.sales_days.index(day) + 1
        rows = [[day.isoformat(), row[0], row[column]] for row in self.sales_rows if row[column]]
        target = self.path("daily", f"sales_{day.isoformat()}.csv")
        target.write_bytes(_csv_bytes(("date", "shop_id", "pay_count"), rows))
        return target

    def sales_total(self, first: date, last: date) -> int:
        """Σ of the wide file's cells over the days (what the demo ingested; for cross-checks)."""
        columns = [i + 1 for i, day in enumerate(self.sales_days) if first <= day <= last]
        return sum(int(row[i]) for row in self.sales_rows for i in columns if row[i])

    # -- weather -------------------------------------------------------------------------------
    def weather_observations(self, first: date, last: date) -> Path:
        rows = [row for day in sorted(self.weather) if first <= day <= last for row in self.weather[day]]
        target = self.path(f"weather_{first.isoformat()}_{last.isoformat()}.csv")
        target.write_bytes(_csv_bytes(WEATHER_COLUMNS, rows))
        return target

    def weather_forecast(self, issued_on: date, day: date) -> Path | None:
        """The forecast issued on `issued_on` for `day`: the real weather of `day`, with its issue date."""
        rows = [[*row, issued_on.isoformat()] for row in self.weather.get(day, [])]
        if not rows:
            return None
        target = self.path("daily", f"forecast_{issued_on.isoformat()}_for_{day.isoformat()}.csv")
        target.write_bytes(_csv_bytes((*WEATHER_COLUMNS, "issued_on"), rows))
        return target

    def weather_day(self, day: date) -> Path | None:
        rows = self.weather.get(day, [])
        if not rows:
            return None
        target = self.path("daily", f"weather_{day.isoformat()}.csv")
        target.write_bytes(_csv_bytes(WEATHER_COLUMNS, rows))
        return target
