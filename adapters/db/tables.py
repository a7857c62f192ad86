"""Table definitions shared by the ledger, the projection and the migrations.

Instants are BIGINT microseconds since the epoch (UTC): exact, sortable and the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    text,
)

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY
Position = BigInteger().with_variant(Integer(), "sqlite")
Name = String(200)

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Name, nullable=False, unique=True),
    Column("type", String(24), nullable=False),
    Column("sku", Name, nullable=False),
    Column("location", Name, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("occurred_at", BigInteger, nullable=False),
    Column("on_hand_delta", BigInteger, nullable=False),
    Column("channel", Name),
    Column("reference", Name),
    Column("reservation_id", Name),
    Column("expires_at", BigInteger),
    Column("destination", Name),
    Column("reason", String(500)),
    Column("content_hash", String(32), nullable=False),
    Column("recorded_at", BigInteger, nullable=False),
    Index("ix_events_key_time", "sku", "location", "occurred_at"),
    # transfers only: as-of queries find what is on its way to a location
    Index(
        "ix_events_destination",
        "destination",
        "sku",
        sqlite_where=text("destination IS NOT NULL"),
        postgresql_where=text("destination IS NOT NULL"),
    ),
)

positions = Table(
    "positions",
    metadata,
    Column("sku", Name, primary_key=True),
    Column("location", Name, primary_key=True),
    Column("on_hand", BigInteger, nullable=False, default=0),
    Column("count_at", BigInteger),
    Column("count_event_id", Name),
    Column("count_quantity", BigInteger),
    Column("in_transit", BigInteger, nullable=False, default=0),
    Column("reserved", BigInteger, nullable=False, default=0),
    Column("reserved_expiry", BigInteger),
    Column("last_position", BigInteger, nullable=False, default=0),
    Index("ix_positions_location", "location", "sku"),
)

# positions oversold at their last change (`inventory.projection.is_oversold`), kept by the
# append that crossed the line, so the feed says so once per crossing; a superset of those
# oversold now (holds only lapse between appends), so reads judge each again
oversold_positions = Table(
    "oversold_positions",
    metadata,
    Column("sku", Name, primary_key=True),
    Column("location", Name, primary_key=True),
    Column("since_position", BigInteger, nullable=False),  # the ledger position that crossed
    Index("ix_oversold_positions_location", "location"),
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column("reservation_id", Name, primary_key=True),
    Column("sku", Name, primary_key=True),
    Column("location", Name, primary_key=True),
    Column("reserved", BigInteger, nullable=False, default=0),
    Column("released", BigInteger, nullable=False, default=0),
    Column("fulfilled", BigInteger, nullable=False, default=0),
    Column("held", BigInteger, nullable=False, default=0),
    Column("expires_at", BigInteger),
    Column("never_expires", Boolean, nullable=False, default=False),
    Column("opened_at", BigInteger),
    Column("channel", Name),
    Column("reference", Name),
    Index("ix_reservation_lines_key", "sku", "location", "held"),
    Index("ix_reservation_lines_location", "location", "held"),
)

transfer_legs = Table(
    "transfer_legs",
    metadata,
    Column("sku", Name, primary_key=True),
    Column("destination", Name, primary_key=True),
    Column("reference", Name, primary_key=True),
    Column("sent", BigInteger, nullable=False, default=0),
    Column("received", BigInteger, nullable=False, default=0),
)

safety_stock = Table(
    "safety_stock",
    metadata,
    Column("location", Name, primary_key=True),
    # "" stands for every SKU at the location; a SKU's own row wins over it
    Column("sku", Name, primary_key=True, default=""),
    Column("quantity", BigInteger, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Name, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),  # store or warehouse
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", String(500)),
    Column("postal_code", String(40)),
    Column("city", String(200)),
    Column("country", String(2)),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("pickup_enabled", Boolean, nullable=False, default=False),
    Column("ship_enabled", Boolean, nullable=False, default=False),
    # {"mon": [["09:00", "18:00"]], ...}; a missing day is closed
    Column("opening_hours", JSON),
    Column("handling_minutes", Integer, nullable=False, default=60),
    Column("pickup_capacity", Integer),  # pickups per day; None is unlimited
    Index("ix_locations_kind", "kind"),
)

# click-and-collect pickups booked against a store's daily capacity, one row per reservation
pickups = Table(
    "pickups",
    metadata,
    Column("reservation_id", Name, primary_key=True),
    Column("location", Name, nullable=False),
    Column("day", String(10), nullable=False),  # the store's local date, ISO
    Column("ready_by", BigInteger, nullable=False),
    Column("booked_at", BigInteger, nullable=False),
    Index("ix_pickups_location_day", "location", "day"),
)
