"""The availability feed: an outbox written inside the ledger transaction, and its relay.

The listener runs inside every ledger append, so an `availability_changed` row exists exactly
when the change it reports has committed.  The relay publishes rows in order and deletes them
once the broker has acknowledged them: a broker outage delays the feed, loses nothing.
Delivery is at least once; subscribers keep, per (sku, location), the message with the
highest `ledger_position`.

Beside it, `{"type": "oversold", "oversold": true, ...}` follows the `availability_changed` of
the append that made a position oversold (`inventory.projection.is_oversold`), and
`"oversold": false` the one that ended it: once per crossing (`adapters.db.oversold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection

from adapters.db import outbox
from adapters.db.ledger import AppendResult
from inventory.events import format_instant

ENV_FLAG = "INVENTORY_OUTBOX"
ENV_BOOTSTRAP = "INVENTORY_KAFKA_BOOTSTRAP"
DEFAULT_TOPIC = "inventory.availability"


def outbox_enabled(env: Mapping[str, str] | None = None) -> bool:
    """On when INVENTORY_OUTBOX=1, or when a Kafka bootstrap is configured (and not OUTBOX=0)."""
    from adapters.config import env_settings

    source = env_settings(env)
    flag = (source.outbox or "").strip().lower()
    if flag in ("0", "false", "no", "off"):
        return False
    return flag in ("1", "true", "yes", "on") or bool(source.kafka_bootstrap)


def attach_outbox(db: Any, env: Mapping[str, str] | None = None) -> bool:
    """Register the outbox listener on `db.ledger` when configured; True when attached."""
    if not outbox_enabled(env):
        return False
    listener = OutboxListener(db)
    if not any(isinstance(x, OutboxListener) for x in db.ledger.listeners):
        db.ledger.listeners.append(listener)
    return True


class OutboxListener:
    """Writes one outbox row per position whose stock a ledger append changed."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __call__(self, connection: Connection, result: AppendResult) -> None:
        if result.changed:
            outbox.record_changes(
                connection, self.db.reader, result.changed, self.db.ledger.clock(), result.oversold
            )


def message(row: Any) -> dict[str, Any]:
    body = {
        "type": row.kind,
        "sku": row.sku,
        "location": row.location,
        "available": row.available,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "ledger_position": row.ledger_position,
        "at": format_instant(row.created_at),
    }
    if row.kind == outbox.OVERSOLD:
        body["oversold"] = bool(row.oversold)
    return body


def relay_once(db: Any, producer: Any, topic: str = DEFAULT_TOPIC, limit: int = 1000) -> int:
    """Publish up to `limit` outbox rows in order; delete them once acknowledged."""
    rows = outbox.pending(db.engines, limit)
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
    outbox.remove(db.engines, [row.id for row in rows])
    return len(rows)
