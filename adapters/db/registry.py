"""The location registry as stored: locations (stores and warehouses) and the pickups booked
against a store's daily capacity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, select

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.engine import Engines
from adapters.db.ledger import chunks, dialect_insert

PLACE_COLUMNS = ("id", "kind", "lat", "lon", "ship_enabled", "pickup_enabled")


def _plain(row: Any) -> dict[str, Any]:
    return {str(name): value for name, value in row._mapping.items()}


# -- locations -----------------------------------------------------------------------------------


def save(engines: Engines, rows: Sequence[dict[str, Any]]) -> int:
    """Upsert whole location rows by id, in one transaction."""
    if not rows:
        return 0
    with engines.write.begin() as connection:
        statement = dialect_insert(connection, t.locations)
        updates = {name: statement.excluded[name] for name in rows[0] if name != "id"}
        for part in chunks(list(rows), 500):
            connection.execute(
                statement.on_conflict_do_update(index_elements=["id"], set_=updates), list(part)
            )
    return len(rows)


def remove(engines: Engines, location_id: str) -> bool:
    with engines.write.begin() as connection:
        result = connection.execute(delete(t.locations).where(t.locations.c.id == location_id))
        return bool(result.rowcount)


def rows(engines: Engines, kind: str | None = None) -> list[dict[str, Any]]:
    """Whole location rows by id (of one kind, when given)."""
    query = select(t.locations).order_by(t.locations.c.id)
    if kind is not None:
        query = query.where(t.locations.c.kind == kind)
    with engines.read.connect() as connection:
        return [_plain(row) for row in connection.execute(query)]


def get(engines: Engines, location_id: str) -> dict[str, Any] | None:
    with engines.read.connect() as connection:
        row = connection.execute(select(t.locations).where(t.locations.c.id == location_id)).first()
        return None if row is None else _plain(row)


def places(engines: Engines) -> list[dict[str, Any]]:
    """Every location's id, kind, coordinates and what it offers (`PLACE_COLUMNS`)."""
    columns = [t.locations.c[name] for name in PLACE_COLUMNS]
    with engines.read.connect() as connection:
        return [_plain(row) for row in connection.execute(select(*columns))]


def timezone_of(engines: Engines, location_id: str) -> str | None:
    """The location's IANA time zone (None for an unknown location or an empty zone)."""
    c = t.locations.c
    with engines.read.connect() as connection:
        row = connection.execute(select(c.timezone).where(c.id == location_id)).first()
    return str(row.timezone) if row is not None and row.timezone else None


# -- pickups -------------------------------------------------------------------------------------


def booked(
    connection: Connection, locations: Sequence[str], since: date
) -> dict[tuple[str, date], int]:
    """Pickups per (store, local day) from `since` on whose reservation is not released, read
    on the caller's connection (a booking reads them inside its transaction)."""
    p, r = t.pickups.c, t.reservation_lines.c
    live = (
        select(r.reservation_id)
        .where(r.reservation_id == p.reservation_id)
        .where((r.held > 0) | (r.fulfilled > 0))
        .exists()
    )
    found: dict[tuple[str, date], int] = {}
    for part in chunks(list(locations)):
        query = (
            select(p.location, p.day, func.count().label("pickups"))
            .where(p.location.in_(list(part)), p.day >= since.isoformat(), live)
            .group_by(p.location, p.day)
        )
        for row in connection.execute(query):
            found[(row.location, date.fromisoformat(row.day))] = int(row.pickups)
    return found


def booked_now(
    engines: Engines, locations: Sequence[str], since: date
) -> dict[tuple[str, date], int]:
    """`booked`, on a read connection of its own."""
    with engines.read.connect() as connection:
        return booked(connection, locations, since)


def lock_for_booking(connection: Connection, location_id: str) -> None:
    """One booker per store at a time, so two never take the last slot of a day (a row lock
    on PostgreSQL; SQLite's writer already holds the file lock)."""
    if raw.is_postgres(connection):
        c = t.locations.c
        connection.execute(select(c.id).where(c.id == location_id).with_for_update())


def book(
    connection: Connection, reservation_id: str, location: str, day: date, ready: int, now: int
) -> None:
    """Take a pickup slot, inside the reservation's transaction."""
    connection.execute(
        t.pickups.insert().values(
            reservation_id=reservation_id,
            location=location,
            day=day.isoformat(),
            ready_by=ready,
            booked_at=now,
        )
    )


def pickup_of(engines: Engines, reservation_id: str) -> dict[str, Any] | None:
    """The pickup booked for a reservation: location, day (ISO), ready_by, booked_at."""
    with engines.read.connect() as connection:
        row = connection.execute(
            select(t.pickups).where(t.pickups.c.reservation_id == reservation_id)
        ).first()
    return None if row is None else _plain(row)
