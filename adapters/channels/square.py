"""Square webhook events: `inventory.count.updated`.

Square states absolute counts per (catalog object, location, state), not changes.  A count in
state `IN_STOCK` ("on hand and available for sale") is booked as a count at the location mapped
in INVENTORY_SQUARE_LOCATIONS (a Square location id not mapped is refused with its id); the
catalog object (an item variation) is found as alias kind `square`, else as a SKU.  Other
states (sold, waste, in transit, reserved for sale…) are not stock this engine counts at the
store: skipped with a note.  Square's order webhooks (`order.created`, `order.updated`,
`order.fulfillment.updated`) name no line items, so they cannot move stock: answered with a
note, like any other event type and the `webhooks.test_notification` ping.
"""

from __future__ import annotations

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
)
from inventory.events import StockEvent

CHANNEL = "pos"
COUNTED_STATE = "IN_STOCK"


def _whole(value: Any, path: str) -> int:
    """Square sends quantities as decimal text; stock here is whole units, zero or more."""
    text = str(value).strip()
    number = text[:-2] if text.endswith(".0") else text
    if not number.isdigit():
        raise TranslationError(
            path, f"expected a whole number of units of zero or more, got {text!r}"
        )
    return int(number)


def inventory_counts(event: Any, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    counts = need_list(
        need(need(event, "data"), "object", "data"), "inventory_counts", "data.object"
    )
    events: list[StockEvent] = []
    notes: list[str] = []
    for index, count in enumerate(counts):
        path = f"data.object.inventory_counts[{index}]"
        if not isinstance(count, dict):
            raise TranslationError(path, "expected a JSON object")
        state = str(count.get("state") or "")
        if state != COUNTED_STATE:
            notes.append(f"{path}: state {state or '?'} is not counted as stock here, skipped")
            continue
        object_id = ident(count, "catalog_object_id", path)
        location_id = ident(count, "location_id", path)
        location = settings.square_locations.get(location_id)
        if location is None:
            raise TranslationError(
                f"{path}.location_id",
                f"unmapped Square location {location_id}: add it to INVENTORY_SQUARE_LOCATIONS",
            )
        sku = catalog.resolve(path, ("square", object_id), ("sku", object_id))
        at = instant(
            count.get("calculated_at") or need(event, "created_at"), f"{path}.calculated_at"
        )
        events.append(
            make_event(
                event_id=f"square:{object_id}:{location_id}:{at}",
                type="count",
                sku=sku,
                location=location,
                quantity=_whole(count.get("quantity"), f"{path}.quantity"),
                occurred_at=at,
                channel=CHANNEL,
                reason="Square count (IN_STOCK)",
            )
        )
    return Translation(events=events, notes=notes)


def read(body: bytes, catalog: SkuCatalog, settings: ChannelSettings) -> Translation:
    event = decode_json(body)
    if not isinstance(event, dict):
        raise TranslationError("", "expected a JSON object")
    kind = str(event.get("type") or "")
    if kind == "inventory.count.updated":
        return inventory_counts(event, catalog, settings)
    if kind.startswith("order."):
        return Translation(notes=[f"{kind}: Square order events name no line items, ignored"])
    return Translation(notes=[f"{kind or 'an event without type'}: not about stock, ignored"])
