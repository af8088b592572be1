"""Events produced by the ingestion service."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import DecimalStr, Event, UtcDatetime, event

FACTS_TOPIC = "quotaflow.ingestion.facts"
WEATHER_TOPIC = "quotaflow.ingestion.weather"
REFERENCE_TOPIC = "quotaflow.ingestion.reference"
JOBS_TOPIC = "quotaflow.ingestion.jobs"

MAX_FACTS_PER_EVENT = 500


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DailySale(_Row):
    day: date
    outlet_id: str
    channel: str
    orders: int = Field(ge=0)
    revenue: DecimalStr | None = None
    units: int | None = None
    revision: int = Field(1, ge=1, description="1 for a first value; higher for a correction")


@event
class DailySalesRecorded(Event):
    TYPE = "ingestion.daily_sales_recorded"
    TOPIC = FACTS_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "A bounded batch of daily sales facts of one city, new or corrected."

    batch_id: str
    job_id: str | None = None
    city_code: str
    city_name: str
    region: str
    sales: list[DailySale] = Field(max_length=MAX_FACTS_PER_EVENT)


class Fulfilment(_Row):
    day: date
    dealer_id: str
    quantity_ordered: int = Field(ge=0)
    quantity_delivered: int = Field(ge=0)
    revision: int = Field(1, ge=1)


@event
class FulfilmentRecorded(Event):
    TYPE = "ingestion.fulfilment_recorded"
    TOPIC = FACTS_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "A bounded batch of ERP dealer fulfilment facts of one city."

    batch_id: str
    job_id: str | None = None
    city_code: str
    city_name: str
    region: str
    fulfilments: list[Fulfilment] = Field(max_length=MAX_FACTS_PER_EVENT)


class WeatherDay(_Row):
    day: date
    kind: str = Field(pattern="^(observation|forecast)$")
    issued_on: date | None = Field(None, description="The forecast's issue date; None for an observation")
    tmax_c: DecimalStr | None = None
    tmin_c: DecimalStr | None = None
    text: str | None = None
    revision: int = Field(1, ge=1)


@event
class WeatherRecorded(Event):
    TYPE = "ingestion.weather_recorded"
    TOPIC = WEATHER_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "Daily weather observations or forecasts of one city."

    batch_id: str
    job_id: str | None = None
    city_code: str
    city_name: str
    region: str
    days: list[WeatherDay] = Field(max_length=MAX_FACTS_PER_EVENT)


@event
class WeatherWarningIssued(Event):
    TYPE = "ingestion.weather_warning_issued"
    TOPIC = WEATHER_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "An official weather warning (e.g. 高温 yellow) for one city."

    warning_id: str
    city_code: str
    city_name: str
    region: str
    warning_type: str
    level: str
    valid_from: UtcDatetime
    valid_to: UtcDatetime


class CityRecord(_Row):
    code: str
    name: str
    province: str
    region: str
    lng: DecimalStr | None = None
    lat: DecimalStr | None = None
    gdp_100m_cny: DecimalStr | None = None
    gdp_growth: DecimalStr | None = None


@event
class CitiesRecorded(Event):
    TYPE = "ingestion.cities_recorded"
    TOPIC = REFERENCE_TOPIC
    KEY_FIELD = "batch_id"
    DESCRIPTION = "City master data (adcode, name, province, region, coordinates, GDP)."

    batch_id: str
    job_id: str | None = None
    cities: list[CityRecord] = Field(max_length=MAX_FACTS_PER_EVENT)


class OutletRecord(_Row):
    outlet_id: str
    channel: str
    opened_on: date | None = None
    attributes: dict[str, str] = Field(default_factory=dict)


@event
class OutletsRecorded(Event):
    TYPE = "ingestion.outlets_recorded"
    TOPIC = REFERENCE_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "Outlet / dealer master data of one city."

    batch_id: str
    job_id: str | None = None
    city_code: str
    city_name: str
    region: str
    outlets: list[OutletRecord] = Field(max_length=MAX_FACTS_PER_EVENT)


@event
class ImportCompleted(Event):
    TYPE = "ingestion.import_completed"
    TOPIC = JOBS_TOPIC
    KEY_FIELD = "job_id"
    DESCRIPTION = "Closes an import job: what was accepted, rejected or unchanged."

    job_id: str
    kind: str
    status: str
    accepted: int
    rejected: int
    unchanged: int
    completed_at: UtcDatetime
