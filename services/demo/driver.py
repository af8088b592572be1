"""The scenario driver shared by `make demo` (embedded) and the e2e test (distributed): it drives a
running system only through REST, as its users would, and returns the summary as a dict.

Every step waits until the system is quiet (outboxes relayed, consumers caught up) before the next
one, so both modes see the same events in the same order where it matters and end with the same
figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from services.demo.client import Client, DemoError
from services.demo.data import CITIES, OUTLETS, REPO_ROOT, RealData
from services.demo.scenario import Scenario, Step, load_scenario
from services.demo.summary import collect_summary
from services.system import RunningSystem
from shared.money import round_half_up
from shared.timeutil import SHANGHAI


class Reporter:
    """What the driver tells whoever watches; the demo shows it with rich, the tests stay quiet."""

    def phase(self, text: str) -> None:
        pass

    def replay_started(self, days: int) -> None:
        pass

    def day_done(self, day: date, note: str) -> None:
        pass

    def replay_finished(self) -> None:
        pass


@dataclass
class Packages:
    ids: dict[str, str] = field(default_factory=dict)  # scenario key → package id
    windows: dict[str, str] = field(default_factory=dict)  # scenario key → window id
    scenarios: dict[str, dict] = field(default_factory=dict)  # scenario key → generated scenario summary
    closed_how: dict[str, str] = field(default_factory=dict)  # scenario key → automatic | closed_by_finance


class ScenarioRun:
    def __init__(self, system: RunningSystem, data: RealData, out_dir: Path, scenario: Scenario,
                 reporter: Reporter) -> None:
        self.system = system
        self.client = Client(system)
        self.data = data
        self.out_dir = out_dir
        self.scenario = scenario
        self.reporter = reporter
        self.packages = Packages()
        self.requests: dict[str, str] = {}  # scenario request name → request id
        self.cities: dict[str, dict] = {}  # any known name → city
        self.imports: dict[str, dict] = {}
        self.pdfs: dict[str, Path] = {}
        self.heatmap_png: Path | None = None
        self.heatmap: dict = {}
        self.timings: dict[str, float] = {}
        self.pending_steps: list[Step] = sorted(scenario.negotiation, key=lambda step: step.at)
        self.planner = scenario.planner
        self.finance = scenario.finance

    # -- helpers -------------------------------------------------------------------------------
    def quiet(self) -> None:
        self.system.wait_quiet(timeout=900)

    def timed(self, name: str, step: Callable[[], None]) -> None:
        started = time.monotonic()
        step()
        self.timings[name] = round(time.monotonic() - started, 1)

    def city(self, name: str) -> dict:
        if name not in self.cities:
            raise DemoError(f"no city named {name!r} in the imported cities")
        return self.cities[name]

    # -- 1. master data, history, rules --------------------------------------------------------
    def load(self) -> None:
        scenario, planner = self.scenario, self.planner
        person = scenario.people[planner]
        self.client.login(planner, person.roles, person.regions, name=person.name)
        self.reporter.phase("importing the alert rules")
        rules = (REPO_ROOT / scenario.alert_rules).read_text(encoding="utf-8")
        self.client.call(planner, "POST", "alerts", "/rules/import", content=rules.encode("utf-8"),
                         headers={"Content-Type": "application/yaml"})
        self.reporter.phase("importing cities and outlets")
        self.imports["cities"] = self.client.upload(planner, self.data.source(CITIES), "cities")
        for city in self.client.get(planner, "ingestion", "/cities"):
            for name in (city["name"], *city["aliases"]):
                self.cities[name] = city
        for who, person in scenario.people.items():
            codes = [self.city(name)["code"] for name in person.cities]
            self.client.login(who, person.roles, person.regions, codes, name=person.name)
        self.imports["outlets"] = self.client.upload(planner, self.data.source(OUTLETS), "outlets")
        last = scenario.history.last_day
        self.reporter.phase(f"importing daily sales up to {last} (wide layout)")
        self.imports["sales_history"] = self.client.upload(planner, self.data.history_wide(last), "sales_wide")
        self.reporter.phase(f"importing weather observations up to {last}")
        first_weather = min(self.data.weather)
        self.imports["weather_history"] = self.client.upload(
            planner, self.data.weather_observations(first_weather, last), "weather")
        self.reporter.phase("waiting for allocation and alerts to take in the history")
        self.quiet()

    # -- 2. heat map and packages --------------------------------------------------------------
    def plan(self) -> None:
        scenario, planner = self.scenario, self.planner
        history = scenario.history
        months = (history.last_day.year - history.first_day.year) * 12 + history.last_day.month - history.first_day.month + 1
        self.reporter.phase(f"building the heat map on {history.first_day}…{history.last_day}")
        params = {"history_end": history.last_day.isoformat(), "months": months}
        self.heatmap = self.client.get(planner, "allocation", "/heatmap", params)
        if self.heatmap["window"]["start"] != history.first_day.isoformat():
            raise DemoError(f"the heat map covers {self.heatmap['window']}, not {history.first_day}…")
        picture = self.client.get(planner, "allocation", "/heatmap.png", params)
        self.heatmap_png = self.out_dir / f"heatmap_{history.first_day}_{history.last_day}.png"
        self.heatmap_png.write_bytes(picture.content)
        for package in scenario.packages:
            self.reporter.phase(f"generating and publishing {package.name} ({package.period_start}…{package.period_end})")
            body = {**scenario.allocation, "name": package.name, "period_start": package.period_start.isoformat(),
                    "period_end": package.period_end.isoformat(), "history_end": history.last_day.isoformat()}
            generated = self.client.post(planner, "allocation", "/scenarios", body)
            self.packages.scenarios[package.key] = generated["summary"]
            published = self.client.post(planner, "allocation", f"/scenarios/{generated['id']}/publish",
                                         {"name": package.name})
            self.packages.ids[package.key] = published["package_id"]
        self.quiet()
        for key, package_id in self.packages.ids.items():
            windows = self.client.get(planner, "negotiation", "/windows", {"package_id": package_id})
            if len(windows) != 1:
                raise DemoError(f"expected one negotiation window on {package_id}, found {len(windows)}")
            self.packages.windows[key] = windows[0]["window_id"]

    # -- 3. negotiation ------------------------------------------------------------------------
    def negotiate_until(self, instant: datetime) -> None:
        """Run the scripted steps due by `instant`, each at its own time on the replay clock."""
        ran = False
        while self.pending_steps and self.pending_steps[0].at <= instant:
            ran = True
            step = self.pending_steps.pop(0)
            self.system.set_clock(step.at)
            if step.file:
                self.file_request(step)
            else:
                decision = step.decide
                request_id = self.requests[decision.request]
                self.client.post(decision.by, "negotiation", f"/requests/{request_id}/{decision.verdict}",
                                 {"comment": decision.comment})
        if ran:
            self.quiet()

    def file_request(self, step: Step) -> None:
        filed = step.file
        window_id = self.packages.windows[filed.package]
        window = self.client.get(filed.by, "negotiation", f"/windows/{window_id}")
        code = self.city(filed.city)["code"]
        line = next((line for line in window["package"]["lines"] if line["city_code"] == code), None)
        if line is None:
            raise DemoError(f"{filed.city} has no line in package {filed.package}")
        claim = round_half_up(Decimal(line["target"]) * (100 + filed.change_pct) / 100)
        request = self.client.post(filed.by, "negotiation", f"/windows/{window_id}/requests", {
            "city_code": code, "claim": format(claim, "f"), "category": filed.category, "reason": filed.reason,
            "evidence": filed.evidence,
        })
        self.requests[filed.id] = request["request_id"]

    def close_due_windows(self, now: datetime, timeout: float = 300.0) -> None:
        """Windows past their deadline close on their own (negotiation's scheduler, on the replay
        clock); wait for that, then archive each final PDF."""
        due = [key for key, window_id in self.packages.windows.items() if key not in self.pdfs
               and datetime.fromisoformat(self.client.get(self.planner, "negotiation",
                                                          f"/windows/{window_id}")["closes_at"]) <= now]
        if not due:
            return
        deadline = time.monotonic() + timeout
        for key in due:
            window_id = self.packages.windows[key]
            while (window := self.client.get(self.planner, "negotiation", f"/windows/{window_id}"))["status"] != "closed":
                if time.monotonic() > deadline:
                    raise DemoError(f"window {window_id} did not close within {timeout:.0f}s after its deadline")
                time.sleep(0.1)
            document = self.client.get(self.finance, "negotiation", f"/documents/{window['document_id']}")
            target = self.out_dir / "pdf" / f"{key}_{window_id}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(document.content)
            self.pdfs[key] = target
        self.quiet()

    # -- 4. the replay -------------------------------------------------------------------------
    def replay(self, until: date | None) -> list[date]:
        scenario = self.scenario
        last = min(until or scenario.replay.last_day, scenario.replay.last_day)
        days = [scenario.replay.first_day + timedelta(days=k)
                for k in range((last - scenario.replay.first_day).days + 1)]
        self.reporter.replay_started(len(days))
        for day in days:
            instant = datetime.combine(day, scenario.clock.daily_at, tzinfo=SHANGHAI)
            self.negotiate_until(instant)
            self.system.set_clock(instant)
            self.close_due_windows(instant)
            self.feed_day(day)
            notes = []
            for package in scenario.packages:
                if package.period_end == day:
                    notes.append(f"{package.key} {self.close_period(package.key)}")
            self.reporter.day_done(day, ", ".join(notes))
        self.reporter.replay_finished()
        return days

    def feed_day(self, day: date) -> None:
        planner, lead = self.planner, self.scenario.replay.forecast_lead_days
        forecast = self.data.weather_forecast(day, day + timedelta(days=lead))
        if forecast is not None:
            self.client.upload(planner, forecast, "weather")
        observed = self.data.weather_day(day)
        if observed is not None:
            self.client.upload(planner, observed, "weather")
        self.quiet()
        self.client.upload(planner, self.data.sales_day(day), "sales_long")
        self.quiet()

    def close_period(self, key: str) -> str:
        """The period's actuals are final: allocation says so on its own once every city has facts
        on the last day (or a later day has facts); otherwise finance closes it."""
        package_id = self.packages.ids[key]
        if self.client.get(self.planner, "allocation", f"/packages/{package_id}")["finalized"]:
            how = "closed automatically"
        else:
            self.client.post(self.finance, "allocation", f"/packages/{package_id}/close")
            how = "closed by finance"
        self.packages.closed_how[key] = how
        self.quiet()
        return how

    def settle(self, deliveries_timeout: float = 120.0) -> None:
        """Let the calendar worker see the last day, and the WeCom deliveries drain."""
        self.system.let_workers_catch_up()
        self.quiet()
        deadline = time.monotonic() + deliveries_timeout
        while self.client.get(self.planner, "alerts", "/deliveries", {"status": "pending", "limit": 1}):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)


def run_scenario(system: RunningSystem, data_dir: Path, out_dir: Path, *, scenario: Scenario | None = None,
                 until: date | None = None, reporter: Reporter | None = None,
                 robot_messages: Callable[[], list] | None = None) -> dict:
    """Run the whole cycle against a started system and return the summary (also `summary.json`)."""
    scenario = scenario or load_scenario()
    reporter = reporter or Reporter()
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    data = RealData(data_dir, out_dir / "work")
    run = ScenarioRun(system, data, out_dir, scenario, reporter)
    run.system.set_clock(scenario.clock.start)
    run.timed("load", run.load)
    run.timed("plan", run.plan)
    days = []
    run.timed("replay", lambda: days.extend(run.replay(until)))
    run.timed("settle", run.settle)
    reporter.phase("collecting the summary")
    summary = collect_summary(run, days, robot_messages() if robot_messages else None)
    summary["run"]["timings_s"] = {**run.timings, "total": round(time.monotonic() - started, 1)}
    return summary
