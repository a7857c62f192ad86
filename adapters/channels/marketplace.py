"""Amazon (SP-API): ORDER_CHANGE notifications, the flat-file order report, and
FBA_INVENTORY_AVAILABILITY_CHANGES.

Order messages are read as order snapshots (`inventory.channel_orders`): the order memory keeps
the newest (by Amazon's change time, or the report's last-updated-date) and books the
difference, so a notification and a report row of one order are the same facts, whatever
arrives first or twice.  Lines are keyed by this engine's SKU in both sources.

OrderStatus (every value of Amazon's schema) → what the snapshot says:
- PendingAvailability, Pending, Unshipped: every unit held;
- PartiallyShipped: `QuantityShipped` per item shipped, the rest held;
- Shipped, InvoiceUnconfirmed: every unit shipped;
- Canceled: nothing held (units Amazon reports shipped stay shipped);
- Unfulfillable: nothing held (Amazon says the order cannot be fulfilled).
A buyer's cancel request (`IsBuyerRequestedCancel`) changes nothing until the order is Canceled.
Orders Amazon fulfils itself (FulfillmentType AFN, report fulfillment-channel "Amazon") do not
touch this engine's warehouses: skipped with a note.  Report rows with item-status Cancelled
hold nothing.

FBA_INVENTORY_AVAILABILITY_CHANGES: per marketplace mapped in INVENTORY_AMAZON_FBA_LOCATIONS,
a count of the `Fulfillable` units at that Amazon-held location; other marketplaces are
skipped with a note.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    Translation,
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
from inventory.channel_orders import OrderFacts, OrderLine, Snapshot

PLATFORM = "amazon"
CHANNEL = "marketplace"
HELD = {"pendingavailability", "pending", "unshipped", "shipping", "partiallyshipped"}
ALL_SHIPPED = {"shipped", "invoiceunconfirmed"}
NOTHING_HELD = {"canceled", "cancelled", "unfulfillable"}
REPORT_COLUMNS = ("amazon-order-id", "purchase-date", "order-status", "quantity")


def _kind(status: str, path: str) -> str:
    kind = status.replace(" ", "").lower()
    if kind not in HELD | ALL_SHIPPED | NOTHING_HELD:
        raise TranslationError(path, f"unknown order status {status!r}")
    return kind


def item_sku(catalog: SkuCatalog, path: str, seller_sku: Any, asin: Any) -> str:
    return catalog.resolve(path, ("seller_sku", seller_sku), ("asin", asin), ("sku", seller_sku))


def _facts(
    order_id: str,
    kind: str,
    at: int,
    location: str,
    lines: dict[str, list[int]],
) -> OrderFacts:
    """`lines`: per SKU [ordered, shipped]."""
    order_lines = []
    for sku, (ordered, shipped) in sorted(lines.items()):
        if kind in ALL_SHIPPED:
            shipped = ordered
        order_lines.append(OrderLine(sku, sku, ordered, min(shipped, ordered)))
    snapshot = Snapshot(at, location, tuple(order_lines), cancelled=kind in NOTHING_HELD)
    return OrderFacts(PLATFORM, order_id, CHANNEL, order_id, snapshot=snapshot)


def notification(payload: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """An ORDER_CHANGE notification (NotificationType, Payload.OrderChangeNotification)."""
    change = need(need(payload, "Payload"), "OrderChangeNotification", "Payload")
    path = "Payload.OrderChangeNotification"
    order_id = ident(change, "AmazonOrderId", path)
    summary = need(change, "Summary", path)
    if str(summary.get("FulfillmentType", "MFN")).upper() == "AFN":
        return Translation(notes=[f"order {order_id} is fulfilled by Amazon (AFN): skipped"])
    trigger = change.get("OrderChangeTrigger") or {}
    when = trigger.get("TimeOfOrderChange") or payload.get("EventTime")
    at = instant(when, f"{path}.OrderChangeTrigger.TimeOfOrderChange")
    kind = _kind(
        str(need(summary, "OrderStatus", f"{path}.Summary")), f"{path}.Summary.OrderStatus"
    )
    lines: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sources = set()
    for index, item in enumerate(need_list(summary, "OrderItems", f"{path}.Summary")):
        item_path = f"{path}.Summary.OrderItems[{index}]"
        if not isinstance(item, dict):
            raise TranslationError(item_path, "expected a JSON object")
        sku = item_sku(catalog, item_path, item.get("SellerSKU"), item.get("ASIN"))
        lines[sku][0] += quantity(item.get("Quantity"), f"{item_path}.Quantity")
        shipped = item.get("QuantityShipped")
        if shipped is not None:
            lines[sku][1] += quantity(shipped, f"{item_path}.QuantityShipped", allow_zero=True)
        elif item.get("OrderItemStatus") == "Shipped":
            lines[sku][1] = lines[sku][0]
        if item.get("SupplySourceId"):
            sources.add(str(item["SupplySourceId"]))
    location = settings.marketplace_location
    mapped = sorted(
        {settings.amazon_supply_sources[s] for s in sources if s in settings.amazon_supply_sources}
    )
    if len(mapped) == 1:
        location = mapped[0]
    return Translation(orders=[_facts(order_id, kind, at, location, dict(lines))])


def report_rows(
    rows: list[dict[str, Any]], catalog: SkuCatalog, settings: ChannelSettings, prefix: str
) -> Translation:
    """Rows of an order report (amazon-order-id, sku, asin, quantity, order-status,
    item-status, ...): one snapshot per order."""
    orders: dict[str, dict[str, Any]] = {}
    notes = []
    for index, row in enumerate(rows):
        path = prefix.format(index + 2 if prefix.startswith("row") else index)
        order_id = ident(row, "amazon-order-id", path)
        if str(row.get("fulfillment-channel", "Merchant")).lower() == "amazon":
            notes.append(f"{path}: order {order_id} is fulfilled by Amazon: skipped")
            continue
        when = row.get("last-updated-date") or need(row, "purchase-date", path)
        at = instant(when, f"{path}.last-updated-date")
        sku = item_sku(catalog, path, row.get("sku"), row.get("asin"))
        qty = quantity(row.get("quantity"), f"{path}.quantity", allow_zero=True)
        status = str(need(row, "order-status", path))
        order = orders.setdefault(
            order_id,
            {"kind": _kind(status, f"{path}.order-status"), "at": at, "lines": {}},
        )
        order["at"] = max(order["at"], at)
        line = order["lines"].setdefault(sku, [0, 0])
        item_status = str(row.get("item-status") or "").replace(" ", "").lower()
        if item_status in ("cancelled", "canceled"):
            continue  # the item alone was cancelled: it holds nothing
        line[0] += qty
        if item_status == "shipped":
            line[1] += qty
    location = settings.marketplace_location
    facts = [
        _facts(order_id, order["kind"], order["at"], location, order["lines"])
        for order_id, order in orders.items()
    ]
    return Translation(orders=facts, notes=notes)


def fba_inventory(payload: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """FBA_INVENTORY_AVAILABILITY_CHANGES: Amazon-held stock per marketplace, as counts."""
    body = need(payload, "Payload") if "Payload" in payload else payload
    path = "Payload" if body is not payload else ""
    prefix = f"{path}." if path else ""
    sku = item_sku(catalog, f"{prefix}SKU", body.get("SKU"), body.get("ASIN"))
    when = payload.get("EventTime") or (payload.get("NotificationMetadata") or {}).get(
        "PublishTime"
    )
    at = instant(when, "EventTime")
    events, notes = [], []
    entries = need_list(body, "FulfillmentInventoryByMarketplace", path)
    for index, entry in enumerate(entries):
        entry_path = f"{prefix}FulfillmentInventoryByMarketplace[{index}]"
        marketplace = ident(entry, "MarketplaceId", entry_path)
        location = settings.amazon_fba_locations.get(marketplace)
        if location is None:
            notes.append(
                f"{entry_path}: marketplace {marketplace} not mapped in "
                "INVENTORY_AMAZON_FBA_LOCATIONS: skipped"
            )
            continue
        inventory = need(entry, "FulfillmentInventory", entry_path)
        fulfillable = quantity(
            inventory.get("Fulfillable"),
            f"{entry_path}.FulfillmentInventory.Fulfillable",
            allow_zero=True,
        )
        events.append(
            make_event(
                event_id=f"amazon:fba:{marketplace}:{sku}:{at}",
                type="count",
                sku=sku,
                location=location,
                quantity=fulfillable,
                occurred_at=at,
                channel=CHANNEL,
                reason="Amazon FBA fulfillable quantity",
            )
        )
    return Translation(events=events, notes=notes)


def read(body: bytes, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """A notification (JSON), one report row (JSON object) or a report (tab-separated text)."""
    if body.lstrip()[:1] in (b"{", b"["):
        payload = decode_json(body)
        if isinstance(payload, dict) and "Payload" in payload:
            kind = str(payload.get("NotificationType") or "ORDER_CHANGE")
            if kind == "FBA_INVENTORY_AVAILABILITY_CHANGES":
                return fba_inventory(payload, catalog, settings)
            if kind != "ORDER_CHANGE":
                raise TranslationError("NotificationType", f"unsupported notification {kind!r}")
            return notification(payload, catalog, settings)
        rows = payload if isinstance(payload, list) else [payload]
        if not all(isinstance(row, dict) for row in rows):
            raise TranslationError("", "expected report rows as JSON objects")
        return report_rows(rows, catalog, settings, "[{}]" if isinstance(payload, list) else "")
    rows = csv_rows(body, REPORT_COLUMNS, delimiter="\t")
    return report_rows(rows, catalog, settings, "row {}")
