"""The allocation service's tables (its own database): facts, scenarios, packages and versions."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Index, Integer, MetaData, String, Table, Text, text

from shared.db import ExactDecimal, UTCDateTime
from shared.outbox import add_outbox_tables

metadata = MetaData()

cities = Table(
    "cities", metadata,
    Column("code", String(12), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(100), nullable=False, default=""),
    Column("region", String(50), nullable=False),
    Column("lng", ExactDecimal, nullable=True),
    Column("lat", ExactDecimal, nullable=True),
    Column("gdp_growth", ExactDecimal, nullable=True),
)

outlets = Table(
    "outlets", metadata,
    Column("outlet_id", String(64), primary_key=True),
    Column("city_code", String(12), nullable=False, index=True),
    Column("channel", String(100), nullable=False),
    Column("opened_on", Date, nullable=True),
)

daily_sales = Table(
    "daily_sales", metadata,
    Column("outlet_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("city_code", String(12), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("orders", Integer, nullable=False),
    Column("revenue", ExactDecimal, nullable=True),
    Column("units", Integer, nullable=True),
    Column("revision", Integer, nullable=False),
)
Index("ix_daily_sales_city_day", daily_sales.c.city_code, daily_sales.c.day)
Index("ix_daily_sales_day", daily_sales.c.day)

fulfilments = Table(
    "fulfilments", metadata,
    Column("city_code", String(12), primary_key=True),
    Column("dealer_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("quantity_ordered", Integer, nullable=False),
    Column("quantity_delivered", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
)

scenarios = Table(
    "scenarios", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),  # draft | discarded | published
    Column("spec", Text, nullable=False),  # JSON: the request that generated it
    Column("result", Text, nullable=False),  # JSON: summary + lines (+ daily)
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("metric", String(20), nullable=False),
    Column("model", String(40), nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("package_id", String(40), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

packages = Table(
    "packages", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scenario_id", String(40), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("metric", String(20), nullable=False),
    Column("model", String(40), nullable=False),
    Column("current_version", Integer, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("finalized", Boolean, nullable=False, default=False),
    Column("finalized_at", UTCDateTime, nullable=True),
    Column("superseded_by", String(40), nullable=True),  # the package published in its place
    Column("superseded_at", UTCDateTime, nullable=True),
)
# One live package per (period, metric): a second one must supersede the first (a quarter and its
# months are different periods and may coexist).
_LIVE = text("superseded_at IS NULL")
Index("uq_package_live_period", packages.c.period_start, packages.c.period_end, packages.c.metric, unique=True,
      sqlite_where=_LIVE, postgresql_where=_LIVE)

package_versions = Table(
    "package_versions", metadata,
    Column("package_id", String(40), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("total", ExactDecimal, nullable=False),
    Column("source", String(40), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("note", Text, nullable=True),
    Column("lines", Text, nullable=False),  # JSON list with daily targets
    Column("created_at", UTCDateTime, nullable=False),
)
# A business reference (uplift id, negotiation window id, scenario id) makes at most one version of a
# package; manual edits carry their author as reference and may be many.
_NOT_MANUAL = text("source <> 'manual'")
Index("uq_version_provenance", package_versions.c.package_id, package_versions.c.source, package_versions.c.reference,
      unique=True, sqlite_where=_NOT_MANUAL, postgresql_where=_NOT_MANUAL)

applied_uplifts = Table(
    "applied_uplifts", metadata,
    Column("uplift_id", String(80), primary_key=True),
    Column("package_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

city_attainment = Table(
    "city_attainment", metadata,
    Column("package_id", String(40), primary_key=True),
    Column("city_code", String(12), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("actual_to_date", ExactDecimal, nullable=False),
    Column("attainment_pct", ExactDecimal, nullable=True),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("emitted_as_of", Date, nullable=True),
    Column("emitted_actual", ExactDecimal, nullable=True),
    Column("emitted_at", UTCDateTime, nullable=True),
)

outbox, inbox = add_outbox_tables(metadata)
