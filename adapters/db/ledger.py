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
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from adapters.db import raw
from adapters.db import tables as t
from adapters.db.engine import Engines
from inventory.events import EventType, StockEvent
from inventory.ledger import AppendResult, Outcome
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


AppendListener = Callable[[Connection, AppendResult], None]


class _Abandon(Exception):
    """Rolls back an atomic batch that met a conflict only after inserting (a race)."""

    def __init__(self, result: AppendResult) -> None:
        super().__init__("atomic batch abandoned")
        self.result = result

    def without_accepted(self) -> AppendResult:
        return self.result.without_accepted()


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
                first = events[first_by_id[event.event_id]]
                statuses[index] = _against(event, first.content_hash(), None)
            else:
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
        changed, states = self._project(connection, applied, inserted)
        for event in applied:
            statuses[first_by_id[event.event_id]] = Outcome(
                event.event_id, "accepted", inserted[event.event_id]
            )
        result = AppendResult([statuses[i] for i in range(len(events))], changed, applied, states)
        for listener in self.listeners:
            listener(connection, result)
        return result

    def _known(self, connection: Connection, event_ids: list[str]) -> dict[str, tuple[str, int]]:
        found: dict[str, tuple[str, int]] = {}
        for part in self._parts(connection, [(event_id,) for event_id in event_ids]):
            where, params = raw.key_filter(connection, t.events, ["event_id"], part)
            sql = f"SELECT event_id, content_hash, position FROM events WHERE {where}"
            for event_id, content_hash, position in raw.fetch(connection, sql, params):
                found[event_id] = (content_hash, position)
        return found

    @staticmethod
    def _parts(connection: Connection, keys: Sequence[Any]) -> Iterator[Sequence[Any]]:
        """Key lists for IN filters: whole on PostgreSQL (arrays), chunked on SQLite."""
        if raw.is_postgres(connection):
            if keys:
                yield keys
            return
        yield from chunks(keys)

    def _insert(self, connection: Connection, events: list[StockEvent]) -> dict[str, int]:
        """Insert what no one has inserted yet; returns event_id -> ledger position of ours."""
        if not events:
            return {}
        now = self.clock()
        # one insertion order for every writer, so two writers of overlapping batches wait
        # for each other on the unique index instead of deadlocking
        rows = [event_tuple(e, now) for e in sorted(events, key=lambda e: e.event_id)]
        inserted = raw.insert_rows(
            connection,
            t.events,
            EVENT_COLUMNS,
            rows,
            "ON CONFLICT (event_id) DO NOTHING",
            returning="event_id, position",
        )
        return dict(inserted)  # type: ignore[arg-type]

    # -- projection --------------------------------------------------------------------------

    def _project(
        self, connection: Connection, events: list[StockEvent], positions: dict[str, int]
    ) -> tuple[set[Key], dict[Key, tuple[StockState, int]]]:
        """Apply `events` to the projection tables; the positions whose stock changed, and each
        as stored now with the ledger position that last changed it."""
        if not events:
            return set(), {}
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
        changed = {key for key in keys if _snapshot(book.stock[key]) != before[key]}
        return changed, {key: (book.stock[key], last[key]) for key in changed}

    def lock(self, connection: Connection, keys: Sequence[Key]) -> None:
        """Lock positions (creating empty ones) for a check-then-append in one transaction."""
        self._lock_states(connection, sorted(set(keys)))

    def _lock_states(
        self, connection: Connection, keys: list[Key]
    ) -> tuple[dict[Key, StockState], dict[Key, int]]:
        """Lock the positions (creating missing ones first) in key order.

        On PostgreSQL every writer first inserts the rows it lacks, then locks all its rows,
        each phase in key order, so two writers can never wait for each other in a circle.
        """
        if raw.is_postgres(connection):
            missing = sorted(set(keys) - set(self._read_states(connection, keys, lock=False)[0]))
            self._create_states(connection, missing)
            return self._read_states(connection, keys, lock=True)
        states, last = self._read_states(connection, keys, lock=False)  # the writer holds the file
        missing = sorted(set(keys) - set(states))
        if missing:
            self._create_states(connection, missing)
            more, more_last = self._read_states(connection, missing, lock=False)
            states.update(more)
            last.update(more_last)
        return states, last

    def _create_states(self, connection: Connection, keys: list[Key]) -> None:
        names = ("sku", "location", "on_hand", "in_transit", "reserved", "last_position")
        rows = [(*key, 0, 0, 0, 0) for key in keys]
        raw.insert_rows(
            connection, t.positions, names, rows, "ON CONFLICT (sku, location) DO NOTHING"
        )

    def _read_states(
        self, connection: Connection, keys: list[Key], lock: bool
    ) -> tuple[dict[Key, StockState], dict[Key, int]]:
        states: dict[Key, StockState] = {}
        last: dict[Key, int] = {}
        names = ("sku", "location")
        for row in raw.rows_by_keys(connection, t.positions, names, keys, POSITION_COLUMNS, lock):
            values = dict(zip(POSITION_COLUMNS, row, strict=True))
            key = (values.pop("sku"), values.pop("location"))
            last[key] = values.pop("last_position")
            states[key] = StockState(**values)
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
        names = ("reservation_id", "sku", "location")
        rows = raw.rows_by_keys(
            connection, t.reservation_lines, names, keys, (*names, *LINE_FIELDS)
        )
        found = {}
        for row in rows:
            values = dict(zip((*names, *LINE_FIELDS), row, strict=True))
            key = (values.pop("reservation_id"), values.pop("sku"), values.pop("location"))
            values["never_expires"] = bool(values["never_expires"])
            found[key] = ReservationLine(**values)
        return found

    def _load_legs(self, connection: Connection, keys: list[LegKey]) -> dict[LegKey, TransferLeg]:
        names = ("sku", "destination", "reference")
        rows = raw.rows_by_keys(
            connection, t.transfer_legs, names, keys, (*names, "sent", "received")
        )
        return {
            (sku, destination, reference): TransferLeg(sent=sent, received=received)
            for sku, destination, reference, sent, received in rows
        }

    def _save_lines(self, connection: Connection, lines: dict[LineKey, ReservationLine]) -> None:
        names = ("reservation_id", "sku", "location", *LINE_FIELDS, "held")
        rows = [(*key, *line_tuple(line), line.held) for key, line in lines.items()]
        raw.upsert_rows(connection, t.reservation_lines, names, 3, rows)

    def _save_legs(self, connection: Connection, legs: dict[LegKey, TransferLeg]) -> None:
        names = ("sku", "destination", "reference", "sent", "received")
        rows = [(*key, leg.sent, leg.received) for key, leg in legs.items()]
        raw.upsert_rows(connection, t.transfer_legs, names, 3, rows)

    def _earliest_expiries(self, connection: Connection, keys: list[Key]) -> dict[Key, int | None]:
        """Exact earliest expiry of held lines, so the expiry bound stays tight."""
        found: dict[Key, int | None] = dict.fromkeys(keys)
        rows = raw.rows_by_keys(
            connection,
            t.reservation_lines,
            ("sku", "location"),
            keys,
            ("sku", "location", "expires_at"),
            where="t.held > 0 AND NOT t.never_expires AND t.expires_at IS NOT NULL",
        )
        for sku, location, expiry in rows:
            current = found[(sku, location)]
            if current is None or expiry < current:
                found[(sku, location)] = expiry
        return found

    def _save_states(
        self, connection: Connection, states: dict[Key, StockState], last: dict[Key, int]
    ) -> None:
        rows = [
            (
                key[0],
                key[1],
                s.on_hand,
                s.count_at,
                s.count_event_id,
                s.count_quantity,
                s.in_transit,
                s.reserved,
                s.reserved_expiry,
                last[key],
            )
            for key, s in states.items()
        ]
        raw.update_rows(connection, t.positions, POSITION_COLUMNS, 2, rows)


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


LINE_FIELDS = (
    "reserved",
    "released",
    "fulfilled",
    "expires_at",
    "never_expires",
    "opened_at",
    "channel",
    "reference",
)
# the ledger columns that make a StockEvent, in its constructor's order
STOCK_EVENT_FIELDS = (
    "event_id",
    "type",
    "sku",
    "location",
    "quantity",
    "occurred_at",
    "channel",
    "reference",
    "reservation_id",
    "expires_at",
    "destination",
    "reason",
)
POSITION_COLUMNS = (
    "sku",
    "location",
    "on_hand",
    "count_at",
    "count_event_id",
    "count_quantity",
    "in_transit",
    "reserved",
    "reserved_expiry",
    "last_position",
)
EVENT_COLUMNS = (
    "event_id",
    "type",
    "sku",
    "location",
    "quantity",
    "occurred_at",
    "on_hand_delta",
    "channel",
    "reference",
    "reservation_id",
    "expires_at",
    "destination",
    "reason",
    "content_hash",
    "recorded_at",
)


def event_tuple(event: StockEvent, recorded_at: int) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.type.value,
        event.sku,
        event.location,
        event.quantity,
        event.occurred_at,
        event.on_hand_delta,
        event.channel,
        event.reference,
        event.reservation_id,
        event.expires_at,
        event.destination,
        event.reason,
        event.content_hash(),
        recorded_at,
    )


def line_tuple(line: ReservationLine) -> tuple[Any, ...]:
    return (
        line.reserved,
        line.released,
        line.fulfilled,
        line.expires_at,
        line.never_expires,
        line.opened_at,
        line.channel,
        line.reference,
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
        "sku": key[0],
        "location": key[1],
        "on_hand": state.on_hand,
        "count_at": state.count_at,
        "count_event_id": state.count_event_id,
        "count_quantity": state.count_quantity,
        "in_transit": state.in_transit,
        "reserved": state.reserved,
        "reserved_expiry": state.reserved_expiry,
        "last_position": last_position,
    }
