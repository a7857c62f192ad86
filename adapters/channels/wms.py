"""Warehouse management system messages: receipts, transfers and full stock snapshots.

Rows come as CSV (a header line) or JSON.  Items are named by `sku` (this product's SKU) or
`gtin` (a barcode).  Event ids come from the WMS's own document ids:
- receipt:  warehouse, receipt_id, line, item, qty, received_at      -> receipt
- transfer: transfer_id, direction (out|in), from, to, line, item, qty, time
                                                                     -> transfer_out / transfer_in
- snapshot: warehouse, item, qty, counted_at                         -> count (absolute on hand)
"""

from __future__ import annotations

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

CHANNEL = "wms"


def _sku(row: dict[str, Any], path: str, catalog: SkuCatalog) -> str:
    where = f"{path}.sku" if path else "sku"
    if row.get("sku"):
        return catalog.own_sku(where, str(row["sku"]).strip())
    if row.get("gtin"):
        return catalog.resolve(f"{path}.gtin" if path else "gtin", ("gtin", row["gtin"]))
    raise TranslationError(where, "required (or gtin)")


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def receipts(body: bytes, catalog: SkuCatalog) -> list[StockEvent]:
    rows, prefix = rows_of(body, ("warehouse", "receipt_id", "qty", "received_at"))
    events = []
    for index, row in enumerate(rows):
        path = row_path(prefix, index)
        receipt_id = ident(row, "receipt_id", path)
        warehouse = ident(row, "warehouse", path)
        line = str(row.get("line") or index + 1)
        events.append(
            make_event(
                event_id=f"wms:receipt:{warehouse}:{receipt_id}:{line}",
                type="receipt",
                sku=_sku(row, path, catalog),
                location=warehouse,
                quantity=quantity(need(row, "qty", path), _field(path, "qty")),
                occurred_at=instant(need(row, "received_at", path), _field(path, "received_at")),
                channel=CHANNEL,
                reference=receipt_id,
            )
        )
    return events


def transfers(body: bytes, catalog: SkuCatalog) -> list[StockEvent]:
    rows, prefix = rows_of(body, ("transfer_id", "direction", "from", "to", "qty", "time"))
    events = []
    for index, row in enumerate(rows):
        path = row_path(prefix, index)
        transfer_id = ident(row, "transfer_id", path)
        direction = str(need(row, "direction", path)).lower()
        if direction not in ("out", "in"):
            raise TranslationError(_field(path, "direction"), "must be out or in")
        source, target = ident(row, "from", path), ident(row, "to", path)
        line = str(row.get("line") or index + 1)
        events.append(
            make_event(
                event_id=f"wms:transfer:{transfer_id}:{line}:{direction}",
                type=f"transfer_{direction}",
                sku=_sku(row, path, catalog),
                location=source if direction == "out" else target,
                destination=target if direction == "out" else None,
                quantity=quantity(need(row, "qty", path), _field(path, "qty")),
                occurred_at=instant(need(row, "time", path), _field(path, "time")),
                channel=CHANNEL,
                reference=transfer_id,
            )
        )
    return events


def snapshot(body: bytes, catalog: SkuCatalog) -> list[StockEvent]:
    """A full stock snapshot: one count per row (units on hand at `counted_at`)."""
    rows, prefix = rows_of(body, ("warehouse", "qty", "counted_at"))
    events = []
    for index, row in enumerate(rows):
        path = row_path(prefix, index)
        warehouse = ident(row, "warehouse", path)
        at = instant(need(row, "counted_at", path), _field(path, "counted_at"))
        sku = _sku(row, path, catalog)
        events.append(
            make_event(
                event_id=f"wms:count:{warehouse}:{at}:{sku}",
                type="count",
                sku=sku,
                location=warehouse,
                quantity=quantity(need(row, "qty", path), _field(path, "qty"), allow_zero=True),
                occurred_at=at,
                channel=CHANNEL,
                reason="stock snapshot",
            )
        )
    return events


KINDS = {"receipt": receipts, "transfer": transfers, "snapshot": snapshot}
