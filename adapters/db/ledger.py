"""The ledger recorder: appends events and updates the projection in one transaction.

One recorder serves SQLite and PostgreSQL.  Concurrency rests on two rules:
- an event_id is inserted at most once (unique index, `ON CONFLICT DO NOTHING`);
- every change to a position, its reservation lines and its transfer legs happens while the
  position row is locked (`SELECT ... FOR UPDATE`, always in key order, so two writers cannot
  deadlock; SQLite has one writer at a time anyway).  Re-anchoring to a count sums the ledger
  only after that lock is taken, so it sees every event whose effects are already applied.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, tuple_
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects import postgresql, sqlite

from adapters.db import tables as t
from adapters.db.engine import Engines
from inventory.events import EventType, StockEvent
from inventory.stock import (
    Key,
    LegKey,
    LineKey,
    ReservationLine,
    StockBook,
    StockState,
    TransferLeg,
    apply_batch,
    leg_key,
    line_key,
    touched_keys,
)

Clock = Callable[[], int]
CHUNK = 500  # parameters per IN list: well inside SQLite's and PostgreSQL's limits
RETRIES = 5


def is_transient(error: DBAPIError) -> bool:
    """Deadlock or serialization failure (PostgreSQL), locked database (SQLite): retry."""
    code = getattr(error.orig, "sqlstate", None)
    if code in ("40P01", "40001"):
        return True
    return "database is locked" in str(error.orig)


def wall_clock() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event: accepted, duplicate or conflict (the ledger keeps the first)."""

    event_id: str
    status: str
    position: int | None = None
    reason: str | None = None


@dataclass
class AppendResult:
    outcomes: list[Outcome] = field(default_factory=list)
    changed: set[Key] = field(default_factory=set)  # positions whose stock changed
    applied: list[StockEvent] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


AppendListener = Callable[[Connection, AppendResult], None]


class _Abandon(Exception):
    """Rolls back an atomic batch that met a conflict only after inserting (a race)."""

    def __init__(self, result: AppendResult) -> None:
        super().__init__("atomic batch abandoned")
        self.result = result

    def without_accepted(self) -> AppendResult:
        outcomes = [
            Outcome(o.event_id, "not_applied", None, "batch not applied: it holds a conflict")
            if o.status == "accepted"
            else o
            for o in self.result.outcomes
        ]
        return AppendResult(outcomes)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def event_row(event: StockEvent, recorded_at: int) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "type": event.type.value,
        "sku": event.sku,
        "location": event.location,
        "quantity": event.quantity,
        "occurred_at": event.occurred_at,
        "on_hand_delta": event.on_hand_delta,
        "channel": event.channel,
        "reference": event.reference,
        "reservation_id": event.reservation_id,
        "expires_at": event.expires_at,
        "destination": event.destination,
        "reason": event.reason,
        "content_hash": event.content_hash(),
        "recorded_at": recorded_at,
    }


def row_event(row: Any) -> StockEvent:
    return StockEvent(
        event_id=row.event_id,
        type=EventType(row.type),
        sku=row.sku,
        location=row.location,
        quantity=row.quantity,
        occurred_at=row.occurred_at,
        channel=row.channel,
        reference=row.reference,
        reservation_id=row.reservation_id,
        expires_at=row.expires_at,
        destination=row.destination,
        reason=row.reason,
    )


def dialect_insert(connection: Connection, table: t.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class LedgerRecorder:
    """Appends to the ledger and keeps the projection tables equal to its replay."""

    def __init__(self, engines: Engines, clock: Clock = wall_clock) -> None:
        self.engines = engines
        self.clock = clock
        # called inside the append transaction with what it applied (e.g. to fill an outbox),
        # so whatever they write commits or rolls back with the events themselves
        self.listeners: list[AppendListener] = []

    def append(self, events: Sequence[StockEvent], atomic: bool = False) -> AppendResult:
        """Append events in one transaction; duplicates are no-ops, conflicts change nothing.

        With `atomic`, a batch with any conflict is not applied at all.
        """
        for attempt in range(RETRIES):
            try:
                with self.engines.write.begin() as connection:
                    result = self.append_in(connection, events, atomic=atomic)
                    if atomic and result.count("conflict") and result.count("accepted"):
                        raise _Abandon(result)
                return result
            except _Abandon as abandoned:
                return abandoned.without_accepted()
            except DBAPIError as error:
                if attempt + 1 == RETRIES or not is_transient(error):
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def append_in(
        self, connection: Connection, events: Sequence[StockEvent], atomic: bool = False
    ) -> AppendResult:
        """Append inside the caller's transaction (so intake can record its offsets with it)."""
        statuses: dict[int, Outcome] = {}
        first_by_id: dict[str, int] = {}
        repeats: list[int] = []
        for index, event in enumerate(events):
            if event.event_id in first_by_id:
                repeats.append(index)
            else:
                first_by_id[event.event_id] = index
        known = self._known(connection, list(first_by_id))
        for index in repeats:  # judged against what the ledger will keep: its own or the first
            event = events[index]
            kept = known.get(event.event_id)
            if kept is None:
                kept = (events[first_by_id[event.event_id]].content_hash(), None)
            statuses[index] = _against(event, *kept)
        fresh: list[StockEvent] = []
        for event_id, index in first_by_id.items():
            if event_id in known:
                statuses[index] = _against(events[index], *known[event_id])
            else:
                fresh.append(events[index])
        if atomic and any(o.status == "conflict" for o in statuses.values()):
            for event in fresh:
                statuses[first_by_id[event.event_id]] = Outcome(
                    event.event_id, "not_applied", None, "batch not applied: it holds a conflict"
                )
            fresh = []
        inserted = self._insert(connection, fresh)
        raced = [e for e in fresh if e.event_id not in inserted]
        if raced:  # inserted by a concurrent writer since we looked
            late = self._known(connection, [e.event_id for e in raced])
            for event in raced:
                statuses[first_by_id[event.event_id]] = _against(event, *late[event.event_id])
        applied = [e for e in fresh if e.event_id in inserted]
        changed = self._project(connection, applied, inserted)
        for event in applied:
            statuses[first_by_id[event.event_id]] = Outcome(
                event.event_id, "accepted", inserted[event.event_id]
            )
        result = AppendResult([statuses[i] for i in range(len(events))], changed, applied)
        for listener in self.listeners:
            listener(connection, result)
        return result

    def _known(self, connection: Connection, event_ids: list[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for part in chunks(event_ids):
            query = select(t.events.c.event_id, t.events.c.content_hash, t.events.c.position)
            for row in connection.execute(query.where(t.events.c.event_id.in_(part))):
                found[row.event_id] = (row.content_hash, row.position)
        return found

    def _insert(self, connection: Connection, events: list[StockEvent]) -> dict[str, int]:
        if not events:
            return {}
        now = self.clock()
        # one insertion order for every writer, so two writers of overlapping batches wait
        # for each other on the unique index instead of deadlocking
        rows = [event_row(event, now) for event in sorted(events, key=lambda e: e.event_id)]
        statement = (
            dialect_insert(connection, t.events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(t.events.c.event_id, t.events.c.position)
        )
        inserted: dict[str, int] = {}
        for part in chunks(rows, 1000):
            result = connection.execute(statement, list(part))
            inserted.update((row.event_id, row.position) for row in result)
        return inserted

    # -- projection --------------------------------------------------------------------------

    def _project(
        self, connection: Connection, events: list[StockEvent], positions: dict[str, int]
    ) -> set[Key]:
        if not events:
            return set()
        keys = sorted({key for event in events for key in touched_keys(event)})
        book = StockBook()
        states, last = self._lock_states(connection, keys)
        book.stock.update(states)
        line_keys = sorted({line_key(e) for e in events if e.reservation_id is not None})
        leg_keys = sorted({leg_key(e) for e in events if e.reference and _is_transfer(e)})
        book.lines.update(self._load_lines(connection, line_keys))
        book.legs.update(self._load_legs(connection, leg_keys))
        before = {key: _snapshot(book.stock[key]) for key in keys}
        apply_batch(book, events, lambda key, after: self._later_deltas(connection, key, after))
        reserved_keys = sorted({e.key for e in events if e.reservation_id is not None})
        for key, position in _last_positions(events, positions).items():
            last[key] = max(last[key], position)
        self._save_lines(connection, {k: book.lines[k] for k in line_keys})
        self._save_legs(connection, {k: book.legs[k] for k in leg_keys})
        for key, expiry in self._earliest_expiries(connection, reserved_keys).items():
            book.stock[key].reserved_expiry = expiry
        self._save_states(connection, {k: book.stock[k] for k in keys}, last)
        return {key for key in keys if _snapshot(book.stock[key]) != before[key]}

    def lock(self, connection: Connection, keys: Sequence[Key]) -> None:
        """Lock positions (creating empty ones) for a check-then-append in one transaction."""
        self._lock_states(connection, sorted(set(keys)))

    def _lock_states(
        self, connection: Connection, keys: list[Key]
    ) -> tuple[dict[Key, StockState], dict[Key, int]]:
        """Create missing rows, then lock all in key order (no deadlock between writers)."""
        empty = {"on_hand": 0, "in_transit": 0, "reserved": 0, "last_position": 0}
        insert = dialect_insert(connection, t.positions).on_conflict_do_nothing(
            index_elements=["sku", "location"]
        )
        for part in chunks(keys):
            connection.execute(insert, [{"sku": s, "location": loc, **empty} for s, loc in part])
        states: dict[Key, StockState] = {}
        last: dict[Key, int] = {}
        columns = t.positions.c
        for part in chunks(keys):
            query = (
                select(t.positions)
                .where(tuple_(columns.sku, columns.location).in_(list(part)))
                .order_by(columns.sku, columns.location)
                .with_for_update()
            )
            for row in connection.execute(query):
                states[(row.sku, row.location)] = StockState(
                    on_hand=row.on_hand,
                    count_at=row.count_at,
                    count_event_id=row.count_event_id,
                    count_quantity=row.count_quantity,
                    in_transit=row.in_transit,
                    reserved=row.reserved,
                    reserved_expiry=row.reserved_expiry,
                )
                last[(row.sku, row.location)] = row.last_position
        return states, last

    def _later_deltas(self, connection: Connection, key: Key, after: int) -> int:
        e = t.events.c
        query = select(func.coalesce(func.sum(e.on_hand_delta), 0)).where(
            e.sku == key[0], e.location == key[1], e.occurred_at > after
        )
        return int(connection.execute(query).scalar_one())

    def _load_lines(
        self, connection: Connection, keys: list[LineKey]
    ) -> dict[LineKey, ReservationLine]:
        c = t.reservation_lines.c
        found: dict[LineKey, ReservationLine] = {}
        for part in chunks(keys):
            query = select(t.reservation_lines).where(
                tuple_(c.reservation_id, c.sku, c.location).in_(list(part))
            )
            for row in connection.execute(query):
                found[(row.reservation_id, row.sku, row.location)] = line_from_row(row)
        return found

    def _load_legs(self, connection: Connection, keys: list[LegKey]) -> dict[LegKey, TransferLeg]:
        c = t.transfer_legs.c
        found: dict[LegKey, TransferLeg] = {}
        for part in chunks(keys):
            query = select(t.transfer_legs).where(
                tuple_(c.sku, c.destination, c.reference).in_(list(part))
            )
            for row in connection.execute(query):
                found[(row.sku, row.destination, row.reference)] = TransferLeg(
                    row.sent, row.received
                )
        return found

    def _save_lines(self, connection: Connection, lines: dict[LineKey, ReservationLine]) -> None:
        rows = [line_row(key, line) for key, line in lines.items()]
        _upsert(connection, t.reservation_lines, rows, ["reservation_id", "sku", "location"])

    def _save_legs(self, connection: Connection, legs: dict[LegKey, TransferLeg]) -> None:
        rows = [
            {
                "sku": k[0],
                "destination": k[1],
                "reference": k[2],
                "sent": v.sent,
                "received": v.received,
            }
            for k, v in legs.items()
        ]
        _upsert(connection, t.transfer_legs, rows, ["sku", "destination", "reference"])

    def _earliest_expiries(self, connection: Connection, keys: list[Key]) -> dict[Key, int | None]:
        """Exact earliest expiry of held lines, so the expiry bound stays tight."""
        c = t.reservation_lines.c
        found: dict[Key, int | None] = dict.fromkeys(keys)
        for part in chunks(keys):
            query = (
                select(c.sku, c.location, func.min(c.expires_at))
                .where(
                    tuple_(c.sku, c.location).in_(list(part)),
                    c.held > 0,
                    c.never_expires.is_(False),
                )
                .group_by(c.sku, c.location)
            )
            for sku, location, expiry in connection.execute(query):
                found[(sku, location)] = expiry
        return found

    def _save_states(
        self, connection: Connection, states: dict[Key, StockState], last: dict[Key, int]
    ) -> None:
        rows = [state_row(key, state, last[key]) for key, state in states.items()]
        if not rows:
            return
        c = t.positions.c
        statement = (
            t.positions.update()
            .where(c.sku == bindparam("k_sku"), c.location == bindparam("k_location"))
            .values(
                on_hand=bindparam("on_hand"),
                count_at=bindparam("count_at"),
                count_event_id=bindparam("count_event_id"),
                count_quantity=bindparam("count_quantity"),
                in_transit=bindparam("in_transit"),
                reserved=bindparam("reserved"),
                reserved_expiry=bindparam("reserved_expiry"),
                last_position=bindparam("last_position"),
            )
        )
        connection.execute(statement, rows)


def _upsert(
    connection: Connection, table: t.Table, rows: list[dict[str, Any]], keys: list[str]
) -> None:
    if not rows:
        return
    statement = dialect_insert(connection, table)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def _against(event: StockEvent, known_hash: str, position: int | None) -> Outcome:
    if event.content_hash() == known_hash:
        return Outcome(event.event_id, "duplicate", position)
    return Outcome(
        event.event_id, "conflict", position, "event_id already recorded with different content"
    )


def _is_transfer(event: StockEvent) -> bool:
    return event.type in (EventType.TRANSFER_OUT, EventType.TRANSFER_IN)


def _snapshot(state: StockState) -> tuple[int, int, int, int | None]:
    return (state.on_hand, state.in_transit, state.reserved, state.reserved_expiry)


def _last_positions(events: Iterable[StockEvent], positions: dict[str, int]) -> dict[Key, int]:
    last: dict[Key, int] = {}
    for event in events:
        for key in touched_keys(event):
            last[key] = max(last.get(key, 0), positions[event.event_id])
    return last


def line_from_row(row: Any) -> ReservationLine:
    return ReservationLine(
        reserved=row.reserved,
        released=row.released,
        fulfilled=row.fulfilled,
        expires_at=row.expires_at,
        never_expires=bool(row.never_expires),
        opened_at=row.opened_at,
        channel=row.channel,
        reference=row.reference,
    )


def line_row(key: LineKey, line: ReservationLine) -> dict[str, Any]:
    return {
        "reservation_id": key[0],
        "sku": key[1],
        "location": key[2],
        "reserved": line.reserved,
        "released": line.released,
        "fulfilled": line.fulfilled,
        "held": line.held,
        "expires_at": line.expires_at,
        "never_expires": line.never_expires,
        "opened_at": line.opened_at,
        "channel": line.channel,
        "reference": line.reference,
    }


def state_row(key: Key, state: StockState, last_position: int) -> dict[str, Any]:
    return {
        "k_sku": key[0],
        "k_location": key[1],
        "on_hand": state.on_hand,
        "count_at": state.count_at,
        "count_event_id": state.count_event_id,
        "count_quantity": state.count_quantity,
        "in_transit": state.in_transit,
        "reserved": state.reserved,
        "reserved_expiry": state.reserved_expiry,
        "last_position": last_position,
    }
