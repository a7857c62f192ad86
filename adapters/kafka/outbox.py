"""The availability feed: an outbox written inside the ledger transaction, and its relay.

The listener runs inside every ledger append, so an `availability_changed` row exists exactly
when the change it reports has committed.  The relay publishes rows in order and deletes them
once the broker has acknowledged them: a broker outage delays the feed, loses nothing.
Delivery is at least once; subscribers keep, per (sku, location), the message with the
highest `ledger_position`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, delete, select

from adapters.db import intake_tables as it
from adapters.db import raw
from adapters.db import tables as t
from adapters.db.ledger import AppendResult, chunks
from inventory.events import format_instant

ENV_FLAG = "INVENTORY_OUTBOX"
ENV_BOOTSTRAP = "INVENTORY_KAFKA_BOOTSTRAP"
DEFAULT_TOPIC = "inventory.availability"


def outbox_enabled(env: Mapping[str, str] | None = None) -> bool:
    """On when INVENTORY_OUTBOX=1, or when a Kafka bootstrap is configured (and not OUTBOX=0)."""
    source = os.environ if env is None else env
    flag = source.get(ENV_FLAG, "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or bool(source.get(ENV_BOOTSTRAP))


def attach_outbox(db: Any, env: Mapping[str, str] | None = None) -> bool:
    """Register the outbox listener on `db.ledger` when configured; True when attached."""
    if not outbox_enabled(env):
        return False
    listener = OutboxListener(db)
    if not any(isinstance(x, OutboxListener) for x in db.ledger.listeners):
        db.ledger.listeners.append(listener)
    return True


_COLUMNS = (
    "sku",
    "location",
    "on_hand",
    "in_transit",
    "reserved",
    "reserved_expiry",
    "last_position",
)


class _Row(NamedTuple):
    sku: str
    location: str
    on_hand: int
    in_transit: int
    reserved: int
    reserved_expiry: int | None
    last_position: int


class OutboxListener:
    """Writes one outbox row per position whose stock a ledger append changed."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __call__(self, connection: Connection, result: AppendResult) -> None:
        if not result.changed:
            return
        now = self.db.ledger.clock()
        rows = []
        for part in chunks(sorted(result.changed)):
            found = [
                _Row(*row)
                for row in raw.rows_by_keys(
                    connection, t.positions, ("sku", "location"), list(part), _COLUMNS
                )
            ]
            last = {(r.sku, r.location): r.last_position for r in found}
            for position in self.db.reader.to_positions(connection, found, now):
                rows.append(
                    {
                        "sku": position.sku,
                        "location": position.location,
                        "available": position.available,
                        "on_hand": position.on_hand,
                        "reserved": position.reserved,
                        "ledger_position": last[(position.sku, position.location)],
                        "created_at": now,
                    }
                )
        if rows:
            connection.execute(it.outbox.insert(), rows)


def message(row: Any) -> dict[str, Any]:
    return {
        "type": "availability_changed",
        "sku": row.sku,
        "location": row.location,
        "available": row.available,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "ledger_position": row.ledger_position,
        "at": format_instant(row.created_at),
    }


def relay_once(db: Any, producer: Any, topic: str = DEFAULT_TOPIC, limit: int = 1000) -> int:
    """Publish up to `limit` outbox rows in order; delete them once acknowledged."""
    c = it.outbox.c
    with db.engines.read.connect() as connection:
        rows = list(connection.execute(select(it.outbox).order_by(c.id).limit(limit)))
    if not rows:
        return 0
    futures = [
        producer.send(
            topic,
            key=f"{row.sku}@{row.location}".encode(),
            value=orjson.dumps(message(row)),
        )
        for row in rows
    ]
    producer.flush()
    for future in futures:
        future.get(timeout=30)  # raises if the broker refused one: nothing is deleted
    with db.engines.write.begin() as connection:
        for part in chunks([row.id for row in rows]):
            connection.execute(delete(it.outbox).where(c.id.in_(part)))
    return len(rows)
