"""Personal data's two exits: the purge after its retention period, and erasure on request.

Neither touches the ledger or the stock: the ledger holds only opaque ids, so deleting what
they point to (the personal-data records) and the dead letters that mention a person leaves
every position, every replay and `inventory verify` exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.personal import Mentions, PersonalRecord, Retention, lookup_keys
from inventory.ports import UnitOfWork, UnitOfWorkFactory
from inventory.services.units import run

OPEN_RECORDS = 100_000  # records still open are those of reservations still holding stock
PAGE = 500


@dataclass(frozen=True)
class PurgeReport:
    ended: int  # records whose reservation was found to have stopped holding
    records: int  # records deleted: their retention period after the reservation ended is over
    dead_letters: int  # dead letters deleted: older than their retention period


@dataclass
class ForgetReport:
    """What an erasure request erased (the ids only: the report repeats no personal data)."""

    records: list[PersonalRecord] = field(default_factory=list)
    dead_letters: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "personal_data": [
                {"subject_id": r.subject_id, "reservation_id": r.reservation_id}
                for r in self.records
            ],
            "dead_letters": list(self.dead_letters),
            "ledger": "unchanged: it holds only opaque ids",
        }


def end_finished(uow: UnitOfWork, now: int) -> int:
    """Mark the records of reservations that no longer hold stock (handed over, released or
    expired by any path, a channel's cancellation included) as ended now."""
    ended = []
    for record in uow.people.open_records(OPEN_RECORDS):
        found = uow.stock.reservation(record.reservation_id)
        if found is None or found.status(now) != "active":
            ended.append(record.reservation_id)
    uow.people.end(ended, now)
    return len(ended)


def purge(factory: UnitOfWorkFactory, retention: Retention) -> PurgeReport:
    """Delete personal data whose retention period is over: records `personal_data_days`
    after their reservation ended, dead letters `dead_letter_days` after they arrived."""

    def work(uow: UnitOfWork) -> PurgeReport:
        now = uow.clock()
        ended = end_finished(uow, now)
        records = uow.people.purge(retention.records_ended_before(now))
        letters = uow.intake.expire_dead_letters(retention.letters_received_before(now))
        return PurgeReport(ended, records, letters)

    return run(factory, work)


def forget(factory: UnitOfWorkFactory, reference: str) -> ForgetReport:
    """Erase a person's data wherever it is kept: the records `reference` names (a name, a
    phone number or an e-mail address as given, a subject id or a reservation id), and the
    bytes of every dead letter that mentions the reference or a value of those records."""
    reference = reference.strip()
    if not reference:
        raise ValueError("a reference is needed: a name, phone number, e-mail address or id")

    def work(uow: UnitOfWork) -> ForgetReport:
        now = uow.clock()
        records = uow.people.forget(lookup_keys(reference))
        values = {reference}
        for record in records:
            values.update(v for v in (record.name, record.contact) if v)
        mentions = Mentions.of(values)
        erased: list[int] = []
        after = 0
        while page := uow.intake.dead_letter_payloads(after, PAGE):
            erased.extend(letter_id for letter_id, payload in page if mentions(payload))
            after = page[-1][0]
        uow.intake.erase_dead_letters(erased, now)
        return ForgetReport(records, erased)

    return run(factory, work)
