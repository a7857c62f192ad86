"""Current stock read straight through the database driver: the availability hot path.

A storefront asks thousands of times a minute; SQLAlchemy's per-statement overhead cost more
than the lookups themselves.  These are the same reads as `StockReader.positions` (expired
reservations taken off at the instant of reading, safety stock applied), in plain SQL.

Answers are also remembered per SKU, and never served stale: an entry is dropped as soon as
the database changes, or a reservation among its positions expires.  On SQLite any commit by
any process moves `PRAGMA data_version` (read on one watcher connection); a repeated question
then costs one pragma instead of the queries, so the service answers single lookups on the
event loop itself.  Each thread reads on its own read-only connection (WAL readers never wait
for the writer).  On PostgreSQL the change counter is the current snapshot (one short query),
and each thread of the pool reads on its own autocommit connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy.engine import make_url

from adapters.db.engine import Engines
from inventory.projection import Position, SafetyStock

CHUNK = 500
CACHE_ENTRIES = 100_000
FOREVER = 2**62
Key = tuple[str, tuple[str, ...] | None, bool]


class Remembered(list[Position]):
    """One SKU's positions; `memo` keeps what callers derive from them (their answers), valid
    exactly as long as the positions themselves."""

    def __init__(self, items: list[Position]) -> None:
        super().__init__(items)
        self.memo: dict[Any, Any] = {}


class FastReads:
    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.sqlite = engines.dialect == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self._local = threading.local()
        self._opened: list[Any] = []  # every thread's connection, closed together
        self._lock = threading.Lock()
        self._path = make_url(engines.url).database if self.sqlite else None
        self._cache: dict[Key, tuple[int, Remembered]] = {}
        self._version: Any = None  # SQLite's data_version, or PostgreSQL's snapshot
        self._watcher: sqlite3.Connection | None = None

    @property
    def inline(self) -> bool:
        """May single lookups run on the event loop (quick, never waiting on a lock)?"""
        return self.sqlite

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            f"file:{quote(str(self._path))}?mode=ro",
            uri=True,
            check_same_thread=False,
            isolation_level=None,
            timeout=60,
        )
        connection.execute("PRAGMA busy_timeout=60000")
        connection.execute("PRAGMA cache_size=-65536")
        with self._lock:
            self._opened.append(connection)
        return connection

    def _postgres(self) -> psycopg.Connection[Any]:
        """This thread's own autocommit connection: a lookup costs its queries' round trips
        only (no pool check-out, ping, BEGIN or ROLLBACK around them)."""
        connection = getattr(self._local, "postgres", None)
        if connection is None or connection.closed:
            url = make_url(self.engines.url).set(drivername="postgresql")
            connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            self._local.postgres = connection
            with self._lock:
                self._opened.append(connection)
        return connection

    def _sqlite(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    def _current_version(self) -> Any:
        """The database's change counter as one watcher connection sees it; clears the cache
        when it moved."""
        if not self.sqlite:
            return self._postgres_version()
        with self._lock:
            if self._watcher is None:
                self._watcher = sqlite3.connect(
                    f"file:{quote(str(self._path))}?mode=ro",
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                )
            version = int(self._watcher.execute("PRAGMA data_version").fetchone()[0])
            if version != self._version:
                self._cache.clear()
                self._version = version
            return version

    def _postgres_version(self) -> str:
        """PostgreSQL's current snapshot (xmin:xmax:in-progress ids) as text.  Two equal
        snapshots see exactly the same committed data (xmax only grows, and every commit takes
        an id out of the in-progress list), so while it stays the same remembered answers hold;
        any write transaction anywhere in the cluster moves it."""
        with self.cursor() as cursor:
            cursor.execute("SELECT pg_current_snapshot()::text")
            version = str(cursor.fetchone()[0])
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
        return version

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        if self.sqlite:
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
            self._local.postgres = None  # the server went away: the next lookup reconnects
            connection.close()
            raise

    def _in(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def positions(
        self, skus: Sequence[str], locations: Sequence[str] | None, now: int, fill: bool = False
    ) -> dict[str, list[Position]]:
        """Each SKU's positions (at `locations`, else wherever one exists); with `fill` every
        SKU at every given location, zeros where none exists."""
        version = self._current_version()
        places = None if locations is None else tuple(locations)
        result: dict[str, list[Position]] = {}
        missing = []
        for sku in skus:
            hit = self._cache.get((sku, places, fill))
            if hit is not None and now < hit[0]:
                result[sku] = hit[1]
            else:
                missing.append(sku)
        if missing:
            fresh = self._read(missing, locations, now, fill)
            with self._lock:
                keep = self._version == version  # else read across a change: do not keep
                if keep and len(self._cache) + len(fresh) > CACHE_ENTRIES:
                    self._cache.clear()
                for sku, (found, valid_until) in fresh.items():
                    remembered = Remembered(found)
                    result[sku] = remembered
                    if keep and valid_until > now:
                        self._cache[(sku, places, fill)] = (valid_until, remembered)
        return result

    def _read(
        self, skus: Sequence[str], locations: Sequence[str] | None, now: int, fill: bool
    ) -> dict[str, tuple[list[Position], int]]:
        """Per SKU: its positions, and until when they hold (the next instant a reservation
        among them expires; for keys whose stored expiry bound has passed, the next unexpired
        line's)."""
        rows: list[tuple[Any, ...]] = []
        valid_until: dict[str, int] = dict.fromkeys(skus, FOREVER)
        with self.cursor() as cursor:
            for start in range(0, len(skus), CHUNK):
                part = list(skus[start : start + CHUNK])
                sql = (
                    "SELECT sku, location, on_hand, in_transit, reserved, reserved_expiry "
                    f"FROM positions WHERE sku IN ({self._in(len(part))})"
                )
                params: list[Any] = part
                if locations is not None:
                    sql += f" AND location IN ({self._in(len(locations))})"
                    params = part + list(locations)
                cursor.execute(sql, params)
                rows.extend(cursor.fetchall())
            stale = {(r[0], r[1]) for r in rows if r[5] is not None and r[5] <= now}
            for sku, _, _, _, _, expiry in rows:
                if expiry is not None and expiry > now:
                    valid_until[sku] = min(valid_until[sku], expiry)
            live = self._live_reserved(cursor, stale, now, valid_until)
            places = sorted({r[1] for r in rows} | set(locations if fill and locations else ()))
            safety = self._safety(cursor, places)
        found: dict[str, list[Position]] = defaultdict(list)
        for sku, location, on_hand, in_transit, reserved, _ in rows:
            found[sku].append(
                Position(
                    sku,
                    location,
                    on_hand,
                    live.get((sku, location), reserved),
                    in_transit,
                    safety.for_key((sku, location)),
                )
            )
        if fill and locations:
            for sku in skus:
                have = {p.location for p in found[sku]}
                found[sku].extend(
                    Position(sku, loc, 0, 0, 0, safety.for_key((sku, loc)))
                    for loc in locations
                    if loc not in have
                )
        return {sku: (found.get(sku, []), valid_until[sku]) for sku in skus}

    def _live_reserved(
        self, cursor: Any, stale: set[tuple[str, str]], now: int, valid_until: dict[str, int]
    ) -> dict[tuple[str, str], int]:
        """Held by unexpired lines, for keys whose stored expiry bound has passed."""
        live: dict[tuple[str, str], int] = dict.fromkeys(stale, 0)
        stale_skus = sorted({key[0] for key in stale})
        for start in range(0, len(stale_skus), CHUNK):
            part = stale_skus[start : start + CHUNK]
            cursor.execute(
                "SELECT sku, location, SUM(held), "
                "MIN(CASE WHEN never_expires THEN NULL ELSE expires_at END) "
                "FROM reservation_lines "
                f"WHERE sku IN ({self._in(len(part))}) AND held > 0 AND "
                f"(never_expires OR expires_at IS NULL OR expires_at > {self.mark}) "
                "GROUP BY sku, location",
                [*part, now],
            )
            for sku, location, held, next_expiry in cursor.fetchall():
                if (sku, location) in live:
                    live[(sku, location)] = int(held)
                    if next_expiry is not None:
                        valid_until[sku] = min(valid_until[sku], next_expiry)
        return live

    def _safety(self, cursor: Any, places: list[str]) -> SafetyStock:
        per_location: dict[str, int] = {}
        per_item: dict[tuple[str, str], int] = {}
        for start in range(0, len(places), CHUNK):
            part = places[start : start + CHUNK]
            cursor.execute(
                "SELECT location, sku, quantity FROM safety_stock "
                f"WHERE location IN ({self._in(len(part))})",
                part,
            )
            for location, sku, quantity in cursor.fetchall():
                if sku == "":
                    per_location[location] = quantity
                else:
                    per_item[(sku, location)] = quantity
        return SafetyStock(per_location, per_item)

    def close(self) -> None:
        with self._lock:
            for connection in self._opened:
                connection.close()
            self._opened.clear()
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
