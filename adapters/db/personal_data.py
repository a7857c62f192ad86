"""The personal-data store on SQLite and PostgreSQL, and the retention of dead letters.

`SqlPersonalData` is the `inventory.ports.PersonalData` port on the unit of work's connection.
The dead-letter functions back the intake log's retention methods: a dead letter keeps the
bytes a channel sent (names, addresses and e-mails included), so it expires, and an erasure
request drops the bytes of those that mention the person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from adapters.db import intake_tables as it
from adapters.db.database import Database
from adapters.db.ledger import chunks
from adapters.db.personal_tables import personal_data
from inventory.personal import ERASED_REASON, PersonalRecord


def _record(row: Any) -> PersonalRecord:
    return PersonalRecord(
        row.subject_id,
        row.reservation_id,
        row.name,
        row.contact,
        int(row.created_at),
        None if row.ended_at is None else int(row.ended_at),
    )


class SqlPersonalData:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def keep(self, record: PersonalRecord) -> None:
        c = personal_data.c
        self.connection.execute(delete(personal_data).where(c.subject_id == record.subject_id))
        self.connection.execute(
            personal_data.insert().values(
                subject_id=record.subject_id,
                reservation_id=record.reservation_id,
                name=record.name,
                contact=record.contact,
                name_key=record.name_key,
                contact_key=record.contact_key,
                phone_key=record.phone_key,
                created_at=record.created_at,
                ended_at=record.ended_at,
            )
        )

    def of_reservations(self, reservation_ids: Sequence[str]) -> list[PersonalRecord]:
        return of_reservations(self.connection, reservation_ids)

    def open_records(self, limit: int) -> list[PersonalRecord]:
        c = personal_data.c
        query = (
            select(personal_data)
            .where(c.ended_at.is_(None))
            .order_by(c.created_at, c.subject_id)
            .limit(limit)
        )
        return [_record(row) for row in self.connection.execute(query)]

    def end(self, reservation_ids: Sequence[str], now: int) -> None:
        c = personal_data.c
        for part in chunks(sorted(set(reservation_ids))):
            self.connection.execute(
                update(personal_data)
                .where(c.reservation_id.in_(part), c.ended_at.is_(None))
                .values(ended_at=now)
            )

    def purge(self, ended_before: int) -> int:
        c = personal_data.c
        result = self.connection.execute(
            delete(personal_data).where(c.ended_at.is_not(None), c.ended_at <= ended_before)
        )
        return int(result.rowcount or 0)

    def forget(self, keys: Iterable[str]) -> list[PersonalRecord]:
        wanted = sorted(set(keys))
        if not wanted:
            return []
        c = personal_data.c
        found: dict[str, PersonalRecord] = {}
        for part in chunks(wanted):
            query = select(personal_data).where(
                or_(
                    c.subject_id.in_(part),
                    c.reservation_id.in_(part),
                    c.name_key.in_(part),
                    c.contact_key.in_(part),
                    c.phone_key.in_(part),
                )
            )
            found.update((r.subject_id, _record(r)) for r in self.connection.execute(query))
        for part in chunks(sorted(found)):
            self.connection.execute(delete(personal_data).where(c.subject_id.in_(part)))
        return sorted(found.values(), key=lambda r: (r.created_at, r.subject_id))


def of_reservations(connection: Connection, reservation_ids: Sequence[str]) -> list[PersonalRecord]:
    c = personal_data.c
    found: list[PersonalRecord] = []
    for part in chunks(sorted(set(reservation_ids))):
        query = select(personal_data).where(c.reservation_id.in_(part))
        found.extend(_record(row) for row in connection.execute(query))
    return sorted(found, key=lambda r: (r.created_at, r.subject_id))


def customer_names(db: Database, reservation_ids: Sequence[str]) -> dict[str, str]:
    """The name each reservation was made for, while the store still holds it (for the staff
    page: whom to hand a hold to)."""
    if not reservation_ids:
        return {}
    with db.engines.read.connect() as connection:
        records = of_reservations(connection, reservation_ids)
    return {r.reservation_id: r.name for r in records}


# -- dead letters ----------------------------------------------------------------------------


def expire_dead_letters(connection: Connection, received_before: int) -> int:
    c = it.dead_letters.c
    result = connection.execute(delete(it.dead_letters).where(c.received_at <= received_before))
    return int(result.rowcount or 0)


def dead_letter_payloads(
    connection: Connection, after_id: int, limit: int
) -> list[tuple[int, bytes]]:
    c = it.dead_letters.c
    query = (
        select(c.id, c.payload)
        .where(c.id > after_id, c.status != "erased")
        .order_by(c.id)
        .limit(limit)
    )
    return [(int(row.id), bytes(row.payload)) for row in connection.execute(query)]


def erase_dead_letters(connection: Connection, ids: Sequence[int]) -> None:
    c = it.dead_letters.c
    for part in chunks(sorted(set(ids))):
        connection.execute(
            update(it.dead_letters)
            .where(c.id.in_(part))
            .values(
                payload=b"",
                headers="{}",
                reason=ERASED_REASON,
                status="erased",
            )
        )
