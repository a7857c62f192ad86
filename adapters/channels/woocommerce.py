"""WooCommerce order webhooks: `order.created`, `order.updated`, `order.deleted`,
`order.restored`.

The body is the REST v3 order (`order.deleted` sends only `{"id": …}`).  Each body is an order
snapshot for the order memory (`inventory.channel_orders`), newest by `date_modified_gmt`
(or `date_modified`, which has no offset and is read in INVENTORY_WOOCOMMERCE_TIMEZONE).
WooCommerce keeps no shipping objects, so its statuses say what shipped:

| status | held | shipped |
| --- | --- | --- |
| pending, on-hold, processing, ready-for-pickup, checkout-draft | every unit | unchanged |
| completed | nothing | every unit |
| cancelled, failed | nothing | nothing (WooCommerce restores the stock it had reduced) |
| refunded | nothing | unchanged (a refund restocks only the lines it names) |
| trash (`order.deleted`) | nothing | unchanged |

"Shipped" is kept as one fulfilment per order (`completed`), set by `completed` and undone by
`cancelled`, `failed` or `pending` (the statuses on which WooCommerce restores stock), each by the
order's modification time.  Lines are found by SKU, else by the product or variation id mapped
as alias kind `woocommerce`; a line with neither is skipped with a note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.channels.common import (
    ChannelSettings,
    SkuCatalog,
    Translation,
    TranslationError,
    decode_json,
    ident,
    instant,
    need_list,
    quantity,
)
from inventory.channel_orders import (
    ARRIVAL,
    SHIPPED,
    VOID,
    Fulfilment,
    OrderFacts,
    OrderLine,
    ShippedLine,
    Snapshot,
)
from inventory.events import to_micros

PLATFORM = "woocommerce"
CHANNEL = "web"
HELD = {"pending", "on-hold", "processing", "ready-for-pickup", "checkout-draft"}
NOT_HELD = {"completed", "cancelled", "failed", "refunded", "trash"}
UNDONE = {"cancelled", "failed", "pending"}  # WooCommerce restores reduced stock on these
TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")


def modified_at(order: dict[str, Any], settings: ChannelSettings) -> int:
    """The order's modification time: the `_gmt` field as UTC, else the local field read in
    the store's time zone; a value with its own offset is read as it is."""
    for name, zone in (
        ("date_modified_gmt", "UTC"),
        ("date_modified", settings.woocommerce_timezone),
        ("date_created_gmt", "UTC"),
        ("date_created", settings.woocommerce_timezone),
    ):
        value = order.get(name)
        if isinstance(value, str) and value.strip():
            return _local_instant(value.strip(), zone, name)
    raise TranslationError("date_modified_gmt", "required")


def _local_instant(value: str, zone: str, path: str) -> int:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return instant(value, path)  # names the field and the expected form
    if moment.tzinfo is None:
        try:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise TranslationError(
                path, f"unknown time zone {zone!r} in INVENTORY_WOOCOMMERCE_TIMEZONE"
            ) from None
    return to_micros(moment)


def line_sku(catalog: SkuCatalog, item: Any, path: str, notes: list[str]) -> str | None:
    if not isinstance(item, dict):
        raise TranslationError(path, "expected a JSON object")
    sku = item.get("sku")
    ids = [item.get("variation_id"), item.get("product_id")]
    ids = [i for i in ids if i not in (None, "", 0, "0")]
    if (sku is None or str(sku).strip() == "") and not ids:
        notes.append(
            f"{path}: line {item.get('name') or item.get('id')} has no SKU or product, skipped"
        )
        return None
    candidates = [("sku", sku)] + [("woocommerce", i) for i in ids]
    return catalog.resolve(path, *candidates)


def order_facts(
    order: Any, catalog: SkuCatalog, settings: ChannelSettings, topic: str
) -> Translation:
    if not isinstance(order, dict):
        raise TranslationError("", "expected a JSON object")
    order_id = ident(order, "id")
    if topic == "order.deleted" and "line_items" not in order:
        # the trash: only the id is sent; the order holds nothing from now (arrival time)
        snapshot = Snapshot(ARRIVAL, settings.woocommerce_location, (), cancelled=True)
        facts = OrderFacts(PLATFORM, order_id, CHANNEL, snapshot=snapshot, keep_lines=True)
        return Translation(orders=[facts])
    status = str(order.get("status") or "").strip().lower()
    if topic == "order.deleted":
        status = "trash"
    if status not in HELD | NOT_HELD:
        raise TranslationError("status", f"unknown order status {status!r}")
    at = modified_at(order, settings)
    location = settings.woocommerce_location
    notes: list[str] = []
    lines, shipped = [], []
    for index, item in enumerate(need_list(order, "line_items")):
        path = f"line_items[{index}]"
        line_id = ident(item, "id", path)
        sku = line_sku(catalog, item, path, notes)
        if sku is None:
            continue
        units = quantity(item.get("quantity"), f"{path}.quantity")
        lines.append(OrderLine(line_id, sku, units))
        shipped.append(ShippedLine(line_id, sku, units))
    snapshot = Snapshot(at, location, tuple(lines), cancelled=status in NOT_HELD)
    fulfilments: tuple[Fulfilment, ...] = ()
    if status == "completed" or status in UNDONE:
        kind = SHIPPED if status == "completed" else VOID
        fulfilments = (Fulfilment(f"{order_id}:completed", at, kind, location, tuple(shipped)),)
    reference = f"#{order.get('number') or order_id}"
    facts = OrderFacts(
        PLATFORM, order_id, CHANNEL, reference, snapshot=snapshot, fulfilments=fulfilments
    )
    return Translation(orders=[facts], notes=notes)


def read(topic: str, body: bytes, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    """What one WooCommerce webhook says; `topic` as in X-WC-Webhook-Topic."""
    name = topic.strip().lower()
    if name not in TOPICS:
        known = ", ".join(TOPICS)
        raise TranslationError("topic", f"unknown WooCommerce topic {topic!r}; known: {known}")
    return order_facts(decode_json(body), catalog, settings, name)
