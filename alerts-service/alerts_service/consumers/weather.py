"""Weather from ingestion: store it, then look for heat spells in the city.

"Today" is the later of the clock's Shanghai date and what the batch itself knows (the issue date
of its forecasts, the last observed day), so a forecast issued on D is judged as of D even when
the consumer runs behind or ahead of a replay clock.

The batches of one transaction (a consumer's group) are stored and judged together just before it
commits, with the same outcome as one by one: each is judged, in arrival order, on the weather as
stored once it is. A warning first has the batches before it stored and judged (a warning and a
heat spell of the same rule share the rule's cooldown).
"""

from __future__ import annotations

from alerts_service.application.evaluation import (
    WeatherArrival,
    apply_weather,
    city_of,
    clock_today,
    rules_for_city,
)
from alerts_service.application.recording import record_firing
from alerts_service.domain.firings import Firing
from alerts_service.settings import AlertsSettings
from shared.events.ingestion import WeatherRecorded, WeatherWarningIssued
from shared.timeutil import shanghai_date

WEATHER = "alerts.weather"


def make_weather_handlers(settings: AlertsSettings) -> dict:
    def on_weather_recorded(event: WeatherRecorded, _envelope, uow) -> None:
        known = [d.issued_on if d.kind == "forecast" else d.day for d in event.days]
        today = max([clock_today(uow), *[d for d in known if d is not None]])
        city = city_of(uow, event.city_code, event.city_name, event.region)
        arrivals = uow.pending(WEATHER, lambda batch: apply_weather(uow, batch, settings))
        arrivals.add(WeatherArrival(city, tuple(event.days), today))

    def on_weather_warning(event: WeatherWarningIssued, _envelope, uow) -> None:
        uow.flush_pending(WEATHER)
        city = city_of(uow, event.city_code, event.city_name, event.region)
        for rule in rules_for_city(uow, "weather_spell", city):
            firing = Firing(
                rule.rule_id, rule.version, "weather_warning", city.code, city.name, city.region,
                fire_key=f"warning:{event.warning_id}",
                severity=event.level,
                title=f"气象预警：{city.name} {event.warning_type}{event.level}预警",
                evidence={
                    "warning_id": event.warning_id,
                    "warning_type": event.warning_type,
                    "level": event.level,
                    "valid_from": shanghai_date(event.valid_from).isoformat(),
                    "valid_to": shanghai_date(event.valid_to).isoformat(),
                },
            )
            record_firing(uow, firing, rule, settings)

    return {WeatherRecorded.TYPE: on_weather_recorded, WeatherWarningIssued.TYPE: on_weather_warning}
