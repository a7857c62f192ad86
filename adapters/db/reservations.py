"""Reservations that never oversell: check and append in one transaction, under row locks.

`reserve` locks the positions of every line (in key order), reads what is available *now*
(unexpired reservations and safety stock taken off), and only then appends the reservation
events through the ledger, in the same transaction.  A second reserver for the same unit waits
for the lock (PostgreSQL) or the write lock (SQLite) and then sees the first one's hold.
Release, fulfil and the expiry sweep are ledger events too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.database import Database
from adapters.db.ledger import AppendResult
from inventory.events import EventType, StockEvent
from inventory.projection import Position
from inventory.stock import Key


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shortfall:
    sku: str
    requested: int
    available: int


@dataclass
class Reservation:
    """A reservation as the ledger holds it: its lines at one location and what each holds."""

    reservation_id: str
    location: str
    lines: list[dict[str, Any]]
    expires_at: int | None
    channel: str | None
    reference: str | None
    opened_at: int | None

    @property
    def held(self) -> int:
        return sum(int(line["held"]) for line in self.lines)

    def status(self, now: int) -> str:
        if self.held == 0:
            fulfilled = sum(int(line["fulfilled"]) for line in self.lines)
            return "fulfilled" if fulfilled else "released"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass
class ReserveResult:
    """created | existing (same request again) | conflict (same id, other request) | short."""

    status: str
    reservation: Reservation | None = None
    shortfalls: list[Shortfall] = field(default_factory=list)
    append: AppendResult | None = None


def merge_lines(lines: Sequence[Line]) -> list[Line]:
    """One line per SKU, quantities added, in SKU order (the lock order)."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.sku] += line.quantity
    return [Line(sku, totals[sku]) for sku in sorted(totals)]


def reserve(
    db: Database,
    reservation_id: str,
    location: str,
    lines: Sequence[Line],
    expires_at: int | None,
    channel: str | None = None,
    reference: str | None = None,
    buffer: int = 0,
    then: Callable[[Connection, int], None] | None = None,
    ttl: int | None = None,
) -> ReserveResult:
    """All lines or none.  `buffer` is held back on top of safety stock (a channel's policy).

    `then(connection, now)` runs after a successful append, in the same transaction (e.g. to
    book a pickup slot); if it raises, nothing is reserved.  With `ttl` (microseconds) the
    reservation expires that long after the instant it is made (`expires_at` is then ignored).
    """
    try:
        with db.engines.write.begin() as connection:
            return reserve_in(
                db,
                connection,
                reservation_id,
                location,
                lines,
                expires_at,
                channel,
                reference,
                buffer,
                then,
                ttl,
            )
    except ReservationRace:  # rolled back; the other request's reservation stands
        return ReserveResult("conflict", get_reservation(db, reservation_id))


class ReservationRace(Exception):
    """The same reservation id was committed meanwhile for other positions (whose locks this
    request did not hold): this request must not add lines to it."""


def reserve_in(
    db: Database,
    connection: Connection,
    reservation_id: str,
    location: str,
    lines: Sequence[Line],
    expires_at: int | None,
    channel: str | None = None,
    reference: str | None = None,
    buffer: int = 0,
    then: Callable[[Connection, int], None] | None = None,
    ttl: int | None = None,
) -> ReserveResult:
    """`reserve` inside the caller's transaction (several reservations can share one commit)."""
    wanted = merge_lines(lines)
    now = db.ledger.clock()
    if ttl is not None:
        expires_at = now + ttl
    keys = [(line.sku, location) for line in wanted]
    db.ledger.lock(connection, keys)
    # checked under the locks: a request with the same id may have committed meanwhile
    existing = load_reservation(connection, reservation_id)
    if existing is not None:
        return _repeated(existing, location, wanted)
    positions = positions_in(db, connection, keys, now)
    shortfalls = [
        Shortfall(
            line.sku, line.quantity, max(0, positions[(line.sku, location)].available - buffer)
        )
        for line in wanted
        if positions[(line.sku, location)].available - buffer < line.quantity
    ]
    if shortfalls:
        return ReserveResult("short", shortfalls=shortfalls)
    events = [
        StockEvent(
            f"{reservation_id}:{line.sku}:reserve",
            EventType.RESERVATION,
            line.sku,
            location,
            line.quantity,
            now,
            channel=channel,
            reference=reference,
            reservation_id=reservation_id,
            expires_at=expires_at,
        )
        for line in wanted
    ]
    appended = db.ledger.append_in(connection, events)
    if appended.count("accepted") != len(events):
        raise ReservationRace(reservation_id)
    if then is not None:
        then(connection, now)
    return ReserveResult("created", load_reservation(connection, reservation_id), append=appended)


def _repeated(existing: Reservation, location: str, wanted: list[Line]) -> ReserveResult:
    same = existing.location == location and sorted(
        (x["sku"], x["reserved"]) for x in existing.lines
    ) == [(x.sku, x.quantity) for x in wanted]
    return ReserveResult("existing" if same else "conflict", existing)


class _LineRow(NamedTuple):
    sku: str
    location: str
    reserved: int
    released: int
    fulfilled: int
    held: int
    expires_at: int | None
    never_expires: bool
    opened_at: int | None
    channel: str | None
    reference: str | None


def positions_in(
    db: Database, connection: Connection, keys: list[Key], now: int
) -> dict[Key, Position]:
    """Positions read on the writer's own connection (inside its locks); zeros where none."""
    found = {(p.sku, p.location): p for p in db.reader.positions_in(connection, keys, now)}
    missing = [key for key in keys if key not in found]
    if missing:
        safety = db.reader.safety(
            connection, sorted({k[1] for k in missing}), sorted({k[0] for k in missing})
        )
        for key in missing:
            found[key] = Position(key[0], key[1], 0, 0, 0, safety.for_key(key))
    return found


def load_reservation(connection: Connection, reservation_id: str) -> Reservation | None:
    m = raw.mark(connection)
    rows = [
        _LineRow(*row)
        for row in raw.fetch(
            connection,
            "SELECT sku, location, reserved, released, fulfilled, held, expires_at, "
            "never_expires, opened_at, channel, reference FROM reservation_lines "
            f"WHERE reservation_id = {m} AND reserved > 0 ORDER BY sku",
            [reservation_id],
        )
    ]
    if not rows:
        return None
    first = rows[0]
    expiries = [row.expires_at for row in rows if not row.never_expires]
    return Reservation(
        reservation_id=reservation_id,
        location=first.location,
        lines=[
            {
                "sku": r.sku,
                "location": r.location,
                "reserved": r.reserved,
                "released": r.released,
                "fulfilled": r.fulfilled,
                "held": r.held,
            }
            for r in rows
        ],
        expires_at=max((e for e in expiries if e is not None), default=None)
        if len(expiries) == len(rows)
        else None,
        channel=first.channel,
        reference=first.reference,
        opened_at=min((r.opened_at for r in rows if r.opened_at is not None), default=None),
    )


def get_reservation(db: Database, reservation_id: str) -> Reservation | None:
    with db.engines.read.connect() as connection:
        return load_reservation(connection, reservation_id)


@dataclass
class SettleResult:
    """released | fulfilled | not_found | too_much (a line asks more than it holds) | expired.

    `expired`: a fulfilment of a reservation whose hold has lapsed; its stock already counts
    as available again, so handing it over could oversell.
    """

    status: str
    reservation: Reservation | None = None
    problems: list[Shortfall] = field(default_factory=list)


def release(db: Database, reservation_id: str, reason: str | None = None) -> SettleResult:
    """Release everything the reservation still holds."""
    return _settle(db, reservation_id, EventType.RESERVATION_RELEASE, None, reason)


def fulfil(db: Database, reservation_id: str, lines: Sequence[Line] | None = None) -> SettleResult:
    """Hand over the whole reservation, or the given lines (each at most what it holds)."""
    return _settle(db, reservation_id, EventType.FULFILMENT, lines, None)


def _settle(
    db: Database,
    reservation_id: str,
    kind: EventType,
    lines: Sequence[Line] | None,
    reason: str | None,
) -> SettleResult:
    with db.engines.write.begin() as connection:
        found = load_reservation(connection, reservation_id)
        if found is None:
            return SettleResult("not_found")
        db.ledger.lock(connection, sorted({(x["sku"], x["location"]) for x in found.lines}))
        found = load_reservation(connection, reservation_id)  # as of the lock
        assert found is not None
        now = db.ledger.clock()
        if kind is EventType.FULFILMENT and found.status(now) == "expired":
            return SettleResult("expired", found)
        held = {x["sku"]: int(x["held"]) for x in found.lines}
        asked = {x.sku: x.quantity for x in merge_lines(lines)} if lines else dict(held)
        problems = [
            Shortfall(sku, q, held.get(sku, 0)) for sku, q in asked.items() if q > held.get(sku, 0)
        ]
        if problems:
            return SettleResult("too_much", found, problems)
        serial = _next_serial(connection, reservation_id, kind)
        events = [
            StockEvent(
                f"{reservation_id}:{sku}:{kind.value}:{serial}",
                kind,
                sku,
                found.location,
                quantity,
                now,
                channel=found.channel,
                reference=found.reference,
                reservation_id=reservation_id,
                reason=reason,
            )
            for sku, quantity in sorted(asked.items())
            if quantity > 0
        ]
        db.ledger.append_in(connection, events)
        done = "released" if kind is EventType.RESERVATION_RELEASE else "fulfilled"
        return SettleResult(done, load_reservation(connection, reservation_id))


def _next_serial(connection: Connection, reservation_id: str, kind: EventType) -> int:
    """Units settled so far on the reservation: grows with every release or fulfilment, so
    event ids stay unique, and needs no index on the ledger."""
    c = t.reservation_lines.c
    query = select(func.coalesce(func.sum(c.released + c.fulfilled), 0)).where(
        c.reservation_id == reservation_id
    )
    return int(connection.execute(query).scalar_one()) + 1


def sweep_expired(db: Database, limit: int = 5000) -> int:
    """Write `reservation_release` events for lines whose reservation has expired."""
    now = db.ledger.clock()
    c = t.reservation_lines.c
    with db.engines.write.begin() as connection:
        query = (
            select(c.reservation_id, c.sku, c.location, c.held, c.channel, c.reference)
            .where(
                c.held > 0,
                c.never_expires.is_(False),
                c.expires_at.is_not(None),
                c.expires_at <= now,
            )
            .order_by(c.sku, c.location, c.reservation_id)
            .limit(limit)
        )
        rows = list(connection.execute(query))
        if not rows:
            return 0
        db.ledger.lock(connection, sorted({(r.sku, r.location) for r in rows}))
        rows = list(connection.execute(query))  # as of the locks
        events = [
            StockEvent(
                f"{r.reservation_id}:{r.sku}:{r.location}:expired",
                EventType.RESERVATION_RELEASE,
                r.sku,
                r.location,
                int(r.held),
                now,
                channel=r.channel,
                reference=r.reference,
                reservation_id=r.reservation_id,
                reason="expired",
            )
            for r in rows
        ]
        return db.ledger.append_in(connection, events).count("accepted")
