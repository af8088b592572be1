"""The alerts service's tables (its own database)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.db import ExactDecimal, UTCDateTime
from shared.outbox import add_outbox_tables

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")

# Rules and their immutable versions; `rules.version` is the current version (optimistic lock).
rules = Table(
    "rules", metadata,
    Column("rule_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
rule_versions = Table(
    "rule_versions", metadata,
    Column("rule_id", String(64), ForeignKey("rules.rule_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", Text, nullable=False),  # JSON of Rule.to_mapping()
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(120), nullable=False),
)
city_groups = Table(
    "city_groups", metadata,
    Column("name", String(64), primary_key=True),
    Column("regions", Text, nullable=False),  # JSON list
    Column("updated_at", UTCDateTime, nullable=False),
)

# Reference and facts consumed from ingestion and allocation.
cities = Table(
    "cities", metadata,
    Column("code", String(20), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(100), nullable=False),
    Column("region", String(20), nullable=False),
)
outlet_daily_sales = Table(
    "outlet_daily_sales", metadata,
    Column("city_code", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("outlet_id", String(64), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
)
city_daily_actuals = Table(
    "city_daily_actuals", metadata,
    Column("city_code", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("orders", BigInteger, nullable=False),
    Column("outlets", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
weather_days = Table(
    "weather_days", metadata,
    Column("city_code", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("source_key", String(32), primary_key=True),  # "observation" | "forecast:<issued_on>"
    Column("kind", String(16), nullable=False),
    Column("issued_on", Date, nullable=True),
    Column("tmax_c", ExactDecimal, nullable=True),
    Column("revision", Integer, nullable=False),
)
weather_quality_warnings = Table(
    "weather_quality_warnings", metadata,
    Column("city_code", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("reason", String(32), primary_key=True),
    Column("first_seen_at", UTCDateTime, nullable=False),
)
packages = Table(
    "packages", metadata,
    Column("package_id", String(64), primary_key=True),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
)

# Alert history: one row per firing. (rule, city, fire key) is unique, so an occasion fires once
# whatever the redeliveries, re-evaluations or rule versions; the uplift id is unique too.
alerts = Table(
    "alerts", metadata,
    Column("alert_id", String(64), primary_key=True),
    Column("rule_id", String(64), nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("city_code", String(20), nullable=False),
    Column("city_name", String(100), nullable=False),
    Column("region", String(20), nullable=False),
    Column("fire_key", String(120), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON
    Column("span_start", Date, nullable=True),
    Column("span_end", Date, nullable=True),
    Column("uplift_id", String(64), nullable=True, unique=True),
    Column("uplift_percent", ExactDecimal, nullable=True),
    Column("fired_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(120), nullable=True),
    Column("acknowledgement_note", Text, nullable=True),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("rule_id", "city_code", "fire_key", name="uq_alerts_rule_city_occasion"),
)
Index("ix_alerts_fired_at", alerts.c.fired_at)
Index("ix_alerts_rule_city", alerts.c.rule_id, alerts.c.city_code)

# Outgoing notifications (one row per message part) and every attempt to deliver one.
deliveries = Table(
    "deliveries", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=True),  # None for a digest
    Column("channel", String(16), nullable=False),  # wecom | webhook
    Column("target", String(120), nullable=False),  # the robot (region) or webhook name
    Column("part", Integer, nullable=False),
    Column("parts", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | sent | failed | merged
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("digest_id", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
)
Index("ix_deliveries_pending", deliveries.c.status, deliveries.c.next_attempt_at)
delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),  # success | retry | permanent
    Column("http_status", Integer, nullable=True),
    Column("errcode", Integer, nullable=True),
    Column("errmsg", Text, nullable=True),
)
Index("ix_delivery_attempts_delivery", delivery_attempts.c.delivery_id)

outbox, inbox = add_outbox_tables(metadata)
