"""What the staff page shows, read with the same functions the availability API uses.

Blocking: call through `in_thread`.  Numbers for the store and distances to other locations
come from `adapters.http.availability.scoped_lookup`, so the page and
`GET /v1/availability/{sku}?near=` can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.channels.common import normalise
from adapters.db import holds, personal_data, product_codes
from adapters.db import keys as stored_keys
from adapters.db.database import Database
from adapters.http.availability import scoped_lookup
from adapters.http.keys import DB_KEY, LOCATIONS_KEY
from inventory.events import StockEvent

STAFF_CHANNEL = "staff"
EARTH_WIDE_KM = 20_040.0  # the largest radius the API accepts: half the equator
NUMBERS = ("available", "on_hand", "reserved", "in_transit", "safety_stock")


@dataclass
class Hold:
    reservation_id: str
    channel: str | None
    reference: str | None
    opened_at: int | None
    expires_at: int | None
    lines: list[tuple[str, int]] = field(default_factory=list)
    customer: str | None = None  # the name, while the personal-data store holds it

    def seconds_left(self, now: int) -> int | None:
        return None if self.expires_at is None else max(0, (self.expires_at - now) // 1_000_000)


def find_sku(db: Database, text: str) -> str | None:
    """The SKU a typed or scanned code names: a SKU, or a barcode/GTIN mapped to one."""
    text = text.strip()
    if not text or len(text) > 200:
        return None
    return product_codes.sku_named(db.engines, text, normalise("gtin", text))


def gtin_of(db: Database, sku: str) -> str | None:
    found = product_codes.gtin_of(db.engines, sku)
    return None if found is None else found.lstrip("0").zfill(13)


def store_numbers(app: Any, sku: str, store: str) -> dict[str, Any]:
    """The store's row exactly as `GET /v1/availability/{sku}?location=<store>` answers it."""
    stamp, items = scoped_lookup(app, [sku], [store], None, None, 0.0, None)
    rows = items[0]["locations"]
    row = rows[0] if rows else {name: 0 for name in NUMBERS}
    return {"as_of": stamp, **{name: row[name] for name in NUMBERS}}


def nearby(app: Any, sku: str, store: str, radius_km: float, limit: int) -> dict[str, Any]:
    """Other stores within `radius_km`, nearest first, and every warehouse that ships (at any
    distance), with available quantity and distance, as `?near=<store's lat,lon>` answers."""
    places = app[LOCATIONS_KEY].places()
    here = places.get(store)
    if here is None:
        return {"stores": [], "warehouses": []}
    _, items = scoped_lookup(app, [sku], None, None, (here.lat, here.lon), EARTH_WIDE_KM, None)
    stores: list[dict[str, Any]] = []
    warehouses: list[dict[str, Any]] = []
    for row in items[0]["locations"]:
        place = places.get(row["location"])
        if place is None or row["location"] == store:
            continue
        if place.kind == "warehouse":
            if place.ship_enabled:
                warehouses.append(row)
        elif len(stores) < limit and row["distance_km"] <= radius_km:
            stores.append(row)
    return {"stores": stores, "warehouses": warehouses}


def latest_lines(db: Database, sku: str, store: str, limit: int = 8) -> list[StockEvent]:
    """The newest ledger lines (event time) that explain the store's position."""
    return db.reader.latest(sku, store, limit)


def open_holds(db: Database, store: str, now: int) -> list[Hold]:
    """Reservations still holding stock at the store at `now`, oldest first."""
    found: dict[str, Hold] = {}
    for line in holds.open_lines(db.engines, store, now):
        hold = found.get(line.reservation_id)
        if hold is None:
            hold = found[line.reservation_id] = Hold(
                line.reservation_id, line.channel, line.reference, line.opened_at, line.expiry
            )
        hold.lines.append((line.sku, line.held))
    for hold in found.values():
        hold.lines.sort()
    return sorted(found.values(), key=lambda h: (h.opened_at or 0, h.reservation_id))


def live_view(app: Any, sku: str | None, store: str, radius_km: float) -> dict[str, Any]:
    """Everything the live part of the page shows, read at one instant."""
    db: Database = app[DB_KEY]
    now = db.reader.clock()
    holds = open_holds(db, store, now)
    names = personal_data.customer_names(db, [h.reservation_id for h in holds])
    for hold in holds:
        hold.customer = names.get(hold.reservation_id)
    view: dict[str, Any] = {
        "now": now,
        "sku": sku,
        # positions of this store with more promised than is here (`Position.oversold`)
        "oversold": db.reader.oversold(store, now),
        "holds": [h for h in holds if h.channel == STAFF_CHANNEL],
        "pickups": [h for h in holds if h.channel != STAFF_CHANNEL],
    }
    if sku is not None:
        view["numbers"] = store_numbers(app, sku, store)
        view["lines"] = latest_lines(db, sku, store)
        view["nearby"] = nearby(app, sku, store, radius_km, 10)
    return view


def key_active(db: Database, key_id: str) -> bool:
    return stored_keys.is_active(db.engines, key_id)
