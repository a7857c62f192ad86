"""The unit of work on SQLite and PostgreSQL: one write transaction and the ports bound to it.

`SqlUnitOfWork` opens the writer's transaction (`BEGIN IMMEDIATE` on SQLite, so writers queue
for the file instead of failing half-way); its ledger, stock reads, intake log, registry and
personal-data store all run on that one connection, so what a use case checks under its
locks is what it appends against.  A deadlock or lock timeout surfaces as `TransientFailure`, which
`inventory.services.units.run` answers by running the use case again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from adapters.db import intake_log, personal_data, raw, registry
from adapters.db import tables as t
from adapters.db.channel_orders import SqlChannelOrders
from adapters.db.database import Database
from adapters.db.ledger import is_transient, row_event
from inventory.events import StockEvent
from inventory.ledger import AppendResult
from inventory.ports import Clock, DeadLetter, TransientFailure
from inventory.projection import Position
from inventory.reservations import ExpiredLine, Reservation, StoredLine
from inventory.stock import Key, has_expired, line_expiry

LINE_COLUMNS = (
    "sku",
    "location",
    "reserved",
    "released",
    "fulfilled",
    "held",
    "expires_at",
    "never_expires",
    "opened_at",
    "channel",
    "reference",
)


def stored_line(row: Any) -> StoredLine:
    """A reservation_lines row (selected with LINE_COLUMNS) as a domain value, by column name."""
    values = dict(zip(LINE_COLUMNS, row, strict=True))
    values["never_expires"] = bool(values["never_expires"])
    return StoredLine(**values)


class SqlLedger:
    def __init__(self, db: Database, connection: Connection) -> None:
        self.recorder = db.ledger
        self.connection = connection

    def append(self, events: Sequence[StockEvent]) -> AppendResult:
        return self.recorder.append_in(self.connection, events)

    def lock(self, keys: Sequence[Key]) -> None:
        self.recorder.lock(self.connection, keys)

    def recorded(self, event_id: str) -> StockEvent | None:
        query = select(t.events).where(t.events.c.event_id == event_id)
        row = self.connection.execute(query).first()
        return None if row is None else row_event(row)


class SqlStock:
    def __init__(self, db: Database, connection: Connection) -> None:
        self.reader = db.reader
        self.connection = connection

    def positions(self, keys: Sequence[Key], now: int) -> dict[Key, Position]:
        found = {
            (p.sku, p.location): p for p in self.reader.positions_in(self.connection, keys, now)
        }
        missing = [key for key in keys if key not in found]
        if missing:
            safety = self.reader.safety(
                self.connection, sorted({k[1] for k in missing}), sorted({k[0] for k in missing})
            )
            for key in missing:
                found[key] = Position(key[0], key[1], 0, 0, 0, safety.for_key(key))
        return found

    def reservation(self, reservation_id: str) -> Reservation | None:
        return load_reservation(self.connection, reservation_id)

    def settled_units(self, reservation_id: str) -> int:
        c = t.reservation_lines.c
        query = select(func.coalesce(func.sum(c.released + c.fulfilled), 0)).where(
            c.reservation_id == reservation_id
        )
        return int(self.connection.execute(query).scalar_one())

    def expired_lines(self, now: int, limit: int) -> list[ExpiredLine]:
        c = t.reservation_lines.c
        # the index prefilter: lines that still hold and carry an expiry at or before now;
        # whether each has lapsed is then `has_expired`, the one rule
        query = (
            select(
                c.reservation_id,
                c.sku,
                c.location,
                c.held,
                c.expires_at,
                c.never_expires,
                c.channel,
                c.reference,
            )
            .where(c.held > 0, c.never_expires.is_(False), c.expires_at <= now)
            .order_by(c.sku, c.location, c.reservation_id)
            .limit(limit)
        )
        return [
            ExpiredLine(r.reservation_id, r.sku, r.location, int(r.held), r.channel, r.reference)
            for r in self.connection.execute(query)
            if has_expired(line_expiry(r.expires_at, bool(r.never_expires)), now)
        ]


def load_reservation(connection: Connection, reservation_id: str) -> Reservation | None:
    m = raw.mark(connection)
    rows = raw.fetch(
        connection,
        f"SELECT {', '.join(LINE_COLUMNS)} FROM reservation_lines "
        f"WHERE reservation_id = {m} AND reserved > 0 ORDER BY sku",
        [reservation_id],
    )
    return Reservation.from_lines(reservation_id, [stored_line(row) for row in rows])


class SqlIntakeLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def dead_letters(self, letters: Iterable[DeadLetter], now: int) -> None:
        intake_log.record_dead_letters(self.connection, letters, now)

    def save_offsets(self, group: str, offsets: dict[tuple[str, int], int], now: int) -> None:
        intake_log.save_offsets(self.connection, group, offsets, now)

    def mark_applied(self, letter_id: int, now: int) -> None:
        intake_log.mark_applied(self.connection, letter_id, now)

    def expire_dead_letters(self, received_before: int) -> int:
        return personal_data.expire_dead_letters(self.connection, received_before)

    def dead_letter_payloads(self, after_id: int, limit: int) -> list[tuple[int, bytes]]:
        return personal_data.dead_letter_payloads(self.connection, after_id, limit)

    def erase_dead_letters(self, ids: Sequence[int], now: int) -> None:
        personal_data.erase_dead_letters(self.connection, ids)


class SqlRegistry:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def known(self, ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = raw.placeholders(self.connection, len(part))
            sql = f"SELECT id FROM locations WHERE id IN ({marks})"
            found.update(row[0] for row in raw.fetch(self.connection, sql, part))
        return found

    def is_empty(self) -> bool:
        return not raw.fetch(self.connection, "SELECT 1 FROM locations LIMIT 1", [])

    def lock_for_booking(self, location: str) -> None:
        registry.lock_for_booking(self.connection, location)

    def booked(self, locations: Sequence[str], since: date) -> dict[tuple[str, date], int]:
        return registry.booked(self.connection, locations, since)

    def book(self, reservation_id: str, location: str, day: date, ready_by: int, now: int) -> None:
        registry.book(self.connection, reservation_id, location, day, ready_by, now)


class SqlUnitOfWork:
    """One write transaction on the database; commit explicitly, anything else rolls back."""

    connection: Connection
    ledger: SqlLedger
    stock: SqlStock
    intake: SqlIntakeLog
    registry: SqlRegistry
    orders: SqlChannelOrders
    people: personal_data.SqlPersonalData

    def __init__(self, db: Database) -> None:
        self.db = db
        self.clock: Clock = db.ledger.clock
        self._connection: Connection | None = None
        self._transaction: Any = None

    def __enter__(self) -> SqlUnitOfWork:
        try:
            self._connection = self.db.engines.write.connect()
            self._transaction = self._connection.begin()
        except DBAPIError as error:
            self._close()
            raise _translated(error) from error
        connection = self._connection
        self.connection = connection
        self.ledger = SqlLedger(self.db, connection)
        self.stock = SqlStock(self.db, connection)
        self.intake = SqlIntakeLog(connection)
        self.registry = SqlRegistry(connection)
        self.orders = SqlChannelOrders(connection)
        self.people = personal_data.SqlPersonalData(connection)
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if self._transaction is not None and self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._close()
        if isinstance(error, DBAPIError) and is_transient(error):
            raise TransientFailure(str(error.orig)) from error

    def commit(self) -> None:
        if self._transaction is None or not self._transaction.is_active:
            return  # rolled back on purpose by the use case: nothing to commit
        try:
            self._transaction.commit()
        except DBAPIError as error:
            raise _translated(error) from error

    def rollback(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        assert self._connection is not None
        with self._connection.begin_nested():
            yield

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _translated(error: DBAPIError) -> Exception:
    return TransientFailure(str(error.orig)) if is_transient(error) else error


def unit_of_work(db: Database) -> SqlUnitOfWork:
    return SqlUnitOfWork(db)
