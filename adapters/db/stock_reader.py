"""Reads of current and past stock, and of the ledger itself.

Current stock comes from the projection tables; reserved is exact at the moment of reading
(expired reservations stop counting at once, before any release is written).  Past stock
(`as_of`) is folded from the ledger itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, or_, select

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.engine import Engines
from adapters.db.ledger import CHUNK, Clock, chunks, row_event, wall_clock
from inventory.events import StockEvent
from inventory.projection import Position, SafetyStock, project
from inventory.stock import Key

_READ_COLUMNS = ("sku", "location", "on_hand", "in_transit", "reserved", "reserved_expiry")


class _PositionRow(NamedTuple):
    sku: str
    location: str
    on_hand: int
    in_transit: int
    reserved: int
    reserved_expiry: int | None


class StockReader:
    def __init__(self, engines: Engines, clock: Clock = wall_clock) -> None:
        self.engines = engines
        self.clock = clock

    # -- current stock ------------------------------------------------------------------------

    def positions(
        self,
        keys: Sequence[Key] | None = None,
        sku: str | None = None,
        location: str | None = None,
        now: int | None = None,
    ) -> list[Position]:
        """Positions by exact keys, or every position of a SKU and/or location."""
        instant = self.clock() if now is None else now
        with self.engines.read.connect() as connection:
            if keys is not None:
                return self.positions_in(connection, keys, instant)
            rows = self._rows(connection, None, sku, location)
            return self.to_positions(connection, rows, instant)

    def positions_in(self, connection: Connection, keys: Sequence[Key], now: int) -> list[Position]:
        """Positions of exact keys read on the caller's connection (e.g. a writer inside its
        locks); safety stock is read for those SKUs only."""
        rows = self._rows(connection, keys, None, None)
        skus = sorted({key[0] for key in keys})
        return self.to_positions(connection, rows, now, skus if len(skus) <= CHUNK else None)

    def position(self, sku: str, location: str, now: int | None = None) -> Position:
        found = self.positions([(sku, location)], now=now)
        if found:
            return found[0]
        return self.to_positions_empty(sku, location)

    def to_positions_empty(self, sku: str, location: str) -> Position:
        with self.engines.read.connect() as connection:
            safety = self.safety(connection, [location])
        return Position(sku, location, 0, 0, 0, safety.for_key((sku, location)))

    def _rows(
        self,
        connection: Connection,
        keys: Sequence[Key] | None,
        sku: str | None,
        location: str | None,
    ) -> list[Any]:
        c = t.positions.c
        columns = [c.sku, c.location, c.on_hand, c.in_transit, c.reserved, c.reserved_expiry]
        if keys is not None:
            unique = list(dict.fromkeys(keys))
            found = raw.rows_by_keys(
                connection, t.positions, ("sku", "location"), unique, _READ_COLUMNS
            )
            return sorted((_PositionRow(*row) for row in found), key=lambda r: (r.sku, r.location))
        query = select(*columns).order_by(c.sku, c.location)
        if sku is not None:
            query = query.where(c.sku == sku)
        if location is not None:
            query = query.where(c.location == location)
        return list(connection.execute(query))

    def to_positions(
        self, connection: Connection, rows: list[Any], now: int, skus: list[str] | None = None
    ) -> list[Position]:
        stale = [
            (r.sku, r.location)
            for r in rows
            if r.reserved_expiry is not None and r.reserved_expiry <= now
        ]
        live = self.reserved_at(connection, stale, now) if stale else {}
        safety = self.safety(connection, sorted({row.location for row in rows}), skus)
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

    def reserved_at(self, connection: Connection, keys: list[Key], now: int) -> dict[Key, int]:
        """Stock held by unexpired reservation lines, for keys whose expiry bound has passed."""
        found: dict[Key, int] = dict.fromkeys(keys, 0)
        rows = raw.rows_by_keys(
            connection,
            t.reservation_lines,
            ("sku", "location"),
            keys,
            ("sku", "location", "held", "expires_at", "never_expires"),
            where="t.held > 0",
        )
        for sku, location, held, expires_at, never_expires in rows:
            if never_expires or expires_at is None or expires_at > now:
                found[(sku, location)] += int(held)
        return found

    def safety(
        self, connection: Connection, locations: Sequence[str], skus: Sequence[str] | None = None
    ) -> SafetyStock:
        """Safety stock at the locations; with `skus`, only the rows that can apply to them."""
        per_location: dict[str, int] = {}
        per_item: dict[Key, int] = {}
        only = [] if skus is None else ["", *skus]
        for part in chunks(list(locations), CHUNK):
            sql = (
                "SELECT location, sku, quantity FROM safety_stock "
                f"WHERE location IN ({raw.placeholders(connection, len(part))})"
            )
            if only:
                sql += f" AND sku IN ({raw.placeholders(connection, len(only))})"
            for location, sku, quantity in raw.fetch(connection, sql, [*part, *only]):
                if sku == "":
                    per_location[location] = int(quantity)
                else:
                    per_item[(sku, location)] = int(quantity)
        return SafetyStock(per_location, per_item)

    # -- the past -----------------------------------------------------------------------------

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
            safety = self.safety(connection, sorted({k[1] for k in wanted}))
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
    ) -> list[tuple[int, StockEvent]]:
        """Ledger lines in ledger order (position), paged by `after`; or, to explain a
        position to a person, the first `limit` lines in event-time order."""
        e = t.events.c
        query = select(t.events).limit(limit)
        if by_event_time:
            query = query.order_by(e.occurred_at, e.position)
        else:
            query = query.where(e.position > after).order_by(e.position)
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
