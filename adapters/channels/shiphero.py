"""ShipHero (warehouse / 3PL) webhooks: "Inventory Update".

ShipHero calls the webhook whenever a quantity changes.  The body is a snapshot per SKU: the
account's totals over all warehouses and `updated_warehouse`, the same figures for the
warehouse where the movement happened.  Quantities may be text (`"on_hand": "48"`).

Each item becomes a count of the warehouse's `on_hand` at the location mapped from its
`warehouse_id` (or `warehouse_uuid`) in INVENTORY_SHIPHERO_LOCATIONS; an unmapped warehouse is
refused with its id.  The account totals are not booked: they are the sum over warehouses, each
of which reports its own movements.  The SKU is found as alias kind `shiphero`, else it is taken
as this engine's SKU (checked against the imported SKUs once any exist, like WMS rows).
An item marked `virtual` (a product ShipHero does not keep on a shelf) is skipped with a note,
as is any other `webhook_type`.

Time: the body's own timestamp when it carries one (`updated_at` on the item or at the top,
`timestamp`, `created_at`), else the delivery's (header RECEIVED_AT, set by the receiver: the
HTTP arrival, or the Kafka record's time).  Event id: from the delivery's id (header
`X-Shiphero-Message-ID`), else from the body's bytes, with the warehouse and SKU, so a
redelivery is a duplicate.  A count timed by its delivery keeps the first delivery's time
(`Translation.delivery_timed`, settled by the intake against the ledger).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from adapters.channels.common import (
    RECEIVED_AT,
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
from inventory.events import StockEvent

CHANNEL = "wms"
SHIPHERO_INVENTORY_UPDATE = "Inventory Update"
MESSAGE_ID = "x-shiphero-message-id"
TIME_FIELDS = ("updated_at", "timestamp", "created_at")


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v.strip() for k, v in headers.items() if k.lower() == name and v.strip()), "")


def _payload_time(item: dict[str, Any], body: dict[str, Any], path: str) -> int | None:
    for where, obj in ((path, item), ("", body)):
        for name in TIME_FIELDS:
            if obj.get(name):
                return instant(obj[name], f"{where}.{name}" if where else name)
    return None


def _delivery_time(headers: Mapping[str, str]) -> int:
    stamp = _header(headers, RECEIVED_AT)
    if not stamp:
        raise TranslationError("", f"no time: the body has none and the delivery no {RECEIVED_AT}")
    return instant(stamp, RECEIVED_AT)


def _location(warehouse: dict[str, Any], path: str, settings: ChannelSettings) -> str:
    warehouse_id = ident(warehouse, "warehouse_id", path)
    uuid = str(warehouse.get("warehouse_uuid") or "").strip()
    found = settings.shiphero_locations.get(warehouse_id) or (
        settings.shiphero_locations.get(uuid) if uuid else None
    )
    if found is None:
        name = str(warehouse.get("identifier") or "").strip()
        raise TranslationError(
            f"{path}.warehouse_id",
            f"unmapped ShipHero warehouse {warehouse_id}{f' ({name})' if name else ''}: "
            "add it to INVENTORY_SHIPHERO_LOCATIONS",
        )
    return found


def inventory_update(
    body: dict[str, Any],
    raw: bytes,
    headers: Mapping[str, str],
    catalog: SkuCatalog,
    settings: ChannelSettings,
) -> Translation:
    items = need_list(body, "inventory")
    delivery = _header(headers, MESSAGE_ID) or "sha256-" + hashlib.sha256(raw).hexdigest()[:32]
    found = Translation()
    for index, item in enumerate(items):
        path = f"inventory[{index}]"
        if not isinstance(item, dict):
            raise TranslationError(path, "expected a JSON object")
        sku_text = ident(item, "sku", path)
        if item.get("virtual") is True:
            found.notes.append(f"{path}: virtual product {sku_text} has no stock on a shelf")
            continue
        warehouse = need(item, "updated_warehouse", path)
        where = f"{path}.updated_warehouse"
        location = _location(warehouse, where, settings)
        sku = catalog.find("shiphero", sku_text) or catalog.own_sku(f"{path}.sku", sku_text)
        at = _payload_time(item, body, path)
        event_id = f"shiphero:{delivery}:{ident(warehouse, 'warehouse_id', where)}:{sku}"
        if at is None:
            at = _delivery_time(headers)
            found.delivery_timed.add(event_id)
        on_hand = quantity(need(warehouse, "on_hand", where), f"{where}.on_hand", allow_zero=True)
        event: StockEvent = make_event(
            event_id=event_id,
            type="count",
            sku=sku,
            location=location,
            quantity=on_hand,
            occurred_at=at,
            channel=CHANNEL,
            reason="ShipHero inventory update (warehouse on_hand)",
        )
        found.events.append(event)
    return found


def read(
    body: bytes, headers: Mapping[str, str], catalog: SkuCatalog, settings: ChannelSettings
) -> Translation:
    payload = decode_json(body)
    if not isinstance(payload, dict):
        raise TranslationError("", "expected a JSON object")
    kind = str(payload.get("webhook_type") or "")
    if kind == SHIPHERO_INVENTORY_UPDATE:
        return inventory_update(payload, body, headers, catalog, settings)
    return Translation(notes=[f"{kind or 'a body without webhook_type'}: not about stock, ignored"])
