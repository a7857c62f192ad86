"""The outbox table: availability changes written inside the ledger transaction, read in order
by the relay and deleted once published."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select

from adapters.db import intake_tables as it
from adapters.db import raw
from adapters.db.engine import Engines
from adapters.db.ledger import chunks
from adapters.db.stock_reads import StockReads
from inventory.stock import Key

AVAILABILITY_CHANGED = "availability_changed"
OVERSOLD = "oversold"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    sku: str
    location: str
    available: int
    on_hand: int
    reserved: int
    ledger_position: int
    created_at: int
    kind: str = AVAILABILITY_CHANGED
    oversold: bool | None = None


def record_changes(
    connection: Connection,
    reads: StockReads,
    keys: Iterable[Key],
    now: int,
    crossed: Mapping[Key, bool] | None = None,
) -> int:
    """One row per changed position, as it stands at `now` inside the writer's transaction,
    and one more for each position that `crossed` the oversold line (True: it became
    oversold; False: it stopped being); returns how many were written."""
    rows: list[dict[str, Any]] = []
    crossings: list[dict[str, Any]] = []
    crossed = crossed or {}
    for part in chunks(sorted(keys)):
        for position, last in reads.stamped_in(connection, part, now):
            row = {
                "sku": position.sku,
                "location": position.location,
                "available": position.available,
                "on_hand": position.on_hand,
                "reserved": position.reserved,
                "ledger_position": last,
                "created_at": now,
                "kind": AVAILABILITY_CHANGED,
                "oversold": None,
            }
            rows.append(row)
            way = crossed.get((position.sku, position.location))
            if way is not None:
                crossings.append({**row, "kind": OVERSOLD, "oversold": way})
    rows.extend(crossings)
    if rows:
        connection.execute(it.outbox.insert(), rows)
    return len(rows)


def pending(engines: Engines, limit: int) -> list[OutboxRow]:
    """The oldest `limit` rows not yet published, in order."""
    query = select(it.outbox).order_by(it.outbox.c.id).limit(limit)
    with engines.read.connect() as connection:
        return [raw.record(OutboxRow, row) for row in connection.execute(query)]


def remove(engines: Engines, ids: Sequence[int]) -> None:
    """Delete published rows."""
    with engines.write.begin() as connection:
        for part in chunks(list(ids)):
            connection.execute(delete(it.outbox).where(it.outbox.c.id.in_(part)))
