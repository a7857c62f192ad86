"""The unit of work in memory: the ports of `inventory.ports` on plain Python values.

`MemoryStore` holds what a database would: the ledger (events by id with their content hash
and ledger position), the projection folded from it (`inventory.projection.Projection`, whose
book also holds the reservation lines), safety stock, the registered locations, dead letters,
consumer offsets, the channel order memory and the personal-data records.  `MemoryUnitOfWork`
works on a private copy of that state, taken when it begins: `commit()` installs the copy,
anything else (an exception, `rollback()`, leaving without committing) throws it away.  A
savepoint copies the unit's state again and puts it back if its block raises.  One unit writes
at a time, as on SQLite.

The answers are those of the SQL unit (`adapters.db.uow.SqlUnitOfWork`): the same outcomes
for an append, the same positions, reservations and expired lines.  The state is copied whole,
which is cheap for the small ledgers of tests and demos and is not meant for more.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from inventory.channel_orders import ChannelOrder
from inventory.events import StockEvent
from inventory.ledger import ACCEPTED, CONFLICT, DUPLICATE, AppendResult, Outcome
from inventory.personal import ERASED_REASON, PersonalRecord
from inventory.ports import Clock, DeadLetter, Message, TransientFailure
from inventory.projection import Position, Projection, SafetyStock
from inventory.reservations import ExpiredLine, Reservation, StoredLine
from inventory.stock import Key, earliest_expiry, has_expired, touched_keys

CONFLICT_REASON = "event_id already recorded with different content"
LOCK_WAIT = 5.0  # seconds a unit waits for the writer's turn before reporting a transient failure


def wall_clock() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True)
class RecordedEvent:
    """One ledger line: the event, its content hash and its position in the ledger."""

    event: StockEvent
    content_hash: str
    position: int
    recorded_at: int


@dataclass
class StoredLetter:
    """A dead letter as the intake log keeps it."""

    id: int
    letter: DeadLetter
    fingerprint: str
    reason: str
    received_at: int
    status: str = "open"  # open, applied, erased
    retried_at: int | None = None
    payload: bytes | None = None  # the bytes as kept (None: as received; b"" once erased)

    @property
    def kept_payload(self) -> bytes:
        return self.letter.message.payload if self.payload is None else self.payload


@dataclass
class MemoryState:
    """Everything a unit of work can change; copied whole at begin and at each savepoint."""

    events: dict[str, RecordedEvent] = field(default_factory=dict)
    head: int = 0  # the last ledger position given
    projection: Projection = field(default_factory=Projection)
    safety: SafetyStock = field(default_factory=SafetyStock)
    locations: set[str] = field(default_factory=set)
    letters: list[StoredLetter] = field(default_factory=list)
    offsets: dict[str, dict[tuple[str, int], int]] = field(default_factory=dict)
    pickups: list[tuple[str, str, date]] = field(default_factory=list)
    orders: dict[tuple[str, str], ChannelOrder] = field(default_factory=dict)
    people: dict[str, PersonalRecord] = field(default_factory=dict)  # by subject id


class MemoryStore:
    """The state shared by every unit of work, and the set-up a database gets from its CLI."""

    def __init__(self, clock: Clock = wall_clock) -> None:
        self.clock = clock
        self.state = MemoryState()
        self.writer = threading.Lock()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A fresh unit of work on this store: the factory every use case is given."""
        return MemoryUnitOfWork(self)

    # -- set-up and inspection (outside any unit, like the CLI's commands) -------------------

    def add_locations(self, ids: Iterable[str]) -> None:
        self.state.locations.update(ids)

    def set_safety_stock(self, location: str, quantity: int, sku: str | None = None) -> None:
        """Hold `quantity` back from sale at a location (for one SKU, or all when sku is None)."""
        if quantity < 0:
            raise ValueError("safety stock must be zero or more")
        if sku is None:
            self.state.safety.per_location[location] = quantity
        else:
            self.state.safety.per_item[(sku, location)] = quantity

    def events(self) -> list[RecordedEvent]:
        """The ledger in position order."""
        return sorted(self.state.events.values(), key=lambda r: r.position)

    def dead_letters(self, status: str | None = "open") -> list[StoredLetter]:
        return [x for x in self.state.letters if status is None or x.status == status]

    def offsets(self, group: str) -> dict[tuple[str, int], int]:
        return dict(self.state.offsets.get(group, {}))

    def personal_records(self) -> list[PersonalRecord]:
        return sorted(self.state.people.values(), key=lambda r: (r.created_at, r.subject_id))


class MemoryLedger:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def recorded(self, event_id: str) -> StockEvent | None:
        kept = self.unit.state.events.get(event_id)
        return None if kept is None else kept.event

    def append(self, events: Sequence[StockEvent]) -> AppendResult:
        """As `adapters.db.ledger.LedgerRecorder.append_in`: new event_ids are recorded (in
        event_id order) and folded in; a known id is a duplicate when its content is the same,
        else a conflict; repeats inside the batch are judged against the first of them."""
        state = self.unit.state
        statuses: dict[int, Outcome] = {}
        first_by_id: dict[str, int] = {}
        for index, event in enumerate(events):
            kept = state.events.get(event.event_id)
            if kept is not None:
                statuses[index] = _against(event, kept.content_hash, kept.position)
            elif event.event_id in first_by_id:
                first = events[first_by_id[event.event_id]]
                statuses[index] = _against(event, first.content_hash(), None)
            else:
                first_by_id[event.event_id] = index
        fresh = sorted((events[i] for i in first_by_id.values()), key=lambda e: e.event_id)
        now = self.unit.clock()
        for event in fresh:
            state.head += 1
            state.events[event.event_id] = RecordedEvent(
                event, event.content_hash(), state.head, now
            )
        changed = _fold(state.projection, fresh)
        for event in fresh:
            position = state.events[event.event_id].position
            statuses[first_by_id[event.event_id]] = Outcome(event.event_id, ACCEPTED, position)
        applied = [events[i] for i in sorted(first_by_id.values())]
        return AppendResult([statuses[i] for i in range(len(events))], changed, applied)

    def lock(self, keys: Sequence[Key]) -> None:
        """Nothing to do: the unit already holds the store's only writer's turn."""


class MemoryStock:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def positions(self, keys: Sequence[Key], now: int) -> dict[Key, Position]:
        state = self.unit.state
        return {key: state.projection.position(key, now, state.safety) for key in keys}

    def reservation(self, reservation_id: str) -> Reservation | None:
        lines = self.unit.state.projection.book.lines
        rows = [
            StoredLine(
                sku,
                location,
                line.reserved,
                line.released,
                line.fulfilled,
                line.held,
                line.expires_at,
                line.never_expires,
                line.opened_at,
                line.channel,
                line.reference,
            )
            for (rid, sku, location), line in sorted(lines.items())
            if rid == reservation_id and line.reserved > 0
        ]
        return Reservation.from_lines(reservation_id, rows)

    def settled_units(self, reservation_id: str) -> int:
        lines = self.unit.state.projection.book.lines
        return sum(
            line.released + line.fulfilled
            for (rid, _, _), line in lines.items()
            if rid == reservation_id
        )

    def expired_lines(self, now: int, limit: int) -> list[ExpiredLine]:
        lines = self.unit.state.projection.book.lines
        lapsed = [
            ExpiredLine(rid, sku, location, line.held, line.channel, line.reference)
            for (rid, sku, location), line in lines.items()
            if line.held > 0 and has_expired(line.expiry, now)
        ]
        lapsed.sort(key=lambda x: (x.sku, x.location, x.reservation_id))
        return lapsed[:limit]


class MemoryIntakeLog:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def dead_letters(self, letters: Iterable[DeadLetter], now: int) -> None:
        """Kept once per (source, partition, offset, bytes), like the table's unique index."""
        state = self.unit.state
        seen = {_origin(x.letter.message, x.fingerprint) for x in state.letters}
        for letter in letters:
            fingerprint = hashlib.sha256(letter.message.payload).hexdigest()
            origin = _origin(letter.message, fingerprint)
            if origin in seen:
                continue
            seen.add(origin)
            number = max((x.id for x in state.letters), default=0) + 1
            state.letters.append(
                StoredLetter(number, letter, fingerprint, letter.reason[:4000], now)
            )

    def mark_applied(self, letter_id: int, now: int) -> None:
        for stored in self.unit.state.letters:
            if stored.id == letter_id:
                stored.status = "applied"
                stored.retried_at = now

    def save_offsets(self, group: str, offsets: dict[tuple[str, int], int], now: int) -> None:
        self.unit.state.offsets.setdefault(group, {}).update(offsets)

    def expire_dead_letters(self, received_before: int) -> int:
        state = self.unit.state
        kept = [x for x in state.letters if x.received_at > received_before]
        expired = len(state.letters) - len(kept)
        state.letters = kept
        return expired

    def dead_letter_payloads(self, after_id: int, limit: int) -> list[tuple[int, bytes]]:
        found = sorted(
            (x.id, x.kept_payload)
            for x in self.unit.state.letters
            if x.id > after_id and x.status != "erased"
        )
        return found[:limit]

    def erase_dead_letters(self, ids: Sequence[int], now: int) -> None:
        wanted = set(ids)
        for stored in self.unit.state.letters:
            if stored.id in wanted:
                stored.payload = b""
                stored.reason = ERASED_REASON
                stored.status = "erased"


class MemoryPersonalData:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def keep(self, record: PersonalRecord) -> None:
        self.unit.state.people[record.subject_id] = record

    def of_reservations(self, reservation_ids: Sequence[str]) -> list[PersonalRecord]:
        wanted = set(reservation_ids)
        found = [r for r in self.unit.state.people.values() if r.reservation_id in wanted]
        return sorted(found, key=lambda r: (r.created_at, r.subject_id))

    def open_records(self, limit: int) -> list[PersonalRecord]:
        found = [r for r in self.unit.state.people.values() if r.ended_at is None]
        return sorted(found, key=lambda r: (r.created_at, r.subject_id))[:limit]

    def end(self, reservation_ids: Sequence[str], now: int) -> None:
        wanted = set(reservation_ids)
        people = self.unit.state.people
        for subject, record in list(people.items()):
            if record.reservation_id in wanted:
                people[subject] = record.ended(now)

    def purge(self, ended_before: int) -> int:
        people = self.unit.state.people
        gone = [
            s for s, r in people.items() if r.ended_at is not None and r.ended_at <= ended_before
        ]
        for subject in gone:
            del people[subject]
        return len(gone)

    def forget(self, keys: Iterable[str]) -> list[PersonalRecord]:
        wanted = set(keys)
        people = self.unit.state.people
        found = [r for r in people.values() if r.keys & wanted]
        for record in found:
            del people[record.subject_id]
        return sorted(found, key=lambda r: (r.created_at, r.subject_id))


class MemoryRegistry:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def known(self, ids: Iterable[str]) -> set[str]:
        return set(ids) & self.unit.state.locations

    def is_empty(self) -> bool:
        return not self.unit.state.locations

    def lock_for_booking(self, location: str) -> None:
        pass  # one unit writes at a time

    def booked(self, locations: Sequence[str], since: date) -> dict[tuple[str, date], int]:
        state = self.unit.state
        live = {
            rid
            for (rid, _, _), line in state.projection.book.lines.items()
            if line.held > 0 or line.fulfilled > 0
        }
        found: dict[tuple[str, date], int] = {}
        for reservation_id, location, day in state.pickups:
            if location in locations and day >= since and reservation_id in live:
                found[(location, day)] = found.get((location, day), 0) + 1
        return found

    def book(self, reservation_id: str, location: str, day: date, ready_by: int, now: int) -> None:
        self.unit.state.pickups.append((reservation_id, location, day))


class MemoryChannelOrders:
    def __init__(self, unit: MemoryUnitOfWork) -> None:
        self.unit = unit

    def load(self, channel: str, order_id: str) -> ChannelOrder | None:
        """A copy (the unit's writer's turn is the lock)."""
        found = self.unit.state.orders.get((channel, order_id))
        return copy.deepcopy(found)

    def save(self, order: ChannelOrder, now: int) -> None:
        self.unit.state.orders[(order.channel, order.order_id)] = copy.deepcopy(order)


class MemoryUnitOfWork:
    """One transaction on a `MemoryStore`; commit explicitly, anything else rolls back.

    The unit holds the store's writer's turn from `__enter__` to `__exit__`, and copies the
    store's state the first time it reads or writes; `commit()` installs that copy."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.clock: Clock = store.clock
        self.ledger = MemoryLedger(self)
        self.stock = MemoryStock(self)
        self.intake = MemoryIntakeLog(self)
        self.registry = MemoryRegistry(self)
        self.orders = MemoryChannelOrders(self)
        self.people = MemoryPersonalData(self)
        self._state: MemoryState | None = None
        self._open = False
        self._active = False  # False once committed or rolled back: nothing more to commit

    @property
    def state(self) -> MemoryState:
        """The unit's own copy of the store's state (what it reads and writes)."""
        if not self._open:
            raise RuntimeError("the unit of work is not open")
        if self._state is None:
            self._state = copy.deepcopy(self.store.state)
        return self._state

    def __enter__(self) -> MemoryUnitOfWork:
        if not self.store.writer.acquire(timeout=LOCK_WAIT):
            raise TransientFailure("another unit of work holds the memory store")
        self._open = True
        self._active = True
        self._state = None
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if not self._open:
            return
        self._open = False
        self._active = False
        self._state = None
        self.store.writer.release()

    def commit(self) -> None:
        if not self._active:
            return  # rolled back on purpose by the use case: nothing to commit
        if self._state is not None:
            self.store.state = self._state
        self._state = None  # later reads copy the committed state afresh
        self._active = False

    def rollback(self) -> None:
        """Discard what the unit wrote.  Reads go on against the state as committed, and what
        is written from here on is never committed (as after a SQL rollback)."""
        if self._active:
            self._active = False
            self._state = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        saved = copy.deepcopy(self.state)
        try:
            yield
        except BaseException:
            self._state = saved
            raise


def _fold(projection: Projection, events: list[StockEvent]) -> set[Key]:
    """Apply new events; returns the positions whose stock changed.  The expiry bound of each
    reserved position is then made exact, as the SQL recorder stores it."""
    if not events:
        return set()
    keys = sorted({key for event in events for key in touched_keys(event)})
    book = projection.book
    before = {key: _snapshot(projection, key) for key in keys}
    projection.apply(events)
    for key in sorted({e.key for e in events if e.reservation_id is not None}):
        book.state(key).reserved_expiry = earliest_expiry(projection.lines_at(key))
    return {key for key in keys if _snapshot(projection, key) != before[key]}


def _snapshot(projection: Projection, key: Key) -> tuple[int, int, int, int | None]:
    state = projection.book.stock.get(key)
    if state is None:
        return (0, 0, 0, None)
    return (state.on_hand, state.in_transit, state.reserved, state.reserved_expiry)


def _against(event: StockEvent, known_hash: str, position: int | None) -> Outcome:
    if event.content_hash() == known_hash:
        return Outcome(event.event_id, DUPLICATE, position)
    return Outcome(event.event_id, CONFLICT, position, CONFLICT_REASON)


def _origin(message: Message, fingerprint: str) -> tuple[str, int, int, str]:
    return (message.source, message.partition, message.offset, fingerprint)
