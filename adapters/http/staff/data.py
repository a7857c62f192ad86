"""What the staff page shows, read with the same functions the availability API uses.

Blocking: call through `in_thread`.  Numbers for the store and distances to other locations
come from `adapters.http.availability.scoped_lookup`, so the page and
`GET /v1/availability/{sku}?near=` can never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, desc, or_, select

from adapters.channels.common import normalise
from adapters.db import intake_tables as it
from adapters.db import personal_data
from adapters.db import tables as t
from adapters.db.database import Database
from adapters.http.availability import scoped_lookup
from adapters.http.keys import DB_KEY, LOCATIONS_KEY
from inventory.events import EventType, StockEvent

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
    a = it.sku_aliases.c
    with db.engines.read.connect() as connection:
        row = connection.execute(
            select(a.sku).where(
                or_(
                    and_(a.kind == "sku", a.value == text),
                    and_(a.kind == "gtin", a.value == normalise("gtin", text)),
                )
            )
        ).first()
        if row is not None:
            return str(row.sku)
        held = connection.execute(
            select(t.positions.c.sku).where(t.positions.c.sku == text).limit(1)
        ).first()
    return text if held is not None else None


def gtin_of(db: Database, sku: str) -> str | None:
    a = it.sku_aliases.c
    with db.engines.read.connect() as connection:
        row = connection.execute(
            select(a.value).where(a.kind == "gtin", a.sku == sku).limit(1)
        ).first()
    return None if row is None else str(row.value).lstrip("0").zfill(13)


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
    e = t.events.c
    query = (
        select(t.events)
        .where(e.sku == sku, or_(e.location == store, e.destination == store))
        .order_by(desc(e.occurred_at), desc(e.position))
        .limit(limit)
    )
    with db.engines.read.connect() as connection:
        rows = list(connection.execute(query))
    return [
        StockEvent(
            r.event_id,
            EventType(r.type),
            r.sku,
            r.location,
            int(r.quantity),
            int(r.occurred_at),
            channel=r.channel,
            reference=r.reference,
            reservation_id=r.reservation_id,
            destination=r.destination,
            reason=r.reason,
        )
        for r in rows
    ]


def open_holds(db: Database, store: str, now: int) -> list[Hold]:
    """Reservations still holding stock at the store (unexpired), oldest first."""
    c = t.reservation_lines.c
    query = (
        select(t.reservation_lines)
        .where(c.location == store, c.held > 0)
        .where(or_(c.never_expires.is_(True), c.expires_at.is_(None), c.expires_at > now))
    )
    found: dict[str, Hold] = {}
    with db.engines.read.connect() as connection:
        rows = list(connection.execute(query))
    lines: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in rows:
        found.setdefault(
            r.reservation_id,
            Hold(r.reservation_id, r.channel, r.reference, r.opened_at, r.expires_at),
        )
        lines[r.reservation_id].append((r.sku, int(r.held)))
    for rid, hold in found.items():
        hold.lines = sorted(lines[rid])
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
        "holds": [h for h in holds if h.channel == STAFF_CHANNEL],
        "pickups": [h for h in holds if h.channel != STAFF_CHANNEL],
    }
    if sku is not None:
        view["numbers"] = store_numbers(app, sku, store)
        view["lines"] = latest_lines(db, sku, store)
        view["nearby"] = nearby(app, sku, store, radius_km, 10)
    return view


def key_active(db: Database, key_id: str) -> bool:
    from adapters.db import api_tables as k

    c = k.api_keys.c
    with db.engines.read.connect() as connection:
        row = connection.execute(select(c.revoked_at).where(c.key_id == key_id)).first()
    return row is not None and row.revoked_at is None
