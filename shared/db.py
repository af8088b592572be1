"""Database engines and column types that behave the same on SQLite (embedded) and PostgreSQL.

- `UTCDateTime` stores every instant in UTC and always reads back an aware UTC datetime
  (casebook C12: SQLite would otherwise drop the offset and shift deadlines by 8 h).
- `ExactDecimal` keeps money exact: arbitrary-precision NUMERIC on PostgreSQL, text on SQLite
  (whose NUMERIC affinity would turn it into a float).
- `set_based_upsert` writes a whole batch of rows as one `INSERT … ON CONFLICT` on either database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic_core import to_json
from sqlalchemy import (
    DateTime,
    Engine,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from shared.timeutil import UTC


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"refusing to store a naive datetime: {value.isoformat()}")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class ExactDecimal(TypeDecorator):
    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("refusing a float for an exact decimal column")
        value = Decimal(value)
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for SQLite (WAL, immediate transactions, busy timeout) or PostgreSQL (psycopg 3)."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _make_sqlite_transactions_immediate(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def _make_sqlite_transactions_immediate(engine: Engine) -> None:
    """pysqlite's lazy BEGIN lets two writers deadlock; take the write lock up front instead."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# -- set-based upserts ---------------------------------------------------------------------------

def set_based_upsert(session: Session, table: Table, rows: Sequence[dict], keys: Sequence[str], *,
                     revisioned: bool = False, strictly_newer: bool = False, returning: Sequence[str] = (),
                     keep_existing: bool = False) -> list:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET <other columns> [WHERE excluded.revision >= (or >)
    table.revision]` for many rows in one statement; returns the `returning` columns of the rows
    inserted or updated (a row the WHERE skips is not returned). `keep_existing`: `ON CONFLICT DO
    NOTHING` instead (only new keys are inserted and returned).

    - PostgreSQL: `INSERT … SELECT … FROM json_populate_recordset(NULL::table, :rows)`: the whole batch
      is ONE text parameter (the rows as JSON, serialised in Rust by pydantic-core) that the server turns
      into typed rows with each column's own input function (dates from ISO text, exact numerics from
      decimal strings). One statement whatever the batch size, no bind-parameter limit, a text that
      SQLAlchemy and psycopg cache and prepare. (Typed `unnest` arrays cost more: psycopg adapts
      every array element in Python, ~30 µs a row; a multi-row VALUES of thousands of parameters is
      recompiled by SQLAlchemy and re-parsed by psycopg on every call.)
    - SQLite: multi-row `INSERT … VALUES (…), (…) … RETURNING` through SQLAlchemy's
      "insertmanyvalues" (one cached compilation, rendered per chunk of at most 1,000 rows and
      32,700 bind parameters, under SQLite's 32,766).
    Rows must all have the same columns and distinct keys (one statement may not touch a row twice).
    """
    if not rows:
        return []
    names = tuple(rows[0])
    dialect = session.get_bind().dialect.name
    conflict = (tuple(keys), revisioned, strictly_newer, keep_existing)
    if dialect == "postgresql":
        _refuse_inexact(table, rows)
        statement = _json_upsert(table, names, *conflict, tuple(returning))
        result = session.execute(statement, {"rows": rows_json(rows)})
    else:
        statement = _values_upsert(dialect, table, names, *conflict, tuple(returning or keys))
        result = session.execute(statement, list(rows))
    return list(result) if returning else []


def rows_json(rows: Sequence[dict]) -> str:
    """Rows as a JSON array of objects for PostgreSQL's `json_populate_recordset`, serialised in Rust
    by pydantic-core (5× `json.dumps` with a Python fallback per value): dates and datetimes as ISO
    text, Decimals as exact decimal strings. Check the values first (`_refuse_inexact`)."""
    return to_json(rows).decode("utf-8")


def _refuse_inexact(table: Table, rows: Sequence[dict]) -> None:
    """What JSON would carry silently, the SQLite path refuses (`ExactDecimal`, `UTCDateTime`): a float
    for an exact decimal column, a naive datetime for an instant."""
    exact = [name for name in _columns_of_type(table, ExactDecimal) if name in rows[0]]
    if exact and any(isinstance(row[name], float) for row in rows for name in exact):
        raise TypeError("refusing a float for an exact decimal column")
    for name in (name for name in _columns_of_type(table, UTCDateTime) if name in rows[0]):
        for row in rows:
            value = row[name]
            if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
                raise ValueError(f"refusing to store a naive datetime or a non-datetime in {name}: {value!r}")


@lru_cache(maxsize=128)
def _columns_of_type(table: Table, kind: type) -> tuple[str, ...]:
    return tuple(column.name for column in table.columns if isinstance(column.type, kind))


def _conflict_clause(statement, table: Table, names, keys, revisioned: bool, strictly_newer: bool,
                     keep_existing: bool):
    updates = {name: statement.excluded[name] for name in names if name not in keys}
    if keep_existing or not updates:
        return statement.on_conflict_do_nothing(index_elements=list(keys))
    where = None
    if revisioned:
        where = (statement.excluded.revision > table.c.revision if strictly_newer
                 else statement.excluded.revision >= table.c.revision)
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates, where=where)


@lru_cache(maxsize=128)
def _values_upsert(dialect: str, table: Table, names, keys, revisioned, strictly_newer, keep_existing, returning):
    """The single-row form; executed with a list of rows it becomes multi-row VALUES statements
    ("insertmanyvalues" needs RETURNING)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = _conflict_clause(statement, table, names, keys, revisioned, strictly_newer, keep_existing)
    return statement.returning(*(table.c[name] for name in returning))


@lru_cache(maxsize=128)
def _json_upsert(table: Table, names, keys, revisioned, strictly_newer, keep_existing, returning):
    quoted = postgresql.dialect().identifier_preparer.format_table(table)
    rows = cast(bindparam("rows", type_=Text), postgresql.JSON)
    source = func.json_populate_recordset(literal_column(f"NULL::{quoted}"), rows).table_valued(*names).alias("incoming")
    statement = postgresql.insert(table).from_select(list(names), select(*(source.c[name] for name in names)))
    statement = _conflict_clause(statement, table, names, keys, revisioned, strictly_newer, keep_existing)
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    return statement
