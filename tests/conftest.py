"""Shared fixtures: a fresh database on every backend, and a clock tests can move.

Every test that takes `database` runs on SQLite and on PostgreSQL (127.0.0.1:5432).  Without a
reachable server the PostgreSQL runs are skipped, unless INVENTORY_REQUIRE_POSTGRES=1 (as in
CI), where they fail instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, inspect, text

from adapters.db.database import Database
from inventory.events import to_micros
from schemas.events import parse_instant

PG_ADMIN_URL = os.environ.get(
    "INVENTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = os.environ.get("INVENTORY_TEST_BACKENDS", "sqlite,postgresql").split(",")


def at(text_instant: str) -> int:
    """Microseconds of an RFC 3339 instant, for readable tests."""
    return to_micros(parse_instant(text_instant))


@dataclass
class Clock:
    """A settable clock: tests decide what "now" is."""

    now: int = at("2026-06-01T12:00:00Z")

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: no server here
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A scratch PostgreSQL database for this test session (dropped at the end)."""
    problem = _pg_reachable()
    if problem:
        if os.environ.get("INVENTORY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    name = f"inventory_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    Database(url).close()  # migrate once
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(db: Database) -> None:
    """Empty every table but the migration marker (also tables other features add)."""
    names = [n for n in inspect(db.engines.write).get_table_names() if n != "alembic_version"]
    with db.engines.write.begin() as connection:
        if db.engines.dialect == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY"))
        else:
            for name in names:
                connection.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture(params=[b for b in BACKENDS if b])
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database on each backend in turn."""
    return empty_database_url(request.param, request, tmp_path_factory)


def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of an empty database on `backend` ("sqlite" or "postgresql")."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'inventory.db'}"
    url: str = request.getfixturevalue("pg_url")
    scratch = Database(url, migrate=False)
    truncate_all(scratch)
    scratch.close()
    return url


@pytest.fixture
def database(backend_url: str, clock: Clock) -> Iterator[Database]:
    db = Database(backend_url, clock=clock)
    yield db
    db.close()
