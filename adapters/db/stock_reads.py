"""The stock read model: current stock, stock in the past, and the ledger itself.

Current stock comes from the projection tables; reserved is exact at the instant of reading.
A position's stored `reserved` holds until its `reserved_expiry` bound; once that has passed,
its held reservation lines are read and each counts as `inventory.stock.holds_at` says (an
expired reservation stops counting at once, before any release is written).  Safety stock is
applied per key.  Past stock (`as_of`) is folded from the ledger itself.

Every read of current stock is one SQL text, run on whatever cursor the caller has: a pooled
SQLAlchemy connection (`positions`), a writer's connection inside its locks (`positions_in`,
`safety`), or a thread's own driver connection (`current`, the availability hot path, where
SQLAlchemy's per-statement overhead cost more than the lookups themselves).  Rows become
`Position`s by column name in one place (`_positions`).

`current` also remembers its answers per SKU, and never serves them stale: an entry is dropped
as soon as the database changes (see `read_connections.ThreadConnections.version`), or a
reservation among its positions expires.  On SQLite a repeated question then costs one pragma
instead of the queries, so the service answers single lookups on the event loop itself.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, or_, select

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.engine import Engines
from adapters.db.ledger import CHUNK, Clock, chunks, row_event, wall_clock
from adapters.db.read_connections import ThreadConnections
from inventory.events import StockEvent
from inventory.projection import Position, SafetyStock, project
from inventory.stock import Key, has_expired, holds_at, line_expiry

CACHE_ENTRIES = 100_000
FOREVER = 2**62
POSITION_COLUMNS = (
    "sku",
    "location",
    "on_hand",
    "in_transit",
    "reserved",
    "reserved_expiry",
    "last_position",
)
LINE_COLUMNS = ("sku", "location", "held", "expires_at", "never_expires")
Row = Any  # a row read by column name (`raw.named`)
CacheKey = tuple[str, tuple[str, ...] | None, bool]


class Remembered(list[Position]):
    """One SKU's positions; `memo` keeps what callers derive from them (their answers), valid
    exactly as long as the positions themselves."""

    def __init__(self, items: Iterable[Position]) -> None:
        super().__init__(items)
        self.memo: dict[Any, Any] = {}


# -- the reads, on any cursor --------------------------------------------------------------------


def _marks(postgres: bool, count: int) -> str:
    return ", ".join(["%s" if postgres else "?"] * count)


def _fetch(cursor: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor.execute(sql, list(params))
    return raw.named(cursor)


def _select_positions(
    postgres: bool,
    skus: Sequence[str] | None = None,
    locations: Sequence[str] | None = None,
    after: str | None = None,
    limit: int | None = None,
    ordered: bool = True,
) -> tuple[str, list[Any]]:
    """Positions of some SKUs and/or locations (all when neither), by SKU and location unless
    not `ordered`; paged by SKU with `after` and `limit`."""
    where: list[str] = []
    params: list[Any] = []
    if skus is not None:
        where.append(f"sku IN ({_marks(postgres, len(skus))})")
        params.extend(skus)
    if locations is not None:
        where.append(f"location IN ({_marks(postgres, len(locations))})")
        params.extend(locations)
    if after is not None:
        where.append(f"sku > {_marks(postgres, 1)}")
        params.append(after)
    sql = f"SELECT {', '.join(POSITION_COLUMNS)} FROM positions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if ordered:
        sql += " ORDER BY sku, location"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def _rows_by_keys(cursor: Any, postgres: bool, keys: Sequence[Key]) -> list[Any]:
    found: list[Any] = []
    unique = list(dict.fromkeys(keys))
    for sql, params in raw.keyed_selects(
        postgres, t.positions, ("sku", "location"), unique, POSITION_COLUMNS
    ):
        found.extend(_fetch(cursor, sql, params))
    found.sort(key=lambda row: (row.sku, row.location))
    return found


def _rows_of_skus(
    cursor: Any, postgres: bool, skus: Sequence[str], locations: Sequence[str] | None
) -> list[Any]:
    found: list[Any] = []
    for part in chunks(list(skus), CHUNK):
        sql, params = _select_positions(postgres, part, locations, ordered=False)
        found.extend(_fetch(cursor, sql, params))
    return found


def _live_reserved(
    cursor: Any, postgres: bool, keys: Sequence[Key], now: int, until: dict[str, int]
) -> dict[Key, int]:
    """What the held lines of `keys` (positions whose expiry bound has passed) hold at `now`;
    `until` gets, per SKU, the next instant one of those lines expires."""
    live: dict[Key, int] = dict.fromkeys(keys, 0)
    # held > 0 only narrows the read (an index); whether a line holds is the rule's decision
    for sql, params in raw.keyed_selects(
        postgres, t.reservation_lines, ("sku", "location"), keys, LINE_COLUMNS, where="t.held > 0"
    ):
        for line in _fetch(cursor, sql, params):
            expiry = line_expiry(line.expires_at, bool(line.never_expires))
            held = holds_at(int(line.held), expiry, now)
            if held:
                sku = line.sku
                live[(sku, line.location)] += held
                if expiry is not None:
                    until[sku] = min(until.get(sku, FOREVER), expiry)
    return live


def _safety(
    cursor: Any, postgres: bool, locations: Sequence[str], skus: Sequence[str] | None = None
) -> SafetyStock:
    """Safety stock at the locations; with `skus`, only the rows that can apply to them."""
    per_location: dict[str, int] = {}
    per_item: dict[Key, int] = {}
    only = [] if skus is None else ["", *skus]
    for part in chunks(list(locations), CHUNK):
        sql = (
            "SELECT location, sku, quantity FROM safety_stock "
            f"WHERE location IN ({_marks(postgres, len(part))})"
        )
        if only:
            sql += f" AND sku IN ({_marks(postgres, len(only))})"
        for row in _fetch(cursor, sql, [*part, *only]):
            if row.sku == "":
                per_location[row.location] = int(row.quantity)
            else:
                per_item[(row.sku, row.location)] = int(row.quantity)
    return SafetyStock(per_location, per_item)


def _positions(rows: Sequence[Row], live: dict[Key, int], safety: SafetyStock) -> list[Position]:
    """Projection rows as positions, reserved taken from `live` for the keys whose stored
    figure is stale: the one place rows become positions.  Columns are read by name; the
    Position is built in its field order (on_hand, reserved, in_transit, safety_stock), which
    is a third quicker than by keyword on the hot path."""
    return [
        Position(
            row.sku,
            row.location,
            row.on_hand,
            live.get((row.sku, row.location), row.reserved),
            row.in_transit,
            safety.for_key((row.sku, row.location)),
        )
        for row in rows
    ]


def _empty(sku: str, location: str, safety: SafetyStock) -> Position:
    return Position(sku, location, 0, 0, 0, safety.for_key((sku, location)))


def _complete(
    cursor: Any,
    postgres: bool,
    rows: Sequence[Row],
    now: int,
    skus: Sequence[str] | None = None,
    also: Iterable[str] = (),
) -> tuple[list[Position], dict[str, int], SafetyStock]:
    """Rows as positions at `now`; per SKU until when they hold (the next instant a
    reservation among them expires); and the safety stock read (rows' locations and `also`)."""
    until: dict[str, int] = {}
    stale = []
    for row in rows:
        bound = row.reserved_expiry
        if has_expired(bound, now):
            stale.append((row.sku, row.location))
        elif bound is not None:
            until[row.sku] = min(until.get(row.sku, FOREVER), bound)
    live = _live_reserved(cursor, postgres, stale, now, until) if stale else {}
    places = sorted({row.location for row in rows} | set(also))
    safety = _safety(cursor, postgres, places, skus)
    return _positions(rows, live, safety), until, safety


def _narrow(skus: Iterable[str]) -> list[str] | None:
    """The SKUs to narrow a safety-stock read to (none when too many for one IN list)."""
    unique = sorted(set(skus))
    return unique if len(unique) <= CHUNK else None


class StockReads:
    def __init__(self, engines: Engines, clock: Clock = wall_clock) -> None:
        self.engines = engines
        self.clock = clock
        self.postgres = engines.dialect == "postgresql"
        self._threads = ThreadConnections(engines)
        self._lock = threading.Lock()
        self._cache: dict[CacheKey, tuple[int, Remembered]] = {}
        self._version: Any = None

    @property
    def inline(self) -> bool:
        """May single lookups run on the event loop (quick, never waiting on a lock)?"""
        return not self.postgres

    @contextmanager
    def _pooled(self) -> Iterator[Any]:
        with self.engines.read.connect() as connection, raw.driver_cursor(connection) as cursor:
            yield cursor

    # -- current stock ----------------------------------------------------------------------

    def positions(
        self,
        keys: Sequence[Key] | None = None,
        sku: str | None = None,
        location: str | None = None,
        now: int | None = None,
    ) -> list[Position]:
        """Positions by exact keys, or every position of a SKU and/or location (all when
        neither), by SKU and location."""
        instant = self.clock() if now is None else now
        with self._pooled() as cursor:
            if keys is not None:
                rows = _rows_by_keys(cursor, self.postgres, keys)
                skus = _narrow(key[0] for key in keys)
                return _complete(cursor, self.postgres, rows, instant, skus)[0]
            rows = _fetch(
                cursor,
                *_select_positions(
                    self.postgres,
                    None if sku is None else [sku],
                    None if location is None else [location],
                ),
            )
            return _complete(cursor, self.postgres, rows, instant)[0]

    def positions_in(self, connection: Connection, keys: Sequence[Key], now: int) -> list[Position]:
        """Positions of exact keys read on the caller's connection (e.g. a writer inside its
        locks); safety stock is read for those SKUs only."""
        return [position for position, _ in self.stamped_in(connection, keys, now)]

    def stamped_in(
        self, connection: Connection, keys: Sequence[Key], now: int
    ) -> list[tuple[Position, int]]:
        """`positions_in`, each with the ledger position that last changed it."""
        with raw.driver_cursor(connection) as cursor:
            rows = _rows_by_keys(cursor, self.postgres, keys)
            found = _complete(cursor, self.postgres, rows, now, _narrow(k[0] for k in keys))[0]
        return [(p, int(row.last_position)) for p, row in zip(found, rows, strict=True)]

    def position(self, sku: str, location: str, now: int | None = None) -> Position:
        """One position; zeros (with the safety stock that would apply) where none exists."""
        instant = self.clock() if now is None else now
        with self._pooled() as cursor:
            rows = _rows_by_keys(cursor, self.postgres, [(sku, location)])
            found, _, safety = _complete(cursor, self.postgres, rows, instant, [sku], [location])
        return found[0] if found else _empty(sku, location, safety)

    def at_location(self, location: str, after: str | None, limit: int, now: int) -> list[Position]:
        """Positions at a location by SKU, the first `limit` after SKU `after`."""
        with self._pooled() as cursor:
            sql, params = _select_positions(self.postgres, None, [location], after, limit)
            rows = _fetch(cursor, sql, params)
            return _complete(cursor, self.postgres, rows, now)[0]

    def oversold(self, location: str | None = None, now: int | None = None) -> list[Position]:
        """Positions oversold at `now` (at one location, or anywhere), by SKU and location:
        the members of the set appends keep (`adapters.db.oversold`), judged again at `now`
        (a primary-key or location-index read of a set that is small when all is well)."""
        instant = self.clock() if now is None else now
        sql = "SELECT sku, location FROM oversold_positions"
        params: list[Any] = []
        if location is not None:
            sql += f" WHERE location = {_marks(self.postgres, 1)}"
            params.append(location)
        with self._pooled() as cursor:
            keys = [(row.sku, row.location) for row in _fetch(cursor, sql, params)]
            if not keys:
                return []
            rows = _rows_by_keys(cursor, self.postgres, keys)
            found = _complete(cursor, self.postgres, rows, instant, _narrow(k[0] for k in keys))[0]
        return [position for position in found if position.oversold]

    def safety(
        self, connection: Connection, locations: Sequence[str], skus: Sequence[str] | None = None
    ) -> SafetyStock:
        """Safety stock at the locations (read on the caller's connection); with `skus`, only
        the rows that can apply to them."""
        with raw.driver_cursor(connection) as cursor:
            return _safety(cursor, self.postgres, locations, skus)

    # -- current stock, remembered: the availability hot path -------------------------------

    def current(
        self, skus: Sequence[str], locations: Sequence[str] | None, now: int, fill: bool = False
    ) -> dict[str, list[Position]]:
        """Each SKU's positions (at `locations`, else wherever one exists); with `fill` every
        SKU at every given location, zeros where none exists.  Answers are remembered until
        the database changes or a reservation among them expires."""
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
            fresh = self._read_current(missing, locations, now, fill)
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

    def _current_version(self) -> Any:
        """The database's change counter; clears what is remembered when it moved."""
        version = self._threads.version()
        if version != self._version:
            with self._lock:
                if version != self._version:
                    self._cache.clear()
                    self._version = version
        return version

    def _read_current(
        self, skus: Sequence[str], locations: Sequence[str] | None, now: int, fill: bool
    ) -> dict[str, tuple[list[Position], int]]:
        """Per SKU: its positions, and until when they hold."""
        also = locations if fill and locations else ()
        with self._threads.cursor() as cursor:
            rows = _rows_of_skus(cursor, self.postgres, skus, locations)
            found, until, safety = _complete(cursor, self.postgres, rows, now, None, also)
        by_sku: dict[str, list[Position]] = defaultdict(list)
        for position in found:
            by_sku[position.sku].append(position)
        if fill and locations:
            for sku in skus:
                have = {p.location for p in by_sku[sku]}
                by_sku[sku].extend(_empty(sku, loc, safety) for loc in locations if loc not in have)
        return {sku: (by_sku.get(sku, []), until.get(sku, FOREVER)) for sku in skus}

    # -- the past and the ledger ------------------------------------------------------------

    def as_of(self, sku: str, at: int, location: str | None = None) -> list[Position]:
        """Stock of a SKU at event time `at`, folded from the ledger (today's safety stock)."""
        e = t.events.c
        query = select(t.events).where(e.sku == sku, e.occurred_at <= at)
        if location is not None:
            query = query.where(or_(e.location == location, e.destination == location))
        with self.engines.read.connect() as connection:
            events = [row_event(row) for row in connection.execute(query)]
            positions = project(events, at=at)
            wanted = sorted(k for k in positions if location is None or k[1] == location)
            safety = self.safety(connection, sorted({k[1] for k in wanted}), [sku])
        return [
            Position(p.sku, p.location, p.on_hand, p.reserved, p.in_transit, safety.for_key(key))
            for key in wanted
            for p in [positions[key]]
        ]

    def history(
        self,
        sku: str | None = None,
        location: str | None = None,
        after: int = 0,
        limit: int = 100,
        by_event_time: bool = False,
        newest_first: bool = False,
    ) -> list[tuple[int, StockEvent]]:
        """Ledger lines in ledger order (position), paged by `after`; or, to explain a
        position to a person, the first `limit` lines in event-time order (with
        `newest_first`, the last `limit` lines, newest first)."""
        e = t.events.c
        query = select(t.events).limit(limit)
        if by_event_time and newest_first:
            query = query.order_by(e.occurred_at.desc(), e.position.desc())
        elif by_event_time:
            query = query.order_by(e.occurred_at, e.position)
        else:
            query = query.where(e.position > after).order_by(e.position)
        return self._lines(query, sku, location)

    def latest(self, sku: str, location: str, limit: int) -> list[StockEvent]:
        """The newest ledger lines (event time) that explain a position, newest first."""
        e = t.events.c
        query = select(t.events).order_by(e.occurred_at.desc(), e.position.desc()).limit(limit)
        return [event for _, event in self._lines(query, sku, location)]

    def _lines(
        self, query: Any, sku: str | None, location: str | None
    ) -> list[tuple[int, StockEvent]]:
        e = t.events.c
        if sku is not None:
            query = query.where(e.sku == sku)
        if location is not None:
            query = query.where(or_(e.location == location, e.destination == location))
        with self.engines.read.connect() as connection:
            return [(row.position, row_event(row)) for row in connection.execute(query)]

    def head(self) -> int:
        """The ledger's last position (0 when empty)."""
        with self.engines.read.connect() as connection:
            return int(
                connection.execute(
                    select(func.coalesce(func.max(t.events.c.position), 0))
                ).scalar_one()
            )

    def count_events(self) -> int:
        with self.engines.read.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(t.events)).scalar_one())

    def close(self) -> None:
        """Close the threads' own connections (a later read opens new ones)."""
        self._threads.close()
        with self._lock:
            self._cache.clear()
            self._version = None
