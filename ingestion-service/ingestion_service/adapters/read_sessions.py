"""Sessions for reading while an import writes.

The platform's SQLite engine begins every transaction with `BEGIN IMMEDIATE` (safe for writers), so
a plain read would wait for a long import to commit. In WAL mode a reader needs no lock: this engine
reads the last committed snapshot without one. On PostgreSQL (MVCC) the service's sessions do.
"""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from shared.db import session_factory


class ReadSessions:
    def __init__(self, database_url: str, engine: Engine, sessions: sessionmaker) -> None:
        self._own_engine: Engine | None = None
        if engine.dialect.name == "sqlite":
            self._own_engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 60})
            self.sessions = session_factory(self._own_engine)
        else:
            self.sessions = sessions

    def __call__(self):
        return self.sessions()

    # a Worker, so that the host disposes the engine when it stops
    def start(self) -> None:
        pass

    def stop(self) -> None:
        if self._own_engine is not None:
            self._own_engine.dispose()
