"""The summary as rich tables, and the progress shown while the demo runs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.demo.driver import Reporter

TIERS = {"high_potential": "高潜 high-potential", "stable": "稳定 stable", "declining": "下滑 declining", "new": "新 new"}


class RichReporter(Reporter):
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task = None

    def phase(self, text: str) -> None:
        self.console.log(text)

    def replay_started(self, days: int) -> None:
        self.console.log(f"replaying {days} days through REST: forecast for day + 7, the day's weather, its sales")
        self.progress = Progress(TextColumn("[bold]replay"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[day]}"), TimeElapsedColumn(), console=self.console,
                                 refresh_per_second=2)  # a day takes seconds: no need to redraw 10 times a second
        self.progress.start()
        self.task = self.progress.add_task("replay", total=days, day="")

    def day_done(self, day: date, note: str) -> None:
        self.progress.update(self.task, advance=1, day=day.isoformat())
        if note:
            self.progress.console.log(f"{day}: {note}")

    def replay_finished(self) -> None:
        if self.progress:
            self.progress.stop()


def _n(value: str | None) -> str:
    if value is None:
        return "—"
    number = Decimal(value)
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,}"


def _p(value: str | None) -> str:
    return "—" if value is None else f"{value}%"


def render(summary: dict, console: Console) -> None:
    figures, run = summary["figures"], summary["run"]
    replayed = figures["replayed"]
    console.rule(f"Quotaflow demo — replayed {replayed['first_day']}…{replayed['last_day']} ({replayed['days']} days)")

    table = Table(title="Imports (real data)", title_justify="left")
    for column in ("file", "rows", "accepted", "rejected", "unchanged"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for name, job in figures["imports"].items():
        table.add_row(name, _n(str(job["rows_read"])), _n(str(job["accepted"])), _n(str(job["rejected"])),
                      _n(str(job["unchanged"])))
    console.print(table)

    table = Table(title="Packages (orders = paying customers)", title_justify="left")
    for column in ("package", "period", "target", "negotiated", "final", "actual", "attainment", "uplifts",
                   "budget ¥", "period close"):
        table.add_column(column, justify="left" if column in ("package", "period", "period close") else "right",
                         no_wrap=True)
    for key, package in figures["packages"].items():
        period = "…".join(day[5:] for day in package["period"])
        table.add_row(key, period, _n(package["target"]), _n(package["negotiated_target"]),
                      _n(package["final_target"]), _n(package["actual"]), _p(package["attainment_pct"]),
                      str(package["versions"].get("rule_uplift", 0)), _n(package["generated"].get("budget_total")),
                      package["closed"] or "open")
    console.print(table)
    quarter = next(iter(figures["packages"].values()))["generated"]
    console.print(f"Head-office total = 1.3 × base: last year's like-for-like is only "
                  f"{_n(quarter['last_year_lfl_total'])} (few shops traded a year earlier), so the ratio applies to "
                  f"the base (like-for-like + run-rate of new outlets + peer basis) {_n(round_text(quarter['base_total']))}"
                  f" → {_n(quarter['hq_total'])} for the first package. Tiers: "
                  + ", ".join(f"{TIERS.get(k, k)} {v}" for k, v in quarter["tiers"].items()))
    if quarter.get("budget_by_region"):
        console.print("Expense budget of the first package (yuan, from the channels' expense ratios): "
                      + ", ".join(f"{region} {_n(value)}" for region, value in quarter["budget_by_region"].items()))

    table = Table(title="Quarter by region", title_justify="left")
    for column in ("region", "cities", "target", "final target", "actual", "attainment"):
        table.add_column(column, justify="left" if column == "region" else "right")
    for region in figures["regions"]:
        table.add_row(region["region"], str(region["cities"]), _n(region["target"]), _n(region["final_target"]),
                      _n(region["actual"]), _p(region["attainment_pct"]))
    console.print(table)

    table = Table(title="Quarter by city (target = generated v1; final = after negotiation and heat-wave uplifts)",
                  title_justify="left")
    for column in ("region", "city", "tier", "target", "final target", "actual", "attainment"):
        table.add_column(column, justify="left" if column in ("region", "city", "tier") else "right")
    for city in figures["cities"]:
        table.add_row(city["region"], city["city"], TIERS.get(city["tier"], city["tier"]), _n(city["target"]),
                      _n(city["final_target"]), _n(city["actual"]), _p(city["attainment_pct"]))
    console.print(table)

    alerts = figures["alerts"]
    table = Table(title=f"Alerts fired: {alerts['fired']}", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    table.add_column("examples")
    for kind, count in alerts["by_kind"].items():
        examples = "\n".join(e["title"] for e in alerts["examples"].get(kind, [])[:2])
        table.add_row(kind, str(count), examples)
    console.print(table)
    console.print(f"Heat-wave uplifts requested: {len(alerts['uplifts'])} "
                  f"({', '.join(sorted({u['city'] for u in alerts['uplifts']})[:12])}"
                  f"{', …' if len({u['city'] for u in alerts['uplifts']}) > 12 else ''})")

    table = Table(title="Adjustment requests and outcomes", title_justify="left")
    for column in ("package", "city", "filed by", "target", "claim", "status", "director", "finance"):
        table.add_column(column, justify="right" if column in ("target", "claim") else "left")
    for request in figures["requests"]:
        table.add_row(request["package"], request["city"], request["requester"], _n(request["current_target"]),
                      _n(request["claim"]), request["status"], _verdict(request["director"]),
                      _verdict(request["finance"]))
    console.print(table)

    integrity = figures["integrity"]
    table = Table(title="Integrity record (诚信档案): approved claims scored when the period closed", title_justify="left")
    for column in ("request", "user", "city", "claim", "actual", "deviation", "flagged"):
        table.add_column(column, justify="right" if column in ("claim", "actual", "deviation") else "left")
    for record in integrity["scored"]:
        table.add_row(record["request"], record["user"], record["city"], _n(record["claim"]), _n(record["actual"]),
                      f"{Decimal(record['deviation']) * 100:.2f}%", "yes" if record["flagged"] else "no")
    console.print(table)
    if integrity["restrictions"]:
        for restriction in integrity["restrictions"]:
            console.print(f"[yellow]view-only:[/yellow] {restriction['user']}: {restriction['reason']}")
    console.print(f"Audit chain: {'intact' if integrity['audit_chain']['ok'] else 'BROKEN'} "
                  f"({integrity['audit_chain']['rows']} entries)")

    wecom = run.get("wecom_messages")
    if wecom is not None:
        console.print(f"WeCom robot messages received on the local endpoint: {wecom['received']} "
                      f"(deliveries: {', '.join(f'{k} {v}' for k, v in run['deliveries'].items())})")
    console.rule("Files")
    for key, path in run["pdfs"].items():
        console.print(f"final PDF ({key}): {path}")
    console.print(f"heat map picture: {run['heatmap_png']}")
    if run.get("summary_json"):
        console.print(f"summary: {run['summary_json']}")
    timings = run.get("timings_s", {})
    console.print("time: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))


def _verdict(decision: dict | None) -> str:
    if not decision:
        return "—"
    return f"{'✓' if decision['verdict'] == 'approve' else '✗'} {decision['by']}"


def round_text(value: str | None) -> str | None:
    return None if value is None else format(Decimal(value).quantize(Decimal(1)), "f")
