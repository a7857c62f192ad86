"""Each thread's own read connection straight to the driver, and the database's change counter.

The availability hot path reads on these instead of SQLAlchemy's pool: a lookup then costs its
queries only (no pool check-out, ping, BEGIN or ROLLBACK around them).  On SQLite each thread
reads on its own read-only connection (WAL readers never wait for the writer); on PostgreSQL
on its own autocommit connection.

The change counter tells a cache when what it remembers may have changed: on SQLite `PRAGMA
data_version` on one watcher connection (any commit by any process moves it), on PostgreSQL
the current snapshot.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy.engine import make_url

from adapters.db.engine import Engines


class ThreadConnections:
    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.postgres = engines.dialect == "postgresql"
        self._path = None if self.postgres else make_url(engines.url).database
        self._local = threading.local()
        self._opened: list[Any] = []  # every thread's connection, closed together
        self._lock = threading.Lock()
        self._watcher: sqlite3.Connection | None = None

    def _sqlite_file(self) -> sqlite3.Connection:
        return sqlite3.connect(
            f"file:{quote(str(self._path))}?mode=ro",
            uri=True,
            check_same_thread=False,
            isolation_level=None,
            timeout=60,
        )

    def _sqlite(self) -> sqlite3.Connection:
        connection = getattr(self._local, "sqlite", None)
        if connection is None:
            connection = self._sqlite_file()
            connection.execute("PRAGMA busy_timeout=60000")
            connection.execute("PRAGMA cache_size=-65536")
            self._local.sqlite = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _postgres(self) -> psycopg.Connection[Any]:
        connection = getattr(self._local, "postgres", None)
        if connection is None or connection.closed:
            url = make_url(self.engines.url).set(drivername="postgresql")
            connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._local.postgres = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on this thread's connection (each statement sees the latest commits)."""
        if not self.postgres:
            local = self._sqlite().cursor()
            try:
                yield local
            finally:
                local.close()
            return
        connection = self._postgres()
        try:
            with connection.cursor() as cursor:
                yield cursor
        except psycopg.OperationalError:
            self._local.postgres = None  # the server went away: the next read reconnects
            connection.close()
            raise

    def version(self) -> Any:
        """The database's change counter: equal values mean nothing was committed between.

        PostgreSQL's is the current snapshot (xmin:xmax:in-progress ids) as text.  Two equal
        snapshots see exactly the same committed data (xmax only grows, and every commit takes
        an id out of the in-progress list); any write transaction in the cluster moves it."""
        if self.postgres:
            with self.cursor() as cursor:
                cursor.execute("SELECT pg_current_snapshot()::text")
                return str(cursor.fetchone()[0])
        with self._lock:
            if self._watcher is None:
                self._watcher = self._sqlite_file()
            return int(self._watcher.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        """Close every thread's connection; a later read opens a new one."""
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
            self._local = threading.local()
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
