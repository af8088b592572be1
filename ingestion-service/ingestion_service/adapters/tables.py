"""The ingestion database: raw uploads, import jobs and their rejected rows, master data, facts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import ExactDecimal, UTCDateTime
from shared.outbox import add_outbox_tables

metadata = MetaData()

raw_uploads = Table(
    "raw_uploads", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("filename", String(300), nullable=True),
    Column("content_type", String(200), nullable=True),
    Column("stored_path", String(500), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

import_jobs = Table(
    "import_jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("status", String(20), nullable=False),  # queued | running | succeeded | failed
    Column("sha256", String(64), nullable=False),
    Column("filename", String(300), nullable=True),
    Column("file_format", String(20), nullable=True),
    Column("source", String(200), nullable=False),  # upload:<subject> | pull:<source name>
    Column("options", Text, nullable=False, default="{}"),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("events_published", Integer, nullable=False, default=0),
    Column("encoding", String(20), nullable=True),
    Column("problem_code", String(60), nullable=True),
    Column("problem_detail", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
)
Index("ix_import_jobs_status", import_jobs.c.status, import_jobs.c.created_at)

rejected_rows = Table(
    "rejected_rows", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("job_id", String(40), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("column_name", String(200), nullable=False),
    Column("value", Text, nullable=False),
    Column("code", String(60), nullable=False),
    Column("reason", Text, nullable=False),
)
Index("ix_rejected_rows_job", rejected_rows.c.job_id, rejected_rows.c.row_number)

cities = Table(
    "cities", metadata,
    Column("code", String(6), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("province", String(100), nullable=False),
    Column("region", String(50), nullable=False),
    Column("lng", ExactDecimal, nullable=True),
    Column("lat", ExactDecimal, nullable=True),
    Column("gdp_100m_cny", ExactDecimal, nullable=True),
    Column("gdp_growth", ExactDecimal, nullable=True),
    Column("aliases", Text, nullable=False, default=""),  # "|"-separated export spellings
    Column("revision", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

outlets = Table(
    "outlets", metadata,
    Column("outlet_id", String(100), primary_key=True),
    Column("city_code", String(6), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("opened_on", Date, nullable=True),
    Column("attributes", Text, nullable=False, default="{}"),  # JSON object of text values
    Column("revision", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sales_facts = Table(
    "sales_facts", metadata,
    Column("day", Date, primary_key=True),
    Column("outlet_id", String(100), primary_key=True),
    Column("channel", String(100), primary_key=True),
    Column("city_code", String(6), nullable=False),
    Column("orders", Integer, nullable=False),
    Column("revenue", ExactDecimal, nullable=True),
    Column("units", Integer, nullable=True),
    Column("revision", Integer, nullable=False),
    Column("job_id", String(40), nullable=False),
)

fulfilment_facts = Table(
    "fulfilment_facts", metadata,
    Column("day", Date, primary_key=True),
    Column("dealer_id", String(100), primary_key=True),
    Column("city_code", String(6), nullable=False),
    Column("quantity_ordered", Integer, nullable=False),
    Column("quantity_delivered", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("job_id", String(40), nullable=False),
)

weather_facts = Table(
    "weather_facts", metadata,
    Column("city_code", String(6), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("kind", String(12), primary_key=True),
    Column("issued_key", String(10), primary_key=True),  # the issue date, "" for an observation
    Column("issued_on", Date, nullable=True),
    Column("tmax_c", ExactDecimal, nullable=True),
    Column("tmin_c", ExactDecimal, nullable=True),
    Column("text", String(100), nullable=True),
    Column("wind", String(100), nullable=True),
    Column("revision", Integer, nullable=False),
    Column("job_id", String(40), nullable=False),
)

weather_warnings = Table(
    "weather_warnings", metadata,
    Column("warning_id", String(100), primary_key=True),
    Column("city_code", String(6), nullable=False),
    Column("warning_type", String(50), nullable=False),
    Column("level", String(20), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("job_id", String(40), nullable=False),
)

pull_state = Table(
    "pull_state", metadata,
    Column("source", String(100), primary_key=True),
    Column("etag", String(300), nullable=True),
    Column("cursor", String(300), nullable=True),
    Column("last_status", String(40), nullable=True),
    Column("last_run_at", UTCDateTime, nullable=True),
)

outbox, inbox = add_outbox_tables(metadata)
