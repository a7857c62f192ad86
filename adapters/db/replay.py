"""Rebuild the projection from the ledger, and verify the live projection against a replay.

The ledger is read in canonical order (`adapters.db.ledger_stream`) straight from the driver,
and folded in memory by the same domain code the live path uses; the tables are then replaced
in one transaction, so readers never see a half rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from adapters.db import oversold
from adapters.db import tables as t
from adapters.db.engine import Engines
from adapters.db.ledger import STOCK_EVENT_FIELDS, chunks, line_row, state_row
from adapters.db.ledger_stream import blocks, canonical_sql
from inventory.events import EventType, StockEvent
from inventory.projection import fold_sorted
from inventory.stock import Key, StockBook, earliest_expiry

Progress = Callable[[int], None]
_COLUMNS = (*STOCK_EVENT_FIELDS, "position")


@dataclass
class Replayed:
    book: StockBook
    last_positions: dict[Key, int]
    events: int


def replay(
    connection: Connection, progress: Progress | None = None, until: int | None = None
) -> Replayed:
    """Fold the ledger (events at or before event time `until`, if given) into a fresh book.

    Nothing is written.  Reservations in the book still carry their expiry: evaluate them at
    the instant wanted (see `Projection.position` / `ReservationLine.holds_at`).
    """
    last: dict[Key, int] = {}
    counter = [0]
    kinds = {kind.value: kind for kind in EventType}

    def stream() -> Iterator[StockEvent]:
        for rows in _canonical_rows(connection, until):
            for row in rows:
                event = StockEvent(row[0], kinds[row[1]], *row[2:12])
                position = row[12]
                key = (row[2], row[3])
                if position > last.get(key, 0):
                    last[key] = position
                if row[10] is not None:  # a transfer's destination
                    target = (row[2], row[10])
                    if position > last.get(target, 0):
                        last[target] = position
                yield event
            counter[0] += len(rows)
            if progress is not None:
                progress(len(rows))

    book = fold_sorted(stream())
    lines_by_key: dict[Key, list[Any]] = {}
    for (_, sku, location), line in book.lines.items():
        lines_by_key.setdefault((sku, location), []).append(line)
    for key, state in book.stock.items():
        state.reserved_expiry = earliest_expiry(lines_by_key.get(key, []))
    return Replayed(book, last, counter[0])


def _canonical_rows(connection: Connection, until: int | None) -> Iterator[list[tuple[Any, ...]]]:
    """Ledger rows in canonical order, in blocks (`ledger_stream.blocks`)."""
    params = (until,) if until is not None else ()
    return blocks(connection, canonical_sql(connection, _COLUMNS, until), params)


def rebuild(engines: Engines, progress: Progress | None = None) -> Replayed:
    """Replace the projection tables with a replay of the ledger, in one transaction."""
    with engines.write.begin() as connection:
        replayed = replay(connection, progress)
        for table in (t.positions, t.reservation_lines, t.transfer_legs):
            connection.execute(table.delete())
        book = replayed.book
        state_rows = [
            state_row(key, state, replayed.last_positions.get(key, 0))
            for key, state in book.stock.items()
        ]
        for part in chunks(state_rows, 5000):
            connection.execute(t.positions.insert(), list(part))
        line_rows = [line_row(key, line) for key, line in book.lines.items()]
        for part in chunks(line_rows, 5000):
            connection.execute(t.reservation_lines.insert(), list(part))
        leg_rows = [
            {
                "sku": k[0],
                "destination": k[1],
                "reference": k[2],
                "sent": leg.sent,
                "received": leg.received,
            }
            for k, leg in book.legs.items()
        ]
        for part in chunks(leg_rows, 5000):
            connection.execute(t.transfer_legs.insert(), list(part))
        oversold.rebuild(connection)
    return replayed


@dataclass(frozen=True)
class Difference:
    sku: str
    location: str
    live: tuple[int, int, int]
    replayed: tuple[int, int, int]


def verify(engines: Engines, progress: Progress | None = None) -> list[Difference]:
    """Compare the live projection with a replay of the ledger: (on_hand, in_transit, reserved).

    Reserved is compared without expiry: both sides hold the same lines, so equal totals of held
    stock mean equal availability at any instant.
    """
    with engines.read.connect() as connection:
        replayed = replay(connection, progress)
        c = t.positions.c
        live = {
            (row.sku, row.location): (row.on_hand, row.in_transit, row.reserved)
            for row in connection.execute(
                select(c.sku, c.location, c.on_hand, c.in_transit, c.reserved)
            )
        }
        held = _held_by_key(connection)
    differences = []
    zero = (0, 0, 0)
    for key in sorted(set(live) | set(replayed.book.stock)):
        state = replayed.book.stock.get(key)
        ours = zero if state is None else (state.on_hand, state.in_transit, state.reserved)
        theirs = live.get(key, zero)
        if ours != theirs or held.get(key, 0) != ours[2]:
            differences.append(Difference(key[0], key[1], theirs, ours))
    return differences


def _held_by_key(connection: Connection) -> dict[Key, int]:
    c = t.reservation_lines.c
    query = select(c.sku, c.location, func.sum(c.held)).group_by(c.sku, c.location)
    return {(sku, location): int(total) for sku, location, total in connection.execute(query)}
