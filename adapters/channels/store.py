"""Intake of channel messages: SKU aliases, translating and applying messages, dead letters.

`apply_messages` is the heart of exactly-once intake: it translates a batch of messages and
hands them to the ingest use case (`inventory.services.ingest.receive`), which writes the
events, the dead letters and the next offset of every partition read in ONE transaction, so
after a crash the database says exactly how far the intake got.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import IO

from adapters.channels.common import ChannelSettings, SkuCatalog, Translation, TranslationError
from adapters.channels.formats import read
from adapters.db import intake_log
from adapters.db.database import Database
from adapters.db.intake_log import (  # noqa: F401  (the intake's read side, re-exported)
    fingerprint,
    list_dead_letters,
    load_offsets,
    mark_published,
    unpublished_dead_letters,
)
from inventory.events import StockEvent
from inventory.ports import Message
from inventory.services.ingest import ReceiveReport, Translated, receive, redrive

BatchReport = ReceiveReport

# column names accepted by `inventory skus import` for each alias kind
IMPORT_COLUMNS = {
    "gtin": ("gtin", "barcode", "ean", "upc"),
    "variant": ("variant", "variant_id", "shop_variant_id"),
    "asin": ("asin",),
    "seller_sku": ("seller_sku", "seller-sku", "merchant_sku"),
    "inventory_item": ("inventory_item_id", "shopify_inventory_item_id"),
    "square": ("square_variation_id", "catalog_object_id"),
    "woocommerce": ("woocommerce_id", "woocommerce_product_id"),
    "shiphero": ("shiphero_sku",),
}


# -- SKU aliases -----------------------------------------------------------------------------


def load_catalog(db: Database) -> SkuCatalog:
    catalog = SkuCatalog()
    for kind, value, sku in intake_log.alias_rows(db):
        catalog.aliases[(kind, value)] = sku
        catalog.skus.add(sku)
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
    intake_log.save_aliases(db, rows)
    return len(rows)


# -- applying messages -----------------------------------------------------------------------


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

    def read(self, message: Message) -> Translation:
        if len(message.payload) > self.max_bytes:
            raise TranslationError(
                "", f"message of {len(message.payload)} bytes exceeds the limit of {self.max_bytes}"
            )
        try:
            return self._read(message)
        except TranslationError as error:
            if error.unknown_sku and time.monotonic() - self.loaded_at > 2.0:
                self.catalog = load_catalog(self.db)
                self.loaded_at = time.monotonic()
                return self._read(message)
            raise

    def _read(self, message: Message) -> Translation:
        return read(message.format, message.payload, self.catalog, self.settings, message.headers)

    def events(self, message: Message) -> list[StockEvent]:
        return self.read(message).events

    def translated(self, message: Message) -> Translated:
        return self.translate_all([message])[0]

    def translate_all(self, messages: Sequence[Message]) -> list[Translated]:
        """Each message's translation; events timed by their delivery take the time their
        event id already has (in the ledger, or earlier in `messages`), so a redelivery is a
        duplicate rather than a conflict."""
        found: list[Translation | Translated] = []
        for message in messages:
            try:
                found.append(self.read(message))
            except TranslationError as error:
                found.append(Translated(message, error=str(error)))
            except Exception as error:  # a translator's bug must not stop the intake
                found.append(
                    Translated(
                        message, error=f"could not translate: {type(error).__name__}: {error}"
                    )
                )
        timed = {i for item in found if isinstance(item, Translation) for i in item.delivery_timed}
        first = intake_log.recorded_times(self.db, timed) if timed else {}
        return [
            item
            if isinstance(item, Translated)
            else Translated(
                message,
                _first_times(item, first),
                orders=item.orders,
                notes=item.notes,
            )
            for message, item in zip(messages, found, strict=True)
        ]


def apply_messages(
    db: Database,
    translator: Translator,
    messages: Sequence[Message],
    group: str | None = None,
    next_offsets: dict[tuple[str, int], int] | None = None,
) -> BatchReport:
    """Append the events of `messages`, record their dead letters and the partitions' offsets,
    all in one transaction."""
    batch = translator.translate_all(messages)
    return receive(db.unit_of_work, batch, group, next_offsets)


def _first_times(found: Translation, first: dict[str, int]) -> list[StockEvent]:
    """`found`'s events, those timed by their delivery at their id's first time (recorded in
    `first`, which learns the ids it did not hold)."""
    if not found.delivery_timed:
        return found.events
    events = []
    for event in found.events:
        if event.event_id in found.delivery_timed:
            at = first.setdefault(event.event_id, event.occurred_at)
            if at != event.occurred_at:
                event = replace(event, occurred_at=at)
        events.append(event)
    return events


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
        item = translator.translated(intake_log.letter_message(row))
        if item.error is not None:
            intake_log.note_failure(db, row.id, item.error)
            continue
        problem = redrive(db.unit_of_work, row.id, item)
        if problem is None:
            applied += 1
        else:
            intake_log.note_failure(db, row.id, problem)
    return applied, len(rows) - applied


def decode_headers(raw: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode("utf-8", "replace") for k, v in raw or []}
