"""The intake's own tables: SKU aliases, dead letters and each consumer group's offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from adapters.channels.common import RECEIVED_AT
from adapters.db import intake_tables as it
from adapters.db import tables as t
from adapters.db.database import Database
from adapters.db.ledger import chunks, dialect_insert
from inventory.events import format_instant
from inventory.ports import DeadLetter, Message
from inventory.services.ingest import storable

# -- SKU aliases -----------------------------------------------------------------------------


def alias_rows(db: Database) -> list[tuple[str, str, str]]:
    """Every alias as (kind, value, sku)."""
    c = it.sku_aliases.c
    with db.engines.read.connect() as connection:
        return [
            (r.kind, r.value, r.sku) for r in connection.execute(select(c.kind, c.value, c.sku))
        ]


def save_aliases(db: Database, rows: dict[tuple[str, str], str]) -> None:
    """Upsert (kind, value) -> sku, all in one transaction."""
    values = [{"kind": k, "value": v, "sku": s} for (k, v), s in rows.items()]
    with db.engines.write.begin() as connection:
        statement = dialect_insert(connection, it.sku_aliases)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "value"], set_={"sku": statement.excluded.sku}
        )
        for part in chunks(values, 1000):
            connection.execute(statement, list(part))


# -- the ledger as the intake reads it ---------------------------------------------------------


def recorded_times(db: Database, event_ids: Iterable[str]) -> dict[str, int]:
    """event_id -> occurred_at of the events among `event_ids` the ledger already holds."""
    c = t.events.c
    found: dict[str, int] = {}
    with db.engines.read.connect() as connection:
        for part in chunks(sorted(set(event_ids)), 500):
            query = select(c.event_id, c.occurred_at).where(c.event_id.in_(list(part)))
            found.update((row.event_id, int(row.occurred_at)) for row in connection.execute(query))
    return found


# -- dead letters ----------------------------------------------------------------------------


def fingerprint(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def record_dead_letters(connection: Connection, letters: Iterable[DeadLetter], now: int) -> None:
    rows = [
        {
            "source": storable(letter.message.source)[:200],
            "partition": letter.message.partition,
            "offset": letter.message.offset,
            "format": storable(letter.message.format)[:60],
            "fingerprint": fingerprint(letter.message.payload),
            "reason": storable(letter.reason)[:4000],
            "payload": letter.message.payload,
            "headers": orjson.dumps(
                {storable(k): storable(v) for k, v in letter.message.headers.items()}
            ).decode(),
            "status": "open",
            "received_at": now,
        }
        for letter in letters
    ]
    if rows:
        statement = dialect_insert(connection, it.dead_letters).on_conflict_do_nothing(
            index_elements=["source", "partition", "offset", "format", "fingerprint"]
        )
        connection.execute(statement, rows)


def list_dead_letters(db: Database, status: str | None = "open", limit: int = 100) -> list[Any]:
    c = it.dead_letters.c
    query = select(it.dead_letters).order_by(c.id).limit(limit)
    if status:
        query = query.where(c.status == status)
    with db.engines.read.connect() as connection:
        return list(connection.execute(query))


def letter_message(row: Any) -> Message:
    """The message a dead letter keeps, as it arrived (stamped with its arrival if it was not:
    the letter's own record of it)."""
    headers = orjson.loads(row.headers or "{}")
    headers.setdefault(RECEIVED_AT, format_instant(int(row.received_at)))
    return Message(row.source, row.partition, row.offset, row.format, bytes(row.payload), headers)


def mark_applied(connection: Connection, letter_id: int, now: int) -> None:
    c = it.dead_letters.c
    connection.execute(
        update(it.dead_letters).where(c.id == letter_id).values(status="applied", retried_at=now)
    )


def note_failure(db: Database, letter_id: int, reason: str) -> None:
    c = it.dead_letters.c
    with db.engines.write.begin() as connection:
        connection.execute(
            update(it.dead_letters)
            .where(c.id == letter_id)
            .values(reason=reason[:4000], retried_at=db.ledger.clock())
        )


def unpublished_dead_letters(db: Database, limit: int = 500) -> list[Any]:
    c = it.dead_letters.c
    query = select(it.dead_letters).where(c.published_at.is_(None)).order_by(c.id).limit(limit)
    with db.engines.read.connect() as connection:
        return list(connection.execute(query))


def mark_published(db: Database, ids: Sequence[int]) -> None:
    c = it.dead_letters.c
    with db.engines.write.begin() as connection:
        for part in chunks(list(ids)):
            connection.execute(
                update(it.dead_letters).where(c.id.in_(part)).values(published_at=db.ledger.clock())
            )


# -- offsets ---------------------------------------------------------------------------------


def save_offsets(
    connection: Connection, group: str, next_offsets: dict[tuple[str, int], int], now: int
) -> None:
    rows = [
        {
            "consumer_group": group,
            "topic": topic,
            "partition": partition,
            "next_offset": offset,
            "updated_at": now,
        }
        for (topic, partition), offset in next_offsets.items()
    ]
    statement = dialect_insert(connection, it.intake_offsets)
    statement = statement.on_conflict_do_update(
        index_elements=["consumer_group", "topic", "partition"],
        set_={"next_offset": statement.excluded.next_offset, "updated_at": now},
    )
    connection.execute(statement, rows)


def load_offsets(db: Database, group: str) -> dict[tuple[str, int], int]:
    c = it.intake_offsets.c
    with db.engines.read.connect() as connection:
        query = select(c.topic, c.partition, c.next_offset).where(c.consumer_group == group)
        return {(r.topic, r.partition): r.next_offset for r in connection.execute(query)}
