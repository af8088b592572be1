"""`python -m services.demo` (`make demo`): a whole target cycle on the real data, end to end, in
embedded mode, driven through REST. See docs/demo.md."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from rich.console import Console

from services.catalog import ALL_SERVICES
from services.demo.client import DemoError
from services.demo.data import REPO_ROOT, default_data_dir, missing_files
from services.demo.driver import run_scenario
from services.demo.render import RichReporter, render
from services.demo.scenario import DEFAULT_SCENARIO, load_scenario
from services.demo.wecom import LocalWeComRobots

GENERATED = ("system", "work", "pdf", "summary.json", "demo.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.demo", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None, help="the real data (default: $DATA_DIR or ../shared/data)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "demo", help="output directory")
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument("--until", type=date.fromisoformat, default=None, help="replay only up to this day")
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:  # a log file or a pipe: wide enough for the tables
        console = Console(width=130)

    data_dir = (args.data_dir or default_data_dir()).resolve()
    missing = missing_files(data_dir)
    if missing:
        console.print(f"[red]The real data is not there.[/red] The demo reads it from {data_dir} "
                      f"(set DATA_DIR to move it). Missing:")
        for path in missing:
            console.print(f"  {path}")
        console.print("See ../shared/data/README.md: Koubei (IJCAI-17), its weather file and the cpca city table.")
        return 2

    scenario = load_scenario(args.scenario)
    out_dir = args.out.resolve()
    fresh(out_dir)
    logging.basicConfig(filename=out_dir / "demo.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    started, cpu = time.monotonic(), os.times()
    with LocalWeComRobots() as robots:
        os.environ.update(robots.alerts_env())
        for name in ALL_SERVICES:  # embedded: every service on its own SQLite file under out/demo/system
            os.environ.pop(f"{name.upper()}_DATABASE_URL", None)
        from services.system import EmbeddedSystem
        from shared.settings import PlatformSettings

        console.log(f"starting the four services in this process (embedded); data from {data_dir}; "
                    f"WeCom robots at {robots.base_url}")
        platform = PlatformSettings(mode="embedded", data_dir=out_dir / "system",
                                    replay_clock_start=scenario.clock.start.isoformat())
        system = EmbeddedSystem(platform)
        try:
            summary = run_scenario(system, data_dir, out_dir, scenario=scenario, until=args.until,
                                   reporter=RichReporter(console), robot_messages=robots.received)
        except DemoError as error:
            console.print(f"[red]The demo stopped:[/red] {error}")
            console.print(f"Log: {out_dir / 'demo.log'}")
            return 1
        finally:
            system.close()
    summary["run"]["summary_json"] = str(out_dir / "summary.json")
    summary["run"]["timings_s"]["wall"] = round(time.monotonic() - started, 1)
    now = os.times()
    summary["run"]["timings_s"]["cpu"] = round(now.user + now.system - cpu.user - cpu.system, 1)
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    render(summary, console)
    return 0


def fresh(out_dir: Path) -> None:
    """Remove what an earlier run generated (and nothing else)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in GENERATED:
        target = out_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for picture in out_dir.glob("heatmap_*.png"):
        picture.unlink()


if __name__ == "__main__":
    sys.exit(main())
