"""The ledger read in canonical order, streamed: the replay folds it whole, reconciliation key by
key.

`canonical_order` is `inventory.events.CANONICAL_ORDER` as SQL: event time; at one instant
deltas before counts; then event_id, compared by code point as Python compares strings (byte
order, which SQLite's BINARY and PostgreSQL's "C" collation both give).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

from adapters.db import raw
from adapters.db.engine import Engines
from adapters.db.ledger import STOCK_EVENT_FIELDS
from inventory.events import CANONICAL_ORDER, EventType, StockEvent
from inventory.stock import Key

Progress = Callable[[int], None]
BLOCK = 20_000
LOCATION_FILTER_LIMIT = 1000  # larger scopes are filtered in Python, not in an IN list
_TYPES = {kind.value: kind for kind in EventType}


def canonical_order(postgres: bool) -> str:
    """The ORDER BY terms of the canonical order, for a query over `events`."""
    terms = {
        "occurred_at": "occurred_at",
        "is_count": f"CASE WHEN type = '{EventType.COUNT.value}' THEN 1 ELSE 0 END",
        "event_id": 'event_id COLLATE "C"' if postgres else "event_id",
    }
    return ", ".join(terms[name] for name in CANONICAL_ORDER)


def blocks(
    connection: Connection, sql: str, params: Sequence[Any], named: bool = False
) -> Iterator[list[Any]]:
    """The rows of a large query in blocks, straight from the driver (a server-side cursor on
    PostgreSQL, so a large ledger is never held in memory whole): driver rows, or with `named`
    rows read by column name (`raw.named`)."""
    dbapi: Any = connection.connection
    if raw.is_postgres(connection):
        cursor = dbapi.driver_connection.cursor(name=f"ledger_{secrets.token_hex(4)}")
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(sql, tuple(params))
        while True:
            rows = cursor.fetchmany(BLOCK)
            if not rows:
                break
            yield raw.named(cursor, rows) if named else rows
    finally:
        cursor.close()


def canonical_sql(connection: Connection, columns: Sequence[str], until: int | None) -> str:
    """Ledger `columns` (at or before `until`, if given) in canonical order."""
    return (
        f"SELECT {', '.join(columns)} FROM events"
        + (f" WHERE occurred_at <= {raw.mark(connection)}" if until is not None else "")
        + f" ORDER BY {canonical_order(raw.is_postgres(connection))}"
    )


def event_of(row: Any) -> StockEvent:
    """A ledger row read by column name (the columns of `STOCK_EVENT_FIELDS`) as an event."""
    fields = {name: getattr(row, name) for name in STOCK_EVENT_FIELDS}
    fields["type"] = _TYPES[fields["type"]]
    return StockEvent(**fields)


def keyed_events(
    engines: Engines,
    until: int,
    locations: set[str] | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[Key, list[StockEvent]]]:
    """Each key's events at or before `until` (at `locations`, if given), in canonical order,
    key after key, streamed."""
    in_python = locations is not None and len(locations) > LOCATION_FILTER_LIMIT
    with engines.read.begin() as connection:
        mark = raw.mark(connection)
        params: list[Any] = [until]
        sql = f"SELECT {', '.join(STOCK_EVENT_FIELDS)} FROM events WHERE occurred_at <= {mark}"
        if locations is not None and not in_python:
            chosen = sorted(locations)
            sql += f" AND location IN ({raw.placeholders(connection, len(chosen))})"
            params.extend(chosen)
        sql += f" ORDER BY sku, location, {canonical_order(raw.is_postgres(connection))}"
        current: Key | None = None
        batch: list[StockEvent] = []
        for rows in blocks(connection, sql, params, named=True):
            if progress is not None:
                progress(len(rows))
            for row in rows:
                if in_python and row.location not in locations:  # type: ignore[operator]
                    continue
                key = (row.sku, row.location)
                if key != current:
                    if batch:
                        yield current, batch  # type: ignore[misc]
                    current, batch = key, []
                batch.append(event_of(row))
        if batch:
            yield current, batch  # type: ignore[misc]
