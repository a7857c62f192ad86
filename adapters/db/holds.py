"""Reservation lines still holding stock at a location: the staff page's holds and pickups."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from adapters.db import tables as t
from adapters.db.engine import Engines
from inventory.stock import holds_at, line_expiry


@dataclass(frozen=True, slots=True)
class HeldLine:
    reservation_id: str
    sku: str
    held: int  # what the line holds at the instant read
    expiry: int | None  # None: never expires
    channel: str | None
    reference: str | None
    opened_at: int | None


def open_lines(engines: Engines, location: str, now: int) -> list[HeldLine]:
    """Lines holding stock at `location` at `now` (expired ones hold nothing), by reservation
    and SKU."""
    c = t.reservation_lines.c
    query = (
        select(t.reservation_lines)
        .where(c.location == location, c.held > 0)  # narrows the read; the rule decides
        .order_by(c.reservation_id, c.sku)
    )
    with engines.read.connect() as connection:
        rows = list(connection.execute(query))
    found = []
    for row in rows:
        expiry = line_expiry(row.expires_at, bool(row.never_expires))
        held = holds_at(int(row.held), expiry, now)
        if held:
            found.append(
                HeldLine(
                    reservation_id=row.reservation_id,
                    sku=row.sku,
                    held=held,
                    expiry=expiry,
                    channel=row.channel,
                    reference=row.reference,
                    opened_at=row.opened_at,
                )
            )
    return found
