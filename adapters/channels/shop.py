"""Shopify webhooks: orders, order edits, fulfilments, refunds and inventory levels.

Every order topic is read as *facts* about the order (`inventory.channel_orders`), never as
stock moves on its own: the order memory turns the facts into exactly the events they mean, so
webhooks may arrive late, twice, or out of order.

- `orders/create`, `orders/updated`, `orders/cancelled`, `orders/partially_fulfilled`,
  `orders/fulfilled`: the order snapshot (lines, quantities after edits, cancelled or not),
  with the fulfilments and refunds it embeds;
- `orders/edited`: the edit's quantity deltas per line, counted until a newer snapshot;
- `fulfillments/create`, `fulfillments/update`: one fulfilment at its status (success =
  shipped from its `location_id`; cancelled, failure, error = nothing shipped; pending, open =
  not yet);
- `refunds/create`: one refund, per line how it restocks (`restock_type`; older refunds say
  only `restock: true`);
- `inventory_levels/update`: Shopify's `available` at a location; booked as a count only for
  locations listed in INVENTORY_SHOPIFY_STOCK_LOCATIONS (stock Shopify keeps), otherwise
  ignored with a note: this engine pushes its own availability to Shopify, and reading it back
  would loop.

A line without a variant and SKU (a custom line item) or a gift card holds no stock here: it is
skipped with a note, the rest of the order is booked.  A Shopify location id not mapped in the
settings is refused with its id.  The reservation of an order is `shopify:<order id>`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    Translation,
    TranslationError,
    decode_json,
    ident,
    instant,
    make_event,
    need,
    need_list,
    quantity,
)
from inventory.channel_orders import (
    CANCEL,
    NO_RESTOCK,
    OPEN,
    RESTOCK,
    RETURN,
    SHIPPED,
    VOID,
    Edit,
    Fulfilment,
    OrderFacts,
    OrderLine,
    Refund,
    RefundLine,
    ShippedLine,
    Snapshot,
)

PLATFORM = "shopify"
CHANNEL = "web"
# the shop's own cancel reasons; anything else (free text) is recorded as "cancelled"
CANCEL_REASONS = frozenset({"customer", "declined", "fraud", "inventory", "staff", "other"})

FULFILMENT_STATUS = {
    "success": SHIPPED,
    "cancelled": VOID,
    "failure": VOID,
    "error": VOID,
    "pending": OPEN,
    "open": OPEN,
}
RESTOCK_TYPE = {
    "no_restock": NO_RESTOCK,
    "cancel": CANCEL,
    "return": RETURN,
    "legacy_restock": RESTOCK,
}


def reservation_id(order_id: str) -> str:
    return f"{PLATFORM}:{order_id}"


def line_sku(
    catalog: SkuCatalog, item: Any, path: str, notes: list[str], what: str = "line"
) -> str | None:
    """The SKU of a line item; None (and a note) for one that holds no stock here."""
    if not isinstance(item, dict):
        raise TranslationError(path, "expected a JSON object")
    variant, sku = item.get("variant_id"), item.get("sku")
    if item.get("gift_card") is True:
        notes.append(f"{path}: gift card {item.get('id')} skipped (holds no stock)")
        return None
    if variant in (None, "") and (sku is None or str(sku).strip() == ""):
        title = item.get("title") or item.get("name") or item.get("id")
        notes.append(f"{path}: {what} {title!s} has no variant or SKU (custom item), skipped")
        return None
    return catalog.resolve(path, ("variant", variant), ("sku", sku))


def _when(obj: Any, path: str, *names: str) -> int:
    for name in names:
        value = obj.get(name) if isinstance(obj, dict) else None
        if value not in (None, ""):
            return instant(value, f"{path}.{name}" if path else name)
    raise TranslationError(f"{path}.{names[-1]}" if path else names[-1], "required")


def order_facts(order: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """An order snapshot (any orders/* topic but orders/edited), with what it embeds."""
    if not isinstance(order, dict):
        raise TranslationError("", "expected a JSON object")
    order_id = ident(order, "id")
    at = _when(order, "", "updated_at", "created_at")
    location = settings.shop_location(order.get("location_id"))
    notes: list[str] = []
    refunds = [
        refund_fact(r, catalog, settings, f"refunds[{i}]", notes, order_id)
        for i, r in enumerate(order.get("refunds") or [])
    ]
    refunded: dict[str, int] = {}
    for refund in refunds:
        for rl in refund.lines:
            refunded[rl.line_id] = refunded.get(rl.line_id, 0) + rl.quantity
    embeds_fulfilments = isinstance(order.get("fulfillments"), list)
    lines = []
    for index, item in enumerate(need_list(order, "line_items")):
        path = f"line_items[{index}]"
        line_id = ident(item, "id", path)
        sku = line_sku(catalog, item, path, notes)
        if sku is None:
            continue
        bought = quantity(item.get("quantity"), f"{path}.quantity")
        ordered = bought
        current = item.get("current_quantity")
        if current is not None:  # after edits: quantity less what edits removed
            left = quantity(current, f"{path}.current_quantity", allow_zero=True)
            removed_by_edits = max(0, bought - left - refunded.get(line_id, 0))
            ordered = bought - removed_by_edits
        shipped = 0
        if not embeds_fulfilments and item.get("fulfillment_status") == "fulfilled":
            shipped = ordered  # no fulfilment objects to count: the snapshot says it all
        lines.append(OrderLine(line_id, sku, ordered, shipped))
    fulfilments = [
        fulfilment_fact(f, catalog, settings, f"fulfillments[{i}]", notes)
        for i, f in enumerate(order.get("fulfillments") or [])
    ]
    snapshot = Snapshot(at, location, tuple(lines), cancelled=order.get("cancelled_at") is not None)
    facts = OrderFacts(
        PLATFORM,
        order_id,
        CHANNEL,
        str(order.get("name") or order_id),
        snapshot=snapshot,
        fulfilments=tuple(fulfilments),
        refunds=tuple(refunds),
    )
    return Translation(orders=[facts], notes=notes)


def fulfilment_fact(
    fulfillment: Any,
    catalog: SkuCatalog,
    settings: ChannelSettings,
    path: str,
    notes: list[str],
) -> Fulfilment:
    prefix = f"{path}." if path else ""
    if not isinstance(fulfillment, dict):
        raise TranslationError(path, "expected a JSON object")
    fulfilment_id = ident(fulfillment, "id", path)
    at = _when(fulfillment, path, "updated_at", "created_at")
    raw_status = str(fulfillment.get("status") or "pending").lower()
    status = FULFILMENT_STATUS.get(raw_status)
    if status is None:
        raise TranslationError(f"{prefix}status", f"unknown fulfillment status {raw_status!r}")
    location = settings.shop_location(fulfillment.get("location_id"), f"{prefix}location_id")
    lines = []
    for index, item in enumerate(need_list(fulfillment, "line_items", path)):
        item_path = f"{prefix}line_items[{index}]"
        line_id = ident(item, "id", item_path)
        sku = line_sku(catalog, item, item_path, notes)
        if sku is not None:
            units = quantity(item.get("quantity"), f"{item_path}.quantity")
            lines.append(ShippedLine(line_id, sku, units))
    made = _when(fulfillment, path, "created_at", "updated_at")
    return Fulfilment(fulfilment_id, at, status, location, tuple(lines), created=made)


def refund_fact(
    refund: Any,
    catalog: SkuCatalog,
    settings: ChannelSettings,
    path: str,
    notes: list[str],
    order_id: str | None = None,
) -> Refund:
    prefix = f"{path}." if path else ""
    if not isinstance(refund, dict):
        raise TranslationError(path, "expected a JSON object")
    refund_id = ident(refund, "id", path)
    at = _when(refund, path, "processed_at", "created_at")
    old_restock = RESTOCK if refund.get("restock") is True else NO_RESTOCK
    lines = []
    for index, line in enumerate(refund.get("refund_line_items") or []):
        line_path = f"{prefix}refund_line_items[{index}]"
        if not isinstance(line, dict):
            raise TranslationError(line_path, "expected a JSON object")
        raw_kind = line.get("restock_type")
        kind = old_restock if raw_kind is None else RESTOCK_TYPE.get(str(raw_kind))
        if kind is None:
            raise TranslationError(
                f"{line_path}.restock_type", f"unknown restock type {raw_kind!r}"
            )
        item = line.get("line_item") or {"id": line.get("line_item_id")}
        line_id = str(line.get("line_item_id") or ident(item, "id", f"{line_path}.line_item"))
        sku = line_sku(catalog, item, f"{line_path}.line_item", notes)
        if sku is None:
            continue
        units = quantity(line.get("quantity"), f"{line_path}.quantity")
        if kind == NO_RESTOCK:
            location = settings.shop_default_location  # nothing goes anywhere
        else:
            location = settings.shop_location(line.get("location_id"), f"{line_path}.location_id")
        lines.append(RefundLine(line_id, sku, units, kind, location))
    return Refund(refund_id, at, tuple(lines))


def orders_edited(body: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """`orders/edited`: {"order_edit": {id, order_id, committed_at, line_items: {additions,
    removals: [{id, delta}]}}}.  Lines it adds are known (with their SKU) from the next
    snapshot, which Shopify sends as orders/updated."""
    edit = need(body, "order_edit") if isinstance(body, dict) and "order_edit" in body else body
    path = "order_edit" if edit is not body else ""
    prefix = f"{path}." if path else ""
    edit_id = ident(edit, "id", path)
    order_id = ident(edit, "order_id", path)
    at = _when(edit, path, "committed_at", "created_at")
    changes = edit.get("line_items") or {}
    if not isinstance(changes, dict):
        raise TranslationError(f"{prefix}line_items", "expected a JSON object")
    deltas: list[tuple[str, int]] = []
    for name, sign in (("additions", 1), ("removals", -1)):
        for index, change in enumerate(changes.get(name) or []):
            change_path = f"{prefix}line_items.{name}[{index}]"
            line_id = ident(change, "id", change_path)
            delta = quantity(change.get("delta"), f"{change_path}.delta")
            deltas.append((line_id, sign * delta))
    facts = OrderFacts(PLATFORM, order_id, CHANNEL, edits=(Edit(edit_id, at, tuple(deltas)),))
    return Translation(orders=[facts])


def fulfillments(body: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    notes: list[str] = []
    order_id = ident(body, "order_id")
    fact = fulfilment_fact(body, catalog, settings, "", notes)
    facts = OrderFacts(PLATFORM, order_id, CHANNEL, fulfilments=(fact,))
    return Translation(orders=[facts], notes=notes)


def refunds_create(body: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    notes: list[str] = []
    order_id = ident(body, "order_id")
    fact = refund_fact(body, catalog, settings, "", notes, order_id)
    return Translation(
        orders=[OrderFacts(PLATFORM, order_id, CHANNEL, refunds=(fact,))], notes=notes
    )


def inventory_levels_update(
    level: Any, catalog: SkuCatalog, settings: ChannelSettings
) -> Translation:
    """Shopify's stock at one location: a count where Shopify keeps the stock, else ignored."""
    location_id = ident(level, "location_id")
    if location_id not in settings.shopify_stock_locations:
        return Translation(
            notes=[
                f"inventory level at Shopify location {location_id} ignored: this engine keeps "
                "that stock (list the location in INVENTORY_SHOPIFY_STOCK_LOCATIONS to take "
                "Shopify's figure)"
            ]
        )
    item_id = ident(level, "inventory_item_id")
    sku = catalog.resolve("inventory_item_id", ("inventory_item", item_id))
    location = settings.shop_location(location_id)
    at = _when(level, "", "updated_at")
    available = quantity(level.get("available"), "available", allow_zero=True)
    event = make_event(
        event_id=f"shopify:level:{item_id}:{location_id}:{at}",
        type="count",
        sku=sku,
        location=location,
        quantity=available,
        occurred_at=at,
        channel=CHANNEL,
        reason="Shopify inventory level",
    )
    return Translation(events=[event])


Reader = Callable[[Any, SkuCatalog, ChannelSettings], Translation]

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/partially_fulfilled",
    "orders/fulfilled",
    "orders/paid",
)
TOPICS: dict[str, Reader] = {
    **{topic: order_facts for topic in ORDER_TOPICS},
    "orders/edited": orders_edited,
    "fulfillments/create": fulfillments,
    "fulfillments/update": fulfillments,
    "refunds/create": refunds_create,
    "inventory_levels/update": inventory_levels_update,
}


def read(topic: str, body: bytes, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """What one Shopify webhook says; `topic` as in the X-Shopify-Topic header."""
    reader = TOPICS.get(topic.strip().lower())
    if reader is None:
        known = ", ".join(TOPICS)
        raise TranslationError("topic", f"unknown Shopify topic {topic!r}; known: {known}")
    payload = decode_json(body)
    if not isinstance(payload, dict):
        raise TranslationError("", "expected a JSON object")
    return reader(payload, catalog, settings)
