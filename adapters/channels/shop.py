"""Web shop webhooks (Shopify style): orders, cancellations, fulfilments and refunds.

- `orders/create`: a reservation per line at the fulfilling location (an order that arrives
  already fulfilled, as from a shop's own point of sale, is a sale instead);
- `orders/cancelled`: releases what each line still holds;
- `fulfillments/create`: a fulfilment of the order's reservation at the shipping location;
- `refunds/create`: refund lines with `restock_type` "return" (or "legacy_restock") come back
  as returns at the refund's location, "cancel" releases the unshipped units, "no_restock"
  changes no stock.

The reservation id is the order's id, so all four topics address the same lines; event ids
carry the shop's own ids (order, line item, fulfilment, refund line).  Nothing about the
buyer reaches an event: the reference is the order's name ("#1042") or id, and reasons are
fixed words (a refund's free-text note and an unknown cancel reason are not copied).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    TranslationError,
    decode_json,
    ident,
    instant,
    make_event,
    need,
    need_list,
    quantity,
)
from inventory.events import StockEvent

CHANNEL = "web"
# the shop's own cancel reasons; anything else (free text) is recorded as "cancelled"
CANCEL_REASONS = frozenset({"customer", "declined", "fraud", "inventory", "staff", "other"})


def reservation_id(order_id: str) -> str:
    return f"shop:order:{order_id}"


def line_sku(catalog: SkuCatalog, item: Any, path: str) -> str:
    return catalog.resolve(path, ("variant", item.get("variant_id")), ("sku", item.get("sku")))


def orders_create(order: Any, catalog: SkuCatalog, settings: ChannelSettings) -> list[StockEvent]:
    order_id = ident(order, "id")
    at = instant(need(order, "created_at"), "created_at")
    location = settings.shop_location(order.get("location_id"))
    sold = order.get("fulfillment_status") == "fulfilled"
    events = []
    for index, item in enumerate(need_list(order, "line_items")):
        path = f"line_items[{index}]"
        line_id = ident(item, "id", path)
        if item.get("requires_shipping") is False and item.get("gift_card"):
            continue  # gift cards hold no stock
        sku = line_sku(catalog, item, path)
        qty = quantity(item.get("quantity"), f"{path}.quantity")
        common = dict(sku=sku, location=location, quantity=qty, occurred_at=at, channel=CHANNEL)
        if sold:
            events.append(
                make_event(
                    event_id=f"shop:{order_id}:{line_id}:sale",
                    type="sale",
                    reference=str(order.get("name") or order_id),
                    **common,
                )
            )
        else:
            events.append(
                make_event(
                    event_id=f"shop:{order_id}:{line_id}:reservation",
                    type="reservation",
                    reference=str(order.get("name") or order_id),
                    reservation_id=reservation_id(order_id),
                    **common,
                )
            )
    return events


def orders_cancelled(
    order: Any, catalog: SkuCatalog, settings: ChannelSettings
) -> list[StockEvent]:
    order_id = ident(order, "id")
    at = instant(need(order, "cancelled_at"), "cancelled_at")
    location = settings.shop_location(order.get("location_id"))
    events = []
    for index, item in enumerate(need_list(order, "line_items")):
        path = f"line_items[{index}]"
        line_id = ident(item, "id", path)
        qty = quantity(item.get("quantity"), f"{path}.quantity")
        events.append(
            make_event(
                event_id=f"shop:{order_id}:{line_id}:release",
                type="reservation_release",
                sku=line_sku(catalog, item, path),
                location=location,
                quantity=qty,  # a line never releases more than it holds
                occurred_at=at,
                channel=CHANNEL,
                reference=str(order.get("name") or order_id),
                reservation_id=reservation_id(order_id),
                reason=_cancel_reason(order.get("cancel_reason")),
            )
        )
    return events


def _cancel_reason(value: Any) -> str:
    return str(value) if value in CANCEL_REASONS else "cancelled"


def fulfillments_create(
    fulfillment: Any, catalog: SkuCatalog, settings: ChannelSettings
) -> list[StockEvent]:
    fulfillment_id = ident(fulfillment, "id")
    order_id = ident(fulfillment, "order_id")
    at = instant(need(fulfillment, "created_at"), "created_at")
    location = settings.shop_location(fulfillment.get("location_id"))
    events = []
    for index, item in enumerate(need_list(fulfillment, "line_items")):
        path = f"line_items[{index}]"
        line_id = ident(item, "id", path)
        events.append(
            make_event(
                event_id=f"shop:fulfillment:{fulfillment_id}:{line_id}",
                type="fulfilment",
                sku=line_sku(catalog, item, path),
                location=location,
                quantity=quantity(item.get("quantity"), f"{path}.quantity"),
                occurred_at=at,
                channel=CHANNEL,
                reference=str(fulfillment.get("name") or order_id),
                reservation_id=reservation_id(order_id),
            )
        )
    return events


def refunds_create(refund: Any, catalog: SkuCatalog, settings: ChannelSettings) -> list[StockEvent]:
    refund_id = ident(refund, "id")
    order_id = ident(refund, "order_id")
    at = instant(refund.get("processed_at") or need(refund, "created_at"), "created_at")
    events = []
    for index, line in enumerate(refund.get("refund_line_items") or []):
        path = f"refund_line_items[{index}]"
        if not isinstance(line, dict):
            raise TranslationError(path, "expected a JSON object")
        restock = line.get("restock_type") or "no_restock"
        if restock == "no_restock":
            continue
        item = need(line, "line_item", path)
        line_id = ident(line, "id", path)
        common = dict(
            sku=line_sku(catalog, item, f"{path}.line_item"),
            location=settings.shop_location(line.get("location_id")),
            quantity=quantity(line.get("quantity"), f"{path}.quantity"),
            occurred_at=at,
            channel=CHANNEL,
            reference=str(order_id),
        )
        if restock in ("return", "legacy_restock"):
            events.append(
                make_event(
                    event_id=f"shop:refund:{refund_id}:{line_id}:return",
                    type="return",
                    reason="refund",  # the refund's note is free text: it stays out
                    **common,
                )
            )
        elif restock == "cancel":
            events.append(
                make_event(
                    event_id=f"shop:refund:{refund_id}:{line_id}:release",
                    type="reservation_release",
                    reservation_id=reservation_id(order_id),
                    reason="refunded before shipping",
                    **common,
                )
            )
        else:
            raise TranslationError(f"{path}.restock_type", f"unknown restock type {restock!r}")
    return events


Translator = Callable[[Any, SkuCatalog, ChannelSettings], list[StockEvent]]

TOPICS: dict[str, Translator] = {
    "orders/create": orders_create,
    "orders/cancelled": orders_cancelled,
    "fulfillments/create": fulfillments_create,
    "refunds/create": refunds_create,
}


def translate(
    topic: str, body: bytes, catalog: SkuCatalog, settings: ChannelSettings
) -> list[StockEvent]:
    """Events of one shop webhook; `topic` as in the X-Shopify-Topic header."""
    translator = TOPICS.get(topic)
    if translator is None:
        raise TranslationError("topic", f"unknown shop topic {topic!r}; known: {', '.join(TOPICS)}")
    payload = decode_json(body)
    if not isinstance(payload, dict):
        raise TranslationError("", "expected a JSON object")
    return translator(payload, catalog, settings)
