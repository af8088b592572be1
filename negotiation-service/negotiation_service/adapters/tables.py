"""The negotiation service's tables (its own database), plus the shared outbox and inbox."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from shared.db import ExactDecimal, UTCDateTime
from shared.outbox import add_outbox_tables

metadata = MetaData()

packages = Table(
    "packages", metadata,
    Column("package_id", String(120), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("metric", String(40), nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
)

package_lines = Table(
    "package_lines", metadata,
    Column("package_id", String(120), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("city_code", String(20), primary_key=True),
    Column("city_name", String(100), nullable=False),
    Column("region", String(40), nullable=False),
    Column("tier", String(40), nullable=False),
    Column("base", ExactDecimal, nullable=False),
    Column("target", ExactDecimal, nullable=False),
    Column("weight", ExactDecimal, nullable=False),
    Column("expense_budget", ExactDecimal, nullable=False),
)

windows = Table(
    "windows", metadata,
    Column("window_id", String(160), primary_key=True),
    Column("package_id", String(120), nullable=False),
    Column("package_version", Integer, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closes_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("policy", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("package_id", "package_version", name="uq_windows_package"),
)

requests = Table(
    "requests", metadata,
    Column("request_id", String(200), primary_key=True),
    Column("window_id", String(160), ForeignKey("windows.window_id"), nullable=False),
    Column("package_id", String(120), nullable=False),
    Column("city_code", String(20), nullable=False),
    Column("city_name", String(100), nullable=False),
    Column("region", String(40), nullable=False),
    Column("requester_id", String(120), nullable=False),
    Column("current_target", ExactDecimal, nullable=False),
    Column("claim", ExactDecimal, nullable=False),
    Column("category", String(30), nullable=False),
    Column("reason", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of strings
    Column("filed_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("status", String(30), nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("director_actor", String(120), nullable=True),
    Column("director_verdict", String(10), nullable=True),
    Column("director_at", UTCDateTime, nullable=True),
    Column("director_comment", Text, nullable=True),
    Column("finance_actor", String(120), nullable=True),
    Column("finance_verdict", String(10), nullable=True),
    Column("finance_at", UTCDateTime, nullable=True),
    Column("finance_comment", Text, nullable=True),
    # city_code while the request is open or approved, NULL otherwise: the unique key below is
    # "one open (or approved) request per city per window", enforced by the database.
    Column("blocking_city", String(20), nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("window_id", "blocking_city", name="uq_requests_one_open_per_city"),
)
Index("ix_requests_window", requests.c.window_id, requests.c.city_code)

final_lines = Table(
    "final_lines", metadata,
    Column("window_id", String(160), ForeignKey("windows.window_id"), primary_key=True),
    Column("city_code", String(20), primary_key=True),
    Column("original_target", ExactDecimal, nullable=False),
    Column("final_target", ExactDecimal, nullable=False),
    Column("change", String(20), nullable=False),
    Column("request_id", String(200), nullable=True),
)

documents = Table(
    "documents", metadata,
    Column("document_id", String(200), primary_key=True),
    Column("window_id", String(160), ForeignKey("windows.window_id"), nullable=False, unique=True),
    Column("filename", String(300), nullable=False),
    Column("media_type", String(60), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # the package version the final lines become (allocation numbers it; NULL in older rows)
    Column("final_version", Integer, nullable=True),
)

# The versions of each package that allocation has announced (package_published, targets_revised):
# the final version of a window is the one after the latest (allocation adds it on top).
package_versions = Table(
    "package_versions", metadata,
    Column("package_id", String(120), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("source", String(40), nullable=False),  # generated | negotiation | rule_uplift | manual
    Column("reference", String(200), nullable=True),  # e.g. the negotiation window id
    Column("recorded_at", UTCDateTime, nullable=False),
)

scheduled_jobs = Table(
    "scheduled_jobs", metadata,
    Column("job_id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),  # pending | done | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("done_by", String(120), nullable=True),
    UniqueConstraint("kind", "subject", name="uq_jobs_kind_subject"),
)
Index("ix_jobs_due", scheduled_jobs.c.status, scheduled_jobs.c.due_at)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("actor", String(120), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(80), nullable=False),
    Column("entity", String(240), nullable=False),
    Column("before", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("after", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

scored_claims = Table(
    "scored_claims", metadata,
    Column("request_id", String(200), primary_key=True),
    Column("user_id", String(120), nullable=False),
    Column("package_id", String(120), nullable=False),
    Column("city_code", String(20), nullable=False),
    Column("city_name", String(100), nullable=False),
    Column("region", String(40), nullable=False),
    Column("claim", ExactDecimal, nullable=False),
    Column("actual", ExactDecimal, nullable=False),
    Column("deviation", ExactDecimal, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("scored_at", UTCDateTime, nullable=False),
)
Index("ix_scored_user", scored_claims.c.user_id, scored_claims.c.scored_at)

restrictions = Table(
    "restrictions", metadata,
    Column("restriction_id", String(200), primary_key=True),
    Column("user_id", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("restricted_at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime, nullable=True),
    Column("lifted_at", UTCDateTime, nullable=True),
    Column("lifted_by", String(120), nullable=True),
    Column("lift_reason", Text, nullable=True),
)
Index("ix_restrictions_user", restrictions.c.user_id)

outbox, inbox = add_outbox_tables(metadata)
