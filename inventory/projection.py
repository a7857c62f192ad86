"""Positions as callers see them, and the in-memory projection that folds events into them.

The in-memory projection is what replay, as-of queries and the tests use; the database keeps
the same states in tables and changes them with the same `apply_batch`.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from inventory.events import StockEvent
from inventory.stock import (
    Key,
    ReservationLine,
    StockBook,
    apply_batch,
    earliest_expiry,
    fold_in_order,
)


@dataclass(frozen=True, slots=True)
class Position:
    """Stock of one SKU at one location at one instant."""

    sku: str
    location: str
    on_hand: int
    reserved: int
    in_transit: int
    safety_stock: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)

    def sellable(self, buffer: int = 0) -> int:
        """What a channel may sell here: available less the channel's buffer, never below 0."""
        return sellable(self.available, buffer)

    @property
    def flags(self) -> list[str]:
        return position_flags(self.on_hand, self.reserved)

    @property
    def oversold(self) -> bool:
        return is_oversold(self.on_hand, self.reserved)

    def as_dict(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "location": self.location,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "in_transit": self.in_transit,
            "safety_stock": self.safety_stock,
            "available": self.available,
            "flags": self.flags,
        }

    def visible(self) -> tuple[int, int, int]:
        """What two projections must agree on."""
        return (self.on_hand, self.reserved, self.in_transit)


NEGATIVE_ON_HAND = "negative_on_hand"
RESERVED_EXCEEDS_ON_HAND = "reserved_exceeds_on_hand"
OVERSOLD = "oversold"


def is_oversold(on_hand: int, reserved: int) -> bool:
    """More was promised than is here: what is held cannot all be handed over, or more was
    sold or sent than the position held.  Exactly when `negative_on_hand` or
    `reserved_exceeds_on_hand` is set (reserved is never below zero).

    Stock-checked paths (reservations, click-and-collect, staff holds) never make a position
    oversold; recorded facts (channel orders, contract events) may, and are kept.  Safety stock
    and in-transit stock play no part: eating into the buffer is not overselling.
    """
    return reserved > on_hand


def position_flags(on_hand: int, reserved: int) -> list[str]:
    """Positions reality disagrees with are shown, never hidden: on hand below zero, or more
    reserved than is on hand; either makes the position `oversold`.  (Reconcile applies the
    same rule to a counted quantity.)"""
    found = []
    if on_hand < 0:
        found.append(NEGATIVE_ON_HAND)
    if reserved > max(on_hand, 0):
        found.append(RESERVED_EXCEEDS_ON_HAND)
    if is_oversold(on_hand, reserved):
        found.append(OVERSOLD)
    return found


def sellable(available: int, buffer: int) -> int:
    """A channel's buffer is held back on top of safety stock; nothing sells below zero."""
    return max(0, available - buffer)


class SafetyStock:
    """Buffers held back from sale: per (sku, location), else per location, else zero."""

    def __init__(
        self,
        per_location: Mapping[str, int] | None = None,
        per_item: Mapping[Key, int] | None = None,
    ) -> None:
        self.per_location = dict(per_location or {})
        self.per_item = dict(per_item or {})

    def for_key(self, key: Key) -> int:
        found = self.per_item.get(key)
        if found is not None:
            return found
        return self.per_location.get(key[1], 0)


class Projection:
    """Stock of every position, from events applied in any order, each at most once."""

    def __init__(self) -> None:
        self.book = StockBook()
        self._deltas: dict[Key, list[tuple[int, int]]] = defaultdict(list)
        self._lines_by_key: dict[Key, set[tuple[str, str, str]]] = defaultdict(set)
        self._seen: set[str] = set()

    def apply(self, events: Iterable[StockEvent]) -> None:
        """Apply a batch; events already applied (by event_id) are skipped."""
        fresh = []
        for event in events:
            if event.event_id in self._seen:
                continue
            self._seen.add(event.event_id)
            fresh.append(event)
            if event.on_hand_delta:
                bisect.insort(self._deltas[event.key], (event.occurred_at, event.on_hand_delta))
            if event.reservation_id is not None:
                self._lines_by_key[event.key].add((event.reservation_id, *event.key))
        apply_batch(self.book, fresh, self._later_deltas)

    def _later_deltas(self, key: Key, after: int) -> int:
        deltas = self._deltas.get(key, [])
        start = bisect.bisect_right(deltas, (after, float("inf")))
        return sum(delta for _, delta in deltas[start:])

    def lines_at(self, key: Key) -> list[ReservationLine]:
        return [self.book.lines[k] for k in self._lines_by_key.get(key, ()) if k in self.book.lines]

    def position(self, key: Key, now: int, safety: SafetyStock | None = None) -> Position:
        state = self.book.stock.get(key)
        if state is None:
            return Position(key[0], key[1], 0, 0, 0, _safety(safety, key))
        reserved = state.reserved
        if state.reserved_expiry is not None and state.reserved_expiry <= now:
            reserved = sum(line.holds_at(now) for line in self.lines_at(key))
        return Position(
            key[0], key[1], state.on_hand, reserved, state.in_transit, _safety(safety, key)
        )

    def positions(self, now: int, safety: SafetyStock | None = None) -> dict[Key, Position]:
        return {key: self.position(key, now, safety) for key in self.book.stock}

    def refresh_expiries(self) -> None:
        """Tighten every key's expiry bound to the exact earliest expiry of its held lines."""
        for key, state in self.book.stock.items():
            state.reserved_expiry = earliest_expiry(self.lines_at(key))


def _safety(safety: SafetyStock | None, key: Key) -> int:
    return 0 if safety is None else safety.for_key(key)


def project(
    events: Iterable[StockEvent], at: int | None = None, now: int | None = None
) -> dict[Key, Position]:
    """Positions from a set of events, as of event time `at` (all events when None).

    Reservations count unless expired at `at` (or at `now` when no `at` is given).
    """
    projection = Projection()
    chosen = [e for e in events if at is None or e.occurred_at <= at]
    projection.apply(chosen)
    instant = at if at is not None else now
    if instant is None:
        instant = max((e.occurred_at for e in chosen), default=0)
    return {
        key: position
        for key, position in projection.positions(instant).items()
        if key in projection.book.stock
    }


def fold_sorted(events: Iterable[StockEvent], book: StockBook | None = None) -> StockBook:
    """Fold events given in canonical order (`StockEvent.order_key`): the replay's fast path."""
    book = book or StockBook()
    fold_in_order(book, events)
    return book
