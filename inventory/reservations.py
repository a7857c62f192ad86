"""Reservations as the ledger holds them, and the rules for making and settling them.

A reservation is a set of reservation lines (one per SKU) at one location; what each line holds
is `ReservationLine.held` folded from the ledger.  These are plain values: the use cases in
`inventory.services.reservations` read and write them through the unit of work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from inventory.events import EventType, StockEvent
from inventory.ledger import AppendResult
from inventory.projection import Position
from inventory.stock import has_expired, line_expiry


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Shortfall:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class StoredLine:
    """One reservation line as stored, by column name."""

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
        if has_expired(self.expires_at, now):
            return "expired"
        return "active"

    @classmethod
    def from_lines(cls, reservation_id: str, rows: Sequence[StoredLine]) -> Reservation | None:
        """The reservation of its stored lines (None when it has none); it expires when its
        last line does, never when one line never expires."""
        if not rows:
            return None
        rows = sorted(rows, key=lambda r: r.sku)
        first = rows[0]
        expiries = [line_expiry(r.expires_at, r.never_expires) for r in rows]
        return cls(
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
            expires_at=None
            if any(e is None for e in expiries)
            else max(e for e in expiries if e is not None),
            channel=first.channel,
            reference=first.reference,
            opened_at=min((r.opened_at for r in rows if r.opened_at is not None), default=None),
        )


@dataclass
class ReserveResult:
    """created | existing (same request again) | conflict (same id, other request) | short."""

    status: str
    reservation: Reservation | None = None
    shortfalls: list[Shortfall] = field(default_factory=list)
    append: AppendResult | None = None


@dataclass
class SettleResult:
    """released | fulfilled | not_found | too_much (a line asks more than it holds) | expired.

    `expired`: a fulfilment of a reservation whose hold has lapsed; its stock already counts
    as available again, so handing it over could oversell.
    """

    status: str
    reservation: Reservation | None = None
    problems: list[Shortfall] = field(default_factory=list)


@dataclass(frozen=True)
class ExpiredLine:
    """A line whose hold lapsed but whose release is not yet written (the sweep's work)."""

    reservation_id: str
    sku: str
    location: str
    held: int
    channel: str | None
    reference: str | None


def merge_lines(lines: Iterable[Line]) -> list[Line]:
    """One line per SKU, quantities added, in SKU order (the lock order).  Lines of one SKU are
    summed before any check, so two lines cannot each pass on the same unit."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.sku] += line.quantity
    return [Line(sku, totals[sku]) for sku in sorted(totals)]


def shortfalls(
    wanted: Sequence[Line], location: str, positions: dict[Any, Position], buffer: int
) -> list[Shortfall]:
    """Lines the location cannot hold for a channel with `buffer` (all-or-nothing check)."""
    found = []
    for line in wanted:
        sellable = positions[(line.sku, location)].sellable(buffer)
        if sellable < line.quantity:
            found.append(Shortfall(line.sku, line.quantity, sellable))
    return found


def same_lines(existing: Reservation, location: str, wanted: Sequence[Line]) -> bool:
    return existing.location == location and sorted(
        (x["sku"], x["reserved"]) for x in existing.lines
    ) == [(x.sku, x.quantity) for x in wanted]


def reservation_events(
    reservation_id: str,
    location: str,
    wanted: Sequence[Line],
    now: int,
    expires_at: int | None,
    channel: str | None,
    reference: str | None,
) -> list[StockEvent]:
    return [
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


def settle_events(
    found: Reservation,
    kind: EventType,
    asked: dict[str, int],
    serial: int,
    now: int,
    reason: str | None,
) -> list[StockEvent]:
    """Release or fulfilment events; `serial` (units settled so far + 1) keeps ids unique."""
    return [
        StockEvent(
            f"{found.reservation_id}:{sku}:{kind.value}:{serial}",
            kind,
            sku,
            found.location,
            quantity,
            now,
            channel=found.channel,
            reference=found.reference,
            reservation_id=found.reservation_id,
            reason=reason,
        )
        for sku, quantity in sorted(asked.items())
        if quantity > 0
    ]


def expiry_release(line: ExpiredLine, now: int) -> StockEvent:
    """The release the sweep writes for a lapsed line (its id makes a second sweep a no-op)."""
    return StockEvent(
        f"{line.reservation_id}:{line.sku}:{line.location}:expired",
        EventType.RESERVATION_RELEASE,
        line.sku,
        line.location,
        line.held,
        now,
        channel=line.channel,
        reference=line.reference,
        reservation_id=line.reservation_id,
        reason="expired",
    )
