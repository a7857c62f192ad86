"""Oversold positions: the set every append keeps, so a crossing is told exactly once.

A position is oversold when `inventory.projection.is_oversold` says so of its on hand and
what its reservations hold.  Each append judges the positions it changed (inside its
transaction, their rows locked) against the `oversold_positions` set: a position entering the
set became oversold, one leaving it stopped being.  `AppendResult.oversold` carries those
crossings to the listeners that run after (the outbox writes them to the feed).

Holds only lapse between appends (they never grow without one), so the set is a superset of
the positions oversold now; reads (`StockReads.oversold`) judge its members again at the
instant of reading.  A position whose holds lapsed leaves the set at its next append (the
sweeper's release, at the latest).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.ledger import chunks
from inventory.ledger import AppendResult
from inventory.projection import is_oversold
from inventory.stock import Key, has_expired

COLUMNS = ("sku", "location", "since_position")


class OversoldWatch:
    """Append listener: keeps the set and fills `AppendResult.oversold`.  Registered on every
    database's recorder before any other listener (see `Database`)."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __call__(self, connection: Connection, result: AppendResult) -> None:
        if result.changed:
            result.oversold = watch(connection, self.db.reader, result, self.db.ledger.clock())


def watch(connection: Connection, reads: Any, result: AppendResult, now: int) -> dict[Key, bool]:
    """Judge the positions `result` changed at `now`; update the set; return the crossings."""
    over: dict[Key, int] = {}  # oversold now -> the ledger position that made it so
    fine: list[Key] = []
    unsure: list[Key] = []
    for key in sorted(result.changed):
        stored = result.states.get(key)
        if stored is None:  # a recorder that did not say: read it
            unsure.append(key)
            continue
        state, last = stored
        # the stored figure holds every line, lapsed or not: what is held now is no more
        if not is_oversold(state.on_hand, state.reserved):
            fine.append(key)
        elif not has_expired(state.reserved_expiry, now) or is_oversold(state.on_hand, 0):
            over[key] = last
        else:
            unsure.append(key)
    if unsure:  # some of its holds lapsed: read what is held at `now`
        for position, last in reads.stamped_in(connection, unsure, now):
            key = (position.sku, position.location)
            if position.oversold:
                over[key] = last
            else:
                fine.append(key)
    crossed = dict.fromkeys(_enter(connection, over), True)
    crossed.update(dict.fromkeys(_leave(connection, fine), False))
    return crossed


def _enter(connection: Connection, over: dict[Key, int]) -> list[Key]:
    """Add positions to the set; those not in it before."""
    rows = [(sku, location, last) for (sku, location), last in sorted(over.items())]
    added = raw.insert_rows(
        connection,
        t.oversold_positions,
        COLUMNS,
        rows,
        "ON CONFLICT (sku, location) DO NOTHING",
        returning="sku, location",
    )
    return [(sku, location) for sku, location in added]


def _leave(connection: Connection, keys: list[Key]) -> list[Key]:
    """Take positions out of the set; those that were in it."""
    removed: list[Key] = []
    for part in chunks(keys):
        where, params = raw.key_filter(connection, t.oversold_positions, ("sku", "location"), part)
        sql = f"DELETE FROM oversold_positions WHERE {where} RETURNING sku, location"
        removed.extend((sku, location) for sku, location in raw.fetch(connection, sql, params))
    return removed


def rebuild(connection: Connection) -> None:
    """The set from the projection tables as they stand (after a replay)."""
    connection.execute(t.oversold_positions.delete())
    connection.execute(
        text(
            "INSERT INTO oversold_positions (sku, location, since_position) "
            "SELECT sku, location, last_position FROM positions WHERE reserved > on_hand"
        )
    )
