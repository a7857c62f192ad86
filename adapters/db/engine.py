"""Engines for the configured database: a SQLite file (default) or PostgreSQL.

SQLite gets WAL, a busy timeout and, for writers, `BEGIN IMMEDIATE` so that two writers queue
for the lock instead of failing half-way.  PostgreSQL uses psycopg 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from adapters.config import env_settings

DEFAULT_URL = "sqlite:///inventory.db"
ENV_URL = "INVENTORY_DATABASE_URL"


def database_url(explicit: str | None = None) -> str:
    """The URL from `--db`, else INVENTORY_DATABASE_URL, else a SQLite file here."""
    raw = explicit or env_settings().database_url or DEFAULT_URL
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    if "://" not in raw:  # a bare path means a SQLite file
        raw = f"sqlite:///{raw}"
    return raw


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@dataclass
class Engines:
    """One engine for writes and one for reads (on SQLite readers must not take the lock)."""

    url: str
    write: Engine
    read: Engine

    @property
    def dialect(self) -> str:
        return self.write.dialect.name

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def make_engines(url: str | None = None) -> Engines:
    resolved = database_url(url)
    if is_sqlite(resolved):
        path = make_url(resolved).database
        if not path or path == ":memory:":
            raise ValueError("SQLite needs a file path (the API and the CLI share it)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Engines(
            resolved,
            _sqlite_engine(resolved, immediate=True),
            _sqlite_engine(resolved, immediate=False),
        )
    engine = create_engine(resolved, pool_size=10, max_overflow=20, pool_pre_ping=True)
    return Engines(resolved, engine, engine)


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})
    synchronous = env_settings().sqlite_synchronous

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
