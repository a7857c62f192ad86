"""Store point-of-sale lines: sales and returns, as JSON or CSV.

A line names the store, the till, the receipt number, the barcode, the quantity (negative, or
`type` "return", for a return) and the time.  The event id is store + till + receipt + line
number (the `line` column, else the line's place within its receipt in this message), so a
re-sent receipt or a re-read file is a duplicate.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from adapters.channels.common import (
    SkuCatalog,
    TranslationError,
    ident,
    instant,
    make_event,
    need,
    quantity,
    row_path,
    rows_of,
)
from inventory.events import StockEvent

CHANNEL = "store"
COLUMNS = ("store", "till", "receipt", "barcode", "qty", "time")


def translate(body: bytes, catalog: SkuCatalog) -> list[StockEvent]:
    rows, prefix = rows_of(body, COLUMNS)
    ordinal: dict[tuple[str, str, str], int] = defaultdict(int)
    events = []
    for index, row in enumerate(rows):
        path = row_path(prefix, index)
        events.append(_line(row, path, catalog, ordinal))
    return events


def _line(
    row: dict[str, Any], path: str, catalog: SkuCatalog, ordinal: dict[tuple[str, str, str], int]
) -> StockEvent:
    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    store, till = ident(row, "store", path), ident(row, "till", path)
    receipt = ident(row, "receipt", path)
    ordinal[(store, till, receipt)] += 1
    line = str(row.get("line") or ordinal[(store, till, receipt)])
    sku = catalog.resolve(at("barcode"), ("gtin", need(row, "barcode", path)))
    qty = quantity(need(row, "qty", path), at("qty"), allow_negative=True)
    kind = str(row.get("type") or ("return" if qty < 0 else "sale")).lower()
    if kind not in ("sale", "return"):
        raise TranslationError(at("type"), "must be sale or return")
    return make_event(
        event_id=f"pos:{store}:{till}:{receipt}:{line}",
        type=kind,
        sku=sku,
        location=store,
        quantity=abs(qty),
        occurred_at=instant(need(row, "time", path), at("time")),
        channel=CHANNEL,
        reference=f"{till}/{receipt}",
    )
