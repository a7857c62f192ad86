"""The stock state per (sku, location) and how a batch of new events changes it.

Every rule here is commutative, so the state is a function of the *set* of events applied:
- on hand is the latest count (by event time, ties by event_id) plus the on-hand deltas later
  than that count; without a count, the sum of all deltas;
- a reservation line holds max(0, reserved - released - fulfilled);
- a transfer leg is in transit for max(0, sent - received).

The same code runs in memory (replay, as-of, tests) and against the database; the caller
supplies the state of the touched keys and a way to sum ledger deltas after an instant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from inventory.events import (
    ON_HAND_SIGN,
    RESERVATION_TYPES,
    TRANSFER_TYPES,
    EventType,
    StockEvent,
)

Key = tuple[str, str]  # (sku, location)
LineKey = tuple[str, str, str]  # (reservation_id, sku, location)
LegKey = tuple[str, str, str]  # (sku, destination, reference)

# sum of on-hand deltas for a key strictly after an instant, over every event recorded so far
LaterDeltas = Callable[[Key, int], int]


@dataclass(slots=True)
class StockState:
    """On hand and the count it is anchored to, plus summaries of lines and legs."""

    on_hand: int = 0
    count_at: int | None = None
    count_event_id: str | None = None
    count_quantity: int | None = None
    in_transit: int = 0
    reserved: int = 0  # held by all lines, expired or not
    # Never later than the earliest expiry among held lines (a lower bound, refreshed by the
    # sweeper): until then `reserved` is exact at read time without looking at lines.
    reserved_expiry: int | None = None

    def count_beaten_by(self, event: StockEvent) -> bool:
        if self.count_at is None or self.count_event_id is None:
            return True
        return (event.occurred_at, event.event_id) > (self.count_at, self.count_event_id)

    def delta_applies(self, occurred_at: int) -> bool:
        """A delta at or before the anchoring count is already inside that count."""
        return self.count_at is None or occurred_at > self.count_at


@dataclass(slots=True)
class ReservationLine:
    reserved: int = 0
    released: int = 0
    fulfilled: int = 0
    expires_at: int | None = None
    never_expires: bool = False
    # taken from the earliest reservation event of the line, for listing holds and pickups
    opened_at: int | None = None
    channel: str | None = None
    reference: str | None = None

    @property
    def held(self) -> int:
        return max(0, self.reserved - self.released - self.fulfilled)

    @property
    def expiry(self) -> int | None:
        """Latest expiry of the line's reservations; None when one of them never expires."""
        return line_expiry(self.expires_at, self.never_expires)

    def holds_at(self, instant: int) -> int:
        return holds_at(self.held, self.expiry, instant)


def line_expiry(expires_at: int | None, never_expires: bool) -> int | None:
    """When a reservation line stops holding: its latest expiry, or None (never) when one of
    its reservations has no expiry.  Readers of stored lines pass the stored columns."""
    return None if never_expires else expires_at


def has_expired(expiry: int | None, instant: int) -> bool:
    """A hold has lapsed at `instant` once its expiry is at or before it (None never lapses)."""
    return expiry is not None and expiry <= instant


def holds_at(held: int, expiry: int | None, instant: int) -> int:
    """What a line holds at `instant`: everything until it expires, nothing from then on.

    The one rule for expiry: the projection, every stock read, the sweep and the staff page's
    list of holds all ask it."""
    return 0 if has_expired(expiry, instant) else held


@dataclass(slots=True)
class TransferLeg:
    sent: int = 0
    received: int = 0

    @property
    def outstanding(self) -> int:
        return max(0, self.sent - self.received)


@dataclass(slots=True)
class StockBook:
    """The states a batch touches, keyed for lookup; missing entries start empty."""

    stock: dict[Key, StockState] = field(default_factory=dict)
    lines: dict[LineKey, ReservationLine] = field(default_factory=dict)
    legs: dict[LegKey, TransferLeg] = field(default_factory=dict)

    def state(self, key: Key) -> StockState:
        found = self.stock.get(key)
        if found is None:
            found = self.stock[key] = StockState()
        return found

    def line(self, key: LineKey) -> ReservationLine:
        found = self.lines.get(key)
        if found is None:
            found = self.lines[key] = ReservationLine()
        return found

    def leg(self, key: LegKey) -> TransferLeg:
        found = self.legs.get(key)
        if found is None:
            found = self.legs[key] = TransferLeg()
        return found


def touched_keys(event: StockEvent) -> list[Key]:
    """Positions an event changes: its own, and the destination's in-transit for transfers."""
    if event.type is EventType.TRANSFER_OUT and event.destination is not None:
        return [event.key, (event.sku, event.destination)]
    return [event.key]


def line_key(event: StockEvent) -> LineKey:
    assert event.reservation_id is not None
    return (event.reservation_id, event.sku, event.location)


def leg_key(event: StockEvent) -> LegKey:
    assert event.reference is not None
    if event.type is EventType.TRANSFER_OUT:
        assert event.destination is not None
        return (event.sku, event.destination, event.reference)
    return (event.sku, event.location, event.reference)


def apply_batch(book: StockBook, events: Iterable[StockEvent], later_deltas: LaterDeltas) -> None:
    """Apply new (never before applied) events to the book.

    `later_deltas` must already see the batch's own events: when a batch brings a count that
    becomes the latest, on hand is re-anchored to it from the ledger, and the batch's deltas for
    that key are then not added a second time.
    """
    by_key: dict[Key, list[StockEvent]] = defaultdict(list)
    for event in events:
        by_key[event.key].append(event)
        if event.type in _LINE_TYPES:
            _apply_to_line(book, event)
        elif event.type in TRANSFER_TYPES:
            _apply_to_leg(book, event)
    for key, key_events in by_key.items():
        _apply_on_hand(book.state(key), key, key_events, later_deltas)


def fold_in_order(book: StockBook, events: Iterable[StockEvent]) -> None:
    """Apply events that arrive in canonical order (`StockEvent.order_key`).

    In that order a count is always the latest so far and every delta after it is later than
    it (deltas at the count's own instant sort before it), so on hand is simply set by counts
    and moved by deltas: the replay needs no look-up in the ledger.
    """
    stock = book.stock
    for event in events:
        kind = event.type
        key = (event.sku, event.location)
        state = stock.get(key)
        if state is None:
            state = stock[key] = StockState()
        if kind is EventType.COUNT:
            state.count_at = event.occurred_at
            state.count_event_id = event.event_id
            state.count_quantity = event.quantity
            state.on_hand = event.quantity
            continue
        state.on_hand += ON_HAND_SIGN[kind] * event.quantity
        if kind in _LINE_TYPES:
            _apply_to_line(book, event)
        elif kind in TRANSFER_TYPES:
            _apply_to_leg(book, event)


def _apply_on_hand(
    state: StockState, key: Key, events: list[StockEvent], later_deltas: LaterDeltas
) -> None:
    counts = [event for event in events if event.is_count]
    best = max(counts, key=lambda e: (e.occurred_at, e.event_id), default=None)
    if best is not None and state.count_beaten_by(best):
        state.count_at = best.occurred_at
        state.count_event_id = best.event_id
        state.count_quantity = best.quantity
        state.on_hand = best.quantity + later_deltas(key, best.occurred_at)
        return
    for event in events:
        delta = event.on_hand_delta
        if delta and state.delta_applies(event.occurred_at):
            state.on_hand += delta


_LINE_TYPES = RESERVATION_TYPES


def _apply_to_line(book: StockBook, event: StockEvent) -> None:
    line = book.line(line_key(event))
    state = book.state(event.key)
    before = line.held
    _count_into_line(line, event)
    state.reserved += line.held - before
    expiry = line.expiry
    bound = state.reserved_expiry
    if line.held and expiry is not None and (bound is None or expiry < bound):
        state.reserved_expiry = expiry


def _count_into_line(line: ReservationLine, event: StockEvent) -> None:
    if event.type is EventType.RESERVATION:
        line.reserved += event.quantity
        if line.opened_at is None or event.occurred_at < line.opened_at:
            line.opened_at = event.occurred_at
            line.channel = event.channel
            line.reference = event.reference
        if event.expires_at is None:
            line.never_expires = True
        elif line.expires_at is None or event.expires_at > line.expires_at:
            line.expires_at = event.expires_at
    elif event.type is EventType.RESERVATION_RELEASE:
        line.released += event.quantity
    else:
        line.fulfilled += event.quantity


def _apply_to_leg(book: StockBook, event: StockEvent) -> None:
    key = leg_key(event)
    leg = book.leg(key)
    destination = book.state((key[0], key[1]))
    before = leg.outstanding
    if event.type is EventType.TRANSFER_OUT:
        leg.sent += event.quantity
    else:
        leg.received += event.quantity
    destination.in_transit += leg.outstanding - before


def earliest_expiry(lines: Iterable[ReservationLine]) -> int | None:
    """The exact earliest expiry among lines that still hold stock (for refreshing the bound)."""
    return earliest_of((line.held, line.expiry) for line in lines)


def earliest_of(held_and_expiry: Iterable[tuple[int, int | None]]) -> int | None:
    """The earliest expiry among (held, expiry) pairs that still hold stock: until then a
    position's stored `reserved` is exact without looking at its lines."""
    return min((e for held, e in held_and_expiry if held and e is not None), default=None)
