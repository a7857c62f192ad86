"""What the demo adds on top of its month of history so that every feature has something to
show, and every example in the guides finds what it documents:

- stock for the routing examples (a trail runner in Köln, Düsseldorf and Berlin);
- click-and-collect orders waiting at the store the staff page signs in to (`DE-BERLIN`);
- a reservation still held, one that expired and was not released yet (`inventory sweep`);
- dead letters: a till line with an unknown barcode, an event for an unknown store;
- a drift file: the Berlin store's count with a few differences (`inventory reconcile`).

Everything is keyed by fixed ids, so adding it twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from adapters.db.database import Database
from adapters.reconcile.export import export_snapshot
from inventory.events import EventType, StockEvent

HOUR = 3_600_000_000
DAY = 24 * HOUR

STAFF_STORE = "DE-BERLIN"  # the store the demo's store key (and the staff page) signs in to
SHOWCASE_STOCK = (
    ("TRAIL-BLK-42", "DE-KOELN", 6),
    ("TRAIL-BLK-42", "DE-DUESSELDORF", 4),
    ("TRAIL-BLK-42", "DE-BERLIN", 8),
    ("ROAD-NVY-40", "DE-BERLIN", 5),
    ("TEE-GRN-M", "DE-BERLIN", 6),
    ("TRAIL-BLK-42", "WH-KASSEL", 20),
)
# (reservation id, sku, location, quantity, hours from now to expiry)
PICKUPS = (
    ("CC-10001", "ROAD-NVY-40", "DE-BERLIN", 1, 48),
    ("CC-10002", "TEE-GRN-M", "DE-BERLIN", 2, 48),
)
HELD = ("WEB-20001", "TRAIL-BLK-42", "WH-KASSEL", 1, 24)
EXPIRED = ("WEB-20002", "TRAIL-BLK-42", "WH-KASSEL", 1, -1)
# a hold the staff page placed for a customer (name and phone in the personal-data store)
CUSTOMER_HOLD = ("staff-demo-0001", "TEE-GRN-M", "DE-BERLIN", 1, 24)
CUSTOMER = ("Ms Weber", "+49 170 1234567")
UNKNOWN_BARCODE = "4006381999999"


@dataclass
class Showcase:
    pickups: list[str] = field(default_factory=list)
    reservations: list[str] = field(default_factory=list)
    events: int = 0
    dead_letters: int = 0
    counts_file: Path | None = None


def demo_file(db: Database, suffix: str) -> Path:
    """A file that belongs to the demo database: beside a SQLite file, else in the current
    directory named after the server and database."""
    from sqlalchemy.engine import make_url

    url = make_url(db.url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database + suffix)
    return Path(f".inventory-demo-{url.host}-{url.database}{suffix}")


def add_showcase(db: Database, locations: set[str], skus: set[str]) -> Showcase:
    """Stock, reservations and dead letters (into a freshly seeded ledger); only for the
    locations and SKUs the (possibly smaller) demo network has."""
    now = db.reader.clock()
    shown = Showcase()
    events = [
        StockEvent(
            f"demo-stock-{sku}-{location}",
            EventType.RECEIPT,
            sku,
            location,
            quantity,
            now - 2 * HOUR,
            channel="wms",
            reference="PO-DEMO",
        )
        for sku, location, quantity in SHOWCASE_STOCK
        if location in locations and sku in skus
    ]
    for reservation_id, sku, location, quantity, hours in (*PICKUPS, HELD, EXPIRED):
        if location not in locations or sku not in skus:
            continue
        start = now - HOUR if hours > 0 else now - 3 * HOUR
        events.append(
            StockEvent(
                f"demo-{reservation_id}",
                EventType.RESERVATION,
                sku,
                location,
                quantity,
                start,
                channel="web",
                reservation_id=reservation_id,
                reference=f"order {reservation_id}",
                expires_at=now + hours * HOUR,
            )
        )
        (shown.pickups if reservation_id.startswith("CC-") else shown.reservations).append(
            reservation_id
        )
    shown.events = db.ledger.append(events).count("accepted")
    shown.events += _customer_hold(db, now, locations, skus, shown)
    shown.dead_letters = _dead_letters(db, now)
    return shown


def _customer_hold(
    db: Database, now: int, locations: set[str], skus: set[str], shown: Showcase
) -> int:
    from inventory.personal import Customer
    from inventory.reservations import Line
    from inventory.services.reservations import reserve

    reservation_id, sku, location, quantity, hours = CUSTOMER_HOLD
    if location not in locations or sku not in skus:
        return 0
    result = reserve(
        db.unit_of_work,
        reservation_id,
        location,
        [Line(sku, quantity)],
        now + hours * HOUR,
        "staff",
        customer=Customer(*CUSTOMER),
    )
    if result.status != "created":
        return 0
    shown.reservations.append(reservation_id)
    return 1


def _dead_letters(db: Database, now: int) -> int:
    from adapters.channels.store import Translator, apply_messages
    from inventory.events import format_instant
    from inventory.ports import Message

    at = format_instant(now - HOUR)
    till = f"store,till,receipt,barcode,qty,time\nDE-BERLIN,T1,R-9001,{UNKNOWN_BARCODE},1,{at}\n"
    event = {
        "event_id": "demo-unknown-store-1",
        "type": "sale",
        "sku": "TRAIL-BLK-42",
        "location": "DE-BERLIN-MITTE",
        "quantity": 1,
        "occurred_at": at,
    }
    messages = [
        Message("demo:pos.lines", -1, -1, "pos", till.encode()),
        Message("demo:inventory.events", -1, -1, "contract", json.dumps(event).encode()),
    ]
    return len(apply_messages(db, Translator(db), messages).dead)


def write_counts(db: Database, store: str) -> Path | None:
    """The store's on-hand now, as a night's count would report it, with three differences."""
    text = io.StringIO()
    export_snapshot(db, text, db.reader.clock(), [store])
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    if len(rows) < 2:
        return None
    header, body = rows[0], rows[1:]
    column = header.index("on_hand")
    changed = 0
    for row in body:
        on_hand = int(row[column])
        if on_hand >= 3 and changed < 3:
            row[column] = str(on_hand + (-2, -1, 1)[changed])
            changed += 1
    path = demo_file(db, ".demo-counts.csv")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    path.write_text(out.getvalue())
    return path
