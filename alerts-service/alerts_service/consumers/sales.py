"""Daily sales from ingestion: store per outlet, re-total the city's days, judge cliffs.

Only recent days are judged (at most `cliff_max_age_days` before the later of the clock's date and
the batch's last day), so a history load stores actuals without alerting on old days. A batch that
is full (`MAX_FACTS_PER_EVENT` facts) may continue its last day in the next batch: that day is
judged with the next batch, never on partial data.

The batches of one transaction (a consumer's group) are stored and judged together just before it
commits, with the same outcome as one by one: each batch's days are judged in arrival order on what
is stored once that batch is. A batch that changes a day an earlier batch of its city is still to
judge (or to base a judgement on) first has the batches before it stored and judged.
"""

from __future__ import annotations

from datetime import timedelta

from alerts_service.application.evaluation import SalesArrival, apply_sales, city_of, clock_today
from alerts_service.settings import AlertsSettings
from shared.events.ingestion import MAX_FACTS_PER_EVENT, DailySalesRecorded


def make_sales_handlers(settings: AlertsSettings) -> dict:
    def on_daily_sales_recorded(event: DailySalesRecorded, _envelope, uow) -> None:
        if not event.sales:
            return
        days = {sale.day for sale in event.sales}
        last_day = max(days)
        horizon = max(clock_today(uow), last_day) - timedelta(days=settings.cliff_max_age_days)
        judge = {day for day in days if day >= horizon}
        if len(event.sales) >= MAX_FACTS_PER_EVENT:
            judge.discard(last_day)
        city = city_of(uow, event.city_code, event.city_name, event.region)
        arrivals = uow.pending("alerts.sales", lambda batch: apply_sales(uow, batch, settings))
        first_day = min(days)
        if any(earlier.city.code == city.code and earlier.judge and first_day <= max(earlier.judge)
               for earlier in arrivals.items):
            arrivals.flush()
        arrivals.add(SalesArrival(city, tuple(event.sales), frozenset(judge)))

    return {DailySalesRecorded.TYPE: on_daily_sales_recorded}
