"""Reservations that never oversell: check and append in one unit of work, under row locks.

`reserve` locks the positions of every line (in key order), reads what is sellable *now*
(unexpired reservations, safety stock and the channel's buffer taken off), and only then
appends the reservation events, in the same transaction.  A second reserver for the same unit
waits for the lock (PostgreSQL) or the write lock (SQLite) and then sees the first one's hold.
Release, fulfil and the expiry sweep are ledger events too.

A reservation made for a named person (`customer`) keeps the person's details in the
personal-data store, in the same unit; its events carry only the record's opaque subject id
as their `reference`.  When the reservation stops holding (handed over, released, expired)
the record is marked ended, and the purge deletes it after its retention period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from inventory.events import EventType
from inventory.ledger import ACCEPTED
from inventory.personal import Customer, PersonalRecord, new_subject_id
from inventory.ports import UnitOfWork, UnitOfWorkFactory
from inventory.reservations import (
    Line,
    Reservation,
    ReserveResult,
    SettleResult,
    Shortfall,
    expiry_release,
    merge_lines,
    reservation_events,
    same_lines,
    settle_events,
    shortfalls,
)
from inventory.services.units import run

# runs after a successful append, inside the same unit (e.g. to book a pickup slot); if it
# raises, nothing is reserved
Then = Callable[[UnitOfWork, int], None]


class ReservationRace(Exception):
    """The same reservation id was committed meanwhile for other positions (whose locks this
    request did not hold): this request must not add lines to it."""


def reserve(
    factory: UnitOfWorkFactory,
    reservation_id: str,
    location: str,
    lines: Sequence[Line],
    expires_at: int | None,
    channel: str | None = None,
    reference: str | None = None,
    buffer: int = 0,
    then: Then | None = None,
    ttl: int | None = None,
    customer: Customer | None = None,
) -> ReserveResult:
    """All lines or none, in a unit of its own.  `buffer` is held back on top of safety stock
    (a channel's policy).  With `ttl` (microseconds) the reservation expires that long after
    the instant it is made (`expires_at` is then ignored).  A `customer`'s details go to the
    personal-data store, never to the ledger (see the module's doc)."""
    try:
        return run(
            factory,
            lambda uow: reserve_in(
                uow,
                reservation_id,
                location,
                lines,
                expires_at,
                channel,
                reference,
                buffer,
                then,
                ttl,
                customer,
            ),
        )
    except ReservationRace:  # rolled back; the other request's reservation stands
        return run(
            factory, lambda uow: ReserveResult("conflict", uow.stock.reservation(reservation_id))
        )


def reserve_in(
    uow: UnitOfWork,
    reservation_id: str,
    location: str,
    lines: Sequence[Line],
    expires_at: int | None,
    channel: str | None = None,
    reference: str | None = None,
    buffer: int = 0,
    then: Then | None = None,
    ttl: int | None = None,
    customer: Customer | None = None,
) -> ReserveResult:
    """`reserve` inside the caller's unit (several reservations can share one commit)."""
    wanted = merge_lines(lines)
    now = uow.clock()
    if ttl is not None:
        expires_at = now + ttl
    keys = [(line.sku, location) for line in wanted]
    uow.ledger.lock(keys)
    # checked under the locks: a request with the same id may have committed meanwhile
    existing = uow.stock.reservation(reservation_id)
    if existing is not None:
        same = same_lines(existing, location, wanted)
        return ReserveResult("existing" if same else "conflict", existing)
    short = shortfalls(wanted, location, uow.stock.positions(keys, now), buffer)
    if short:
        return ReserveResult("short", shortfalls=short)
    subject = new_subject_id() if customer is not None else None
    if reference is None:
        reference = subject  # the ledger says only that it was for someone
    events = reservation_events(
        reservation_id, location, wanted, now, expires_at, channel, reference
    )
    appended = uow.ledger.append(events)
    if appended.count(ACCEPTED) != len(events):
        raise ReservationRace(reservation_id)
    if customer is not None and subject is not None:
        uow.people.keep(
            PersonalRecord(subject, reservation_id, customer.name, customer.contact, now)
        )
    if then is not None:
        then(uow, now)
    return ReserveResult("created", uow.stock.reservation(reservation_id), append=appended)


def release(
    factory: UnitOfWorkFactory, reservation_id: str, reason: str | None = None
) -> SettleResult:
    """Release everything the reservation still holds."""
    return run(
        factory,
        lambda uow: settle_in(uow, reservation_id, EventType.RESERVATION_RELEASE, None, reason),
    )


def fulfil(
    factory: UnitOfWorkFactory, reservation_id: str, lines: Sequence[Line] | None = None
) -> SettleResult:
    """Hand over the whole reservation, or the given lines (each at most what it holds)."""
    return run(
        factory, lambda uow: settle_in(uow, reservation_id, EventType.FULFILMENT, lines, None)
    )


def settle_in(
    uow: UnitOfWork,
    reservation_id: str,
    kind: EventType,
    lines: Sequence[Line] | None,
    reason: str | None,
) -> SettleResult:
    found = uow.stock.reservation(reservation_id)
    if found is None:
        return SettleResult("not_found")
    uow.ledger.lock(sorted({(x["sku"], x["location"]) for x in found.lines}))
    found = uow.stock.reservation(reservation_id)  # as of the lock
    assert found is not None
    now = uow.clock()
    if kind is EventType.FULFILMENT and found.status(now) == "expired":
        return SettleResult("expired", found)
    held = {x["sku"]: int(x["held"]) for x in found.lines}
    asked = {x.sku: x.quantity for x in merge_lines(lines)} if lines else dict(held)
    problems = [
        Shortfall(sku, q, held.get(sku, 0)) for sku, q in asked.items() if q > held.get(sku, 0)
    ]
    if problems:
        return SettleResult("too_much", found, problems)
    serial = uow.stock.settled_units(reservation_id) + 1
    uow.ledger.append(settle_events(found, kind, asked, serial, now, reason))
    done = "released" if kind is EventType.RESERVATION_RELEASE else "fulfilled"
    after = uow.stock.reservation(reservation_id)
    if after is None or after.held == 0:
        uow.people.end([reservation_id], now)
    return SettleResult(done, after)


def sweep(factory: UnitOfWorkFactory, limit: int = 5000) -> int:
    """Write `reservation_release` events for lines whose reservation has expired; returns how
    many were written (expired holds stopped counting already; this records it)."""

    def work(uow: UnitOfWork) -> int:
        now = uow.clock()
        lapsed = uow.stock.expired_lines(now, limit)
        if not lapsed:
            return 0
        uow.ledger.lock(sorted({(x.sku, x.location) for x in lapsed}))
        lapsed = uow.stock.expired_lines(now, limit)  # as of the locks
        appended = uow.ledger.append([expiry_release(line, now) for line in lapsed])
        uow.people.end(sorted({x.reservation_id for x in lapsed}), now)
        return appended.count(ACCEPTED)

    return run(factory, work)


def get(factory: UnitOfWorkFactory, reservation_id: str) -> Reservation | None:
    """A reservation as the ledger holds it now (None when unknown)."""
    return run(factory, lambda uow: uow.stock.reservation(reservation_id))


def reserve_many(
    factory: UnitOfWorkFactory, requests: Sequence[dict[str, Any]]
) -> list[ReserveResult | Exception]:
    """Several reservations in one unit (group commit), each in a savepoint of its own: each
    sees the holds of those before it, and one that fails rolls back alone.  Returns each
    request's result, or the error it raised."""

    def work(uow: UnitOfWork) -> list[ReserveResult | Exception]:
        results: list[ReserveResult | Exception] = []
        for arguments in requests:
            try:
                with uow.savepoint():
                    results.append(reserve_in(uow, **arguments))
            except Exception as error:  # only this reservation is rolled back
                results.append(error)
        return results

    return run(factory, work)
