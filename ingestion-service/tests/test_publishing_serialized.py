"""Sales batches are serialised straight to JSON (no pydantic model per event): the text must be
exactly what the `DailySalesRecorded` model gives, and valid against it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from ingestion_service.application.publishing import EventBuilder
from ingestion_service.domain.cities import City
from ingestion_service.domain.facts import SalesFact
from ingestion_service.domain.revisions import Revised

from shared.envelope import SerializedEvent
from shared.events.ingestion import MAX_FACTS_PER_EVENT, DailySalesRecorded

CITIES = {"440100": City("440100", "广州", "广东", "华南"), "310000": City("310000", '上海 "\\\t', "上海", "华东")}


def test_sales_events_are_the_models_json_exactly():
    facts = [
        SalesFact(date(2016, 6, 1), "店\t\"1\"\\", "美食", "440100", 12),
        SalesFact(date(2016, 6, 1), "A-2", "超市\u2028便利店\x01", "440100", 0, Decimal("1234567.890"), 7),
        SalesFact(date(2016, 6, 2), "A-3", "美食", "310000", 3, Decimal("-0.5"), None),
    ] + [SalesFact(date(2016, 7, 1 + i % 30), f"B{i}", "美食", "440100", i) for i in range(MAX_FACTS_PER_EVENT + 3)]
    changed = [Revised(fact, 1 + i % 3, i + 2) for i, fact in enumerate(facts)]
    events = EventBuilder("job-1", CITIES).build("sales_wide", changed)
    assert [type(e) for e in events] == [SerializedEvent] * 3
    assert [len(json.loads(e.data_json)["sales"]) for e in events] == [MAX_FACTS_PER_EVENT, 5, 1]
    total = 0
    for event in events:
        model = DailySalesRecorded.model_validate_json(event.data_json)
        assert model.model_dump_json() == event.data_json
        assert (event.TYPE, event.TOPIC, event.key(), event.subject()) == (
            DailySalesRecorded.TYPE, DailySalesRecorded.TOPIC, model.city_code, model.subject())
        total += sum(sale.orders for sale in model.sales)
    assert total == 12 + 0 + 3 + sum(range(MAX_FACTS_PER_EVENT + 3))
    first = DailySalesRecorded.model_validate_json(events[0].data_json)
    assert first.batch_id == "job-1:00001" and first.city_name == "广州"
    assert [(s.outlet_id, s.revision) for s in first.sales[:2]] == [("A-2", 2), ('店\t"1"\\', 1)]  # in key order
    assert first.sales[0].revenue == Decimal("1234567.890") and first.sales[0].units == 7
