"""Daily sales from ingestion: store per outlet, re-total the city's days, judge cliffs at once.

Only recent days are judged (at most `cliff_max_age_days` before the later of the clock's date and
the batch's last day), so a history load stores actuals without alerting on old days. A batch that
is full (`MAX_FACTS_PER_EVENT` facts) may continue its last day in the next batch: that day is
judged with the next batch, never on partial data.
"""

from __future__ import annotations

from datetime import timedelta

from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.application.evaluation import clock_today, evaluate_cliffs
from alerts_service.settings import AlertsSettings
from shared.events.ingestion import MAX_FACTS_PER_EVENT, DailySalesRecorded


def make_sales_handlers(settings: AlertsSettings) -> dict:
    def on_daily_sales_recorded(event: DailySalesRecorded, _envelope, uow) -> None:
        if not event.sales:
            return
        facts = FactRepository(uow.session)
        changed = facts.store_sales(event.city_code, event.sales, uow.now())
        last_day = max(sale.day for sale in event.sales)
        horizon = max(clock_today(uow), last_day) - timedelta(days=settings.cliff_max_age_days)
        days = {day for day in changed if day >= horizon}
        if len(event.sales) >= MAX_FACTS_PER_EVENT:
            days.discard(last_day)
        if not days:  # a history load: nothing recent to judge, so no rule or city lookup either
            return
        city = facts.city(event.city_code, event.city_name, event.region)
        evaluate_cliffs(uow, city, days, settings)

    return {DailySalesRecorded.TYPE: on_daily_sales_recorded}
