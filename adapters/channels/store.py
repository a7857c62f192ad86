"""The database side of the intake: SKU aliases, applying messages, dead letters, offsets.

Unlike the translators next to it, this module does I/O.  `apply_messages` is the heart of
exactly-once intake: the events of a batch, its dead letters and the next offset of every
partition it read are written in ONE ledger transaction, so after a crash the database says
exactly how far the intake got.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from sqlalchemy import Connection, select, update

from adapters.channels.common import ChannelSettings, SkuCatalog, TranslationError
from adapters.channels.formats import translate
from adapters.db import intake_tables as it
from adapters.db.database import Database
from adapters.db.ledger import chunks, dialect_insert
from inventory.events import StockEvent

# column names accepted by `inventory skus import` for each alias kind
IMPORT_COLUMNS = {
    "gtin": ("gtin", "barcode", "ean", "upc"),
    "variant": ("variant", "variant_id", "shop_variant_id"),
    "asin": ("asin",),
    "seller_sku": ("seller_sku", "seller-sku", "merchant_sku"),
}


# -- SKU aliases -----------------------------------------------------------------------------


def load_catalog(db: Database) -> SkuCatalog:
    catalog = SkuCatalog()
    with db.engines.read.connect() as connection:
        for row in connection.execute(select(it.sku_aliases)):
            catalog.aliases[(row.kind, row.value)] = row.sku
            catalog.skus.add(row.sku)
    return catalog


def import_skus(db: Database, stream: IO[str]) -> int:
    """Upsert aliases from a CSV with a `sku` column and any of gtin, variant_id, asin, seller_sku.

    Returns the number of alias rows written; a row without a SKU is refused with its line.
    """
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "sku" not in header:
        raise ValueError("header: a 'sku' column is required")
    reader.fieldnames = header
    rows: dict[tuple[str, str], str] = {}
    for line, raw in enumerate(reader, start=2):
        record = {k: (v or "").strip() for k, v in raw.items() if k}
        sku = record.get("sku", "")
        if not sku:
            raise ValueError(f"line {line}: sku is required")
        rows[("sku", sku)] = sku
        for kind, names in IMPORT_COLUMNS.items():
            for name in names:
                if record.get(name):
                    scratch = SkuCatalog()
                    scratch.add(kind, record[name], sku)
                    (key,) = scratch.aliases
                    rows[key] = sku
    values = [{"kind": k, "value": v, "sku": s} for (k, v), s in rows.items()]
    with db.engines.write.begin() as connection:
        statement = dialect_insert(connection, it.sku_aliases)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "value"], set_={"sku": statement.excluded.sku}
        )
        for part in chunks(values, 1000):
            connection.execute(statement, list(part))
    return len(values)


# -- applying messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One inbound message and where it came from (partition/offset -1 when not a topic)."""

    source: str
    partition: int
    offset: int
    format: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchReport:
    messages: int = 0
    accepted: int = 0
    duplicate: int = 0
    dead: list[tuple[Message, str]] = field(default_factory=list)


def fingerprint(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


class Translator:
    """Translates messages with a catalogue that reloads (at most every few seconds) on a miss."""

    def __init__(
        self, db: Database, settings: ChannelSettings | None = None, max_bytes: int = 1 << 20
    ) -> None:
        self.db = db
        self.settings = settings or ChannelSettings.from_env()
        self.max_bytes = max_bytes
        self.catalog = load_catalog(db)
        self.loaded_at = time.monotonic()

    def events(self, message: Message) -> list[StockEvent]:
        if len(message.payload) > self.max_bytes:
            raise TranslationError(
                "", f"message of {len(message.payload)} bytes exceeds the limit of {self.max_bytes}"
            )
        try:
            return translate(message.format, message.payload, self.catalog, self.settings)
        except TranslationError as error:
            if error.unknown_sku and time.monotonic() - self.loaded_at > 2.0:
                self.catalog = load_catalog(self.db)
                self.loaded_at = time.monotonic()
                return translate(message.format, message.payload, self.catalog, self.settings)
            raise


def apply_messages(
    db: Database,
    translator: Translator,
    messages: Sequence[Message],
    group: str | None = None,
    next_offsets: dict[tuple[str, int], int] | None = None,
) -> BatchReport:
    """Append the events of `messages`, record their dead letters and the partitions' offsets,
    all in one transaction."""
    report = BatchReport(messages=len(messages))
    owners: list[int] = []
    events: list[StockEvent] = []
    for index, message in enumerate(messages):
        try:
            found = translator.events(message)
        except TranslationError as error:
            report.dead.append((message, str(error)))
            continue
        events.extend(found)
        owners.extend([index] * len(found))
    with db.engines.write.begin() as connection:
        result = db.ledger.append_in(connection, events)
        conflicts: dict[int, list[str]] = {}
        for owner, outcome in zip(owners, result.outcomes, strict=True):
            if outcome.status == "accepted":
                report.accepted += 1
            elif outcome.status == "duplicate":
                report.duplicate += 1
            else:
                conflicts.setdefault(owner, []).append(f"{outcome.event_id}: {outcome.reason}")
        for owner, reasons in conflicts.items():
            report.dead.append((messages[owner], "event_id conflict: " + "; ".join(reasons)))
        record_dead_letters(connection, report.dead, db.ledger.clock())
        if group is not None and next_offsets:
            save_offsets(connection, group, next_offsets, db.ledger.clock())
    return report


def record_dead_letters(
    connection: Connection, dead: Iterable[tuple[Message, str]], now: int
) -> None:
    rows = [
        {
            "source": message.source,
            "partition": message.partition,
            "offset": message.offset,
            "format": message.format[:60],
            "fingerprint": fingerprint(message.payload),
            "reason": reason[:4000],
            "payload": message.payload,
            "headers": orjson.dumps(message.headers).decode(),
            "status": "open",
            "received_at": now,
        }
        for message, reason in dead
    ]
    if rows:
        statement = dialect_insert(connection, it.dead_letters).on_conflict_do_nothing(
            index_elements=["source", "partition", "offset", "fingerprint"]
        )
        connection.execute(statement, rows)


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


# -- dead letters ----------------------------------------------------------------------------


def list_dead_letters(db: Database, status: str | None = "open", limit: int = 100) -> list[Any]:
    c = it.dead_letters.c
    query = select(it.dead_letters).order_by(c.id).limit(limit)
    if status:
        query = query.where(c.status == status)
    with db.engines.read.connect() as connection:
        return list(connection.execute(query))


def retry_dead_letters(
    db: Database, translator: Translator, ids: Sequence[int] | None = None
) -> tuple[int, int]:
    """Re-drive open dead letters (all, or `ids`) through the current translators and catalogue.

    Returns (applied, still failing).  A letter is marked applied in the transaction that
    appends its events; one that fails again keeps its row with the new reason.
    """
    translator.catalog = load_catalog(db)
    rows = [r for r in list_dead_letters(db, "open", limit=1_000_000) if not ids or r.id in ids]
    applied = 0
    for row in rows:
        message = Message(
            row.source,
            row.partition,
            row.offset,
            row.format,
            bytes(row.payload),
            orjson.loads(row.headers or "{}"),
        )
        try:
            events = translator.events(message)
            _apply_retry(db, row.id, events)
            applied += 1
        except TranslationError as error:
            _note_failure(db, row.id, str(error))
    return applied, len(rows) - applied


class _Conflict(TranslationError):
    """Rolls back a retry whose events conflict with the ledger."""


def _apply_retry(db: Database, letter_id: int, events: list[StockEvent]) -> None:
    c = it.dead_letters.c
    with db.engines.write.begin() as connection:
        result = db.ledger.append_in(connection, events)
        bad = [o.event_id for o in result.outcomes if o.status not in ("accepted", "duplicate")]
        if bad:
            raise _Conflict("event_id", "conflict with the ledger: " + ", ".join(bad))
        connection.execute(
            update(it.dead_letters)
            .where(c.id == letter_id)
            .values(status="applied", retried_at=db.ledger.clock())
        )


def _note_failure(db: Database, letter_id: int, reason: str) -> None:
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


def decode_headers(raw: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in raw or []}
