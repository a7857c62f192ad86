"""The ports the use cases need, as protocols: the domain states what it needs, adapters supply it.

A use case receives a `UnitOfWork`: one transaction's view of the ledger, the stock it reads
under the same locks, the intake log (dead letters, consumer offsets), the location registry,
the memory of channel orders, the personal-data store (details about people, kept beside the
ledger and never in it) and the clock.  `adapters/db/uow.py` implements it on SQLite and
PostgreSQL, `adapters/memory/` in memory (the fake the use-case tests also run on).  Nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from inventory.channel_orders import ChannelOrder
from inventory.events import StockEvent
from inventory.ledger import AppendResult
from inventory.personal import PersonalRecord
from inventory.projection import Position
from inventory.reservations import ExpiredLine, Reservation
from inventory.stock import Key

Clock = Callable[[], int]  # microseconds since the epoch


class TransientFailure(Exception):
    """The store could not finish the transaction now (deadlock, lock timeout): running the
    whole unit of work again is safe and expected to succeed."""


@dataclass(frozen=True)
class Message:
    """One inbound message and where it came from (partition/offset -1 when not a topic)."""

    source: str
    partition: int
    offset: int
    format: str
    payload: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    """An inbound message no translator or rule could turn into events, kept with its bytes
    and the reason, for a person to read and `inventory deadletters retry` to re-drive."""

    message: Message
    reason: str


class Ledger(Protocol):
    def append(self, events: Sequence[StockEvent]) -> AppendResult:
        """Append (in this transaction); duplicates are no-ops, conflicts change nothing."""
        ...

    def lock(self, keys: Sequence[Key]) -> None:
        """Lock positions (in key order) for a check-then-append."""
        ...

    def recorded(self, event_id: str) -> StockEvent | None:
        """The event the ledger holds under `event_id`, if any."""
        ...


class StockQueries(Protocol):
    """Stock read inside the transaction, so it sees the locks and the writes already made."""

    def positions(self, keys: Sequence[Key], now: int) -> dict[Key, Position]:
        """Every key's position (zeros where nothing is recorded), safety stock applied."""
        ...

    def reservation(self, reservation_id: str) -> Reservation | None: ...

    def settled_units(self, reservation_id: str) -> int:
        """Units released or fulfilled so far on a reservation."""
        ...

    def expired_lines(self, now: int, limit: int) -> list[ExpiredLine]:
        """Held lines whose expiry has passed, in (sku, location, reservation) order."""
        ...


class IntakeLog(Protocol):
    def dead_letters(self, letters: Iterable[DeadLetter], now: int) -> None: ...

    def mark_applied(self, letter_id: int, now: int) -> None:
        """A dead letter re-driven successfully (in the transaction that applied it)."""
        ...

    def save_offsets(self, group: str, offsets: dict[tuple[str, int], int], now: int) -> None:
        """Each partition's next offset, committed with the events read before it."""
        ...

    def expire_dead_letters(self, received_before: int) -> int:
        """Delete dead letters that arrived at or before the instant; how many."""
        ...

    def dead_letter_payloads(self, after_id: int, limit: int) -> list[tuple[int, bytes]]:
        """(id, bytes) of kept dead letters with an id above `after_id`, in id order."""
        ...

    def erase_dead_letters(self, ids: Sequence[int], now: int) -> None:
        """Drop the bytes and headers of these dead letters (status `erased`); the row says
        that a message was received and erased, and nothing of what it said."""
        ...


class Registry(Protocol):
    def known(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that are registered locations."""
        ...

    def is_empty(self) -> bool:
        """No location registered yet (a fresh ledger before `inventory locations import`)."""
        ...

    def lock_for_booking(self, location: str) -> None:
        """One pickup booker per store at a time, so two never take a day's last slot."""
        ...

    def booked(self, locations: Sequence[str], since: date) -> dict[tuple[str, date], int]:
        """Pickups per (store, local day) from `since` on, whose reservation still holds or
        was handed over."""
        ...

    def book(self, reservation_id: str, location: str, day: date, ready_by: int, now: int) -> None:
        """Take a pickup slot (inside the reservation's unit of work)."""
        ...


class ChannelOrders(Protocol):
    """The memory of channel orders: the facts seen per order and what the ledger holds."""

    def load(self, channel: str, order_id: str) -> ChannelOrder | None:
        """The order as last saved (None when new), locked until the unit ends."""
        ...

    def save(self, order: ChannelOrder, now: int) -> None:
        """Store the order's facts and holdings (in this transaction, with its events)."""
        ...


class PersonalData(Protocol):
    """The personal-data store: mutable, keyed by the opaque ids the ledger carries."""

    def keep(self, record: PersonalRecord) -> None:
        """Store a record (a record with the same subject id is replaced)."""
        ...

    def of_reservations(self, reservation_ids: Sequence[str]) -> list[PersonalRecord]: ...

    def open_records(self, limit: int) -> list[PersonalRecord]:
        """Records whose reservation has not ended yet, oldest first."""
        ...

    def end(self, reservation_ids: Sequence[str], now: int) -> None:
        """Their reservations stopped holding now (records already ended keep their instant)."""
        ...

    def purge(self, ended_before: int) -> int:
        """Delete records whose reservation ended at or before the instant; how many."""
        ...

    def forget(self, keys: Iterable[str]) -> list[PersonalRecord]:
        """Delete every record any of `keys` names (see `PersonalRecord.keys`); the deleted."""
        ...


class UnitOfWork(Protocol):
    @property
    def ledger(self) -> Ledger: ...

    @property
    def stock(self) -> StockQueries: ...

    @property
    def intake(self) -> IntakeLog: ...

    @property
    def registry(self) -> Registry: ...

    @property
    def orders(self) -> ChannelOrders: ...

    @property
    def people(self) -> PersonalData: ...

    @property
    def clock(self) -> Clock: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        """Roll back whatever was not committed."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]:
        """A nested scope: an exception inside rolls back only what it wrote."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
