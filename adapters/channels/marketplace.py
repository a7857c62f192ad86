"""Marketplace orders (Amazon style): order-change notifications and order report rows.

Both name the order, the item (seller SKU or ASIN), the quantity and a status.  Every status
is translated self-contained, so notifications may arrive late, twice or out of order:
- Pending / Unshipped / PartiallyShipped: a reservation at the marketplace's location;
- Shipped: the reservation and its fulfilment;
- Canceled: the reservation and its release (nets to nothing if it never shipped).
Event ids are built from the order id and our SKU, so the notification and the report row of
one order line are the same events.  Orders the marketplace fulfils itself (FBA, "AFN",
fulfillment-channel "Amazon") do not touch this ledger and give no events.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    TranslationError,
    csv_rows,
    decode_json,
    ident,
    instant,
    make_event,
    need,
    need_list,
    quantity,
)
from inventory.events import StockEvent

CHANNEL = "marketplace"
OPEN = {"pending", "unshipped", "partiallyshipped", "pendingavailability", "shipping"}
SHIPPED = {"shipped"}
CANCELED = {"canceled", "cancelled"}
REPORT_COLUMNS = ("amazon-order-id", "purchase-date", "order-status", "quantity")


def order_events(
    order_id: str,
    status: str,
    at: int,
    lines: dict[str, int],
    settings: ChannelSettings,
    path: str,
) -> list[StockEvent]:
    kind = status.replace(" ", "").lower()
    if kind not in OPEN | SHIPPED | CANCELED:
        raise TranslationError(path, f"unknown order status {status!r}")
    events = []
    for sku, qty in sorted(lines.items()):
        common = dict(
            sku=sku,
            location=settings.marketplace_location,
            quantity=qty,
            occurred_at=at,
            channel=CHANNEL,
            reference=order_id,
            reservation_id=f"marketplace:order:{order_id}",
        )
        events.append(
            make_event(event_id=f"mkt:{order_id}:{sku}:reservation", type="reservation", **common)
        )
        if kind in SHIPPED:
            events.append(
                make_event(event_id=f"mkt:{order_id}:{sku}:fulfilment", type="fulfilment", **common)
            )
        elif kind in CANCELED:
            events.append(
                make_event(
                    event_id=f"mkt:{order_id}:{sku}:release",
                    type="reservation_release",
                    reason="cancelled",
                    **common,
                )
            )
    return events


def item_sku(catalog: SkuCatalog, path: str, seller_sku: Any, asin: Any) -> str:
    return catalog.resolve(path, ("seller_sku", seller_sku), ("asin", asin), ("sku", seller_sku))


def notification(payload: Any, catalog: SkuCatalog, settings: ChannelSettings) -> list[StockEvent]:
    """An ORDER_CHANGE notification (NotificationType, Payload.OrderChangeNotification)."""
    change = need(need(payload, "Payload"), "OrderChangeNotification", "Payload")
    path = "Payload.OrderChangeNotification"
    order_id = ident(change, "AmazonOrderId", path)
    summary = need(change, "Summary", path)
    if str(summary.get("FulfillmentType", "MFN")).upper() == "AFN":
        return []
    trigger = change.get("OrderChangeTrigger") or {}
    when = trigger.get("TimeOfOrderChange") or payload.get("EventTime")
    at = instant(when, f"{path}.OrderChangeTrigger.TimeOfOrderChange")
    lines: dict[str, int] = defaultdict(int)
    for index, item in enumerate(need_list(summary, "OrderItems", f"{path}.Summary")):
        item_path = f"{path}.Summary.OrderItems[{index}]"
        if not isinstance(item, dict):
            raise TranslationError(item_path, "expected a JSON object")
        sku = item_sku(catalog, item_path, item.get("SellerSKU"), item.get("ASIN"))
        lines[sku] += quantity(item.get("Quantity"), f"{item_path}.Quantity")
    status = str(need(summary, "OrderStatus", f"{path}.Summary"))
    return order_events(order_id, status, at, dict(lines), settings, f"{path}.Summary.OrderStatus")


def report_rows(
    rows: list[dict[str, Any]], catalog: SkuCatalog, settings: ChannelSettings, prefix: str
) -> list[StockEvent]:
    """Rows of an order report (amazon-order-id, sku, asin, quantity, order-status, ...)."""
    orders: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(rows):
        path = prefix.format(index + 2 if prefix.startswith("row") else index)
        if str(row.get("fulfillment-channel", "Merchant")).lower() == "amazon":
            continue
        order_id = ident(row, "amazon-order-id", path)
        when = row.get("last-updated-date") or need(row, "purchase-date", path)
        at = instant(when, f"{path}.purchase-date")
        sku = item_sku(catalog, path, row.get("sku"), row.get("asin"))
        qty = quantity(row.get("quantity"), f"{path}.quantity")
        order = orders.setdefault(
            order_id, {"status": need(row, "order-status", path), "at": at, "lines": {}}
        )
        order["at"] = max(order["at"], at)
        order["lines"][sku] = order["lines"].get(sku, 0) + qty
    return [
        event
        for order_id, order in orders.items()
        for event in order_events(
            order_id, str(order["status"]), order["at"], order["lines"], settings, "order-status"
        )
    ]


def translate(body: bytes, catalog: SkuCatalog, settings: ChannelSettings) -> list[StockEvent]:
    """A notification (JSON), one report row (JSON object) or a report (tab-separated text)."""
    if body.lstrip()[:1] in (b"{", b"["):
        payload = decode_json(body)
        if isinstance(payload, dict) and "Payload" in payload:
            return notification(payload, catalog, settings)
        rows = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(row, dict) for row in rows):
            raise TranslationError("", "expected report rows as JSON objects")
        return report_rows(rows, catalog, settings, "[{}]" if isinstance(payload, list) else "")
    rows = csv_rows(body, REPORT_COLUMNS, delimiter="\t")
    return report_rows(rows, catalog, settings, "row {}")
