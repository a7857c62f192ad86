"""Personal data on every store: kept beside the ledger, ended with its reservation, purged
after its retention period, erased on request (dead letters included), and never in an event."""

from __future__ import annotations

import json

import pytest

from inventory.events import EventType, StockEvent
from inventory.personal import DAY, Customer, Mentions, PersonalRecord, Retention, lookup_keys
from inventory.ports import DeadLetter, Message
from inventory.reservations import Line
from inventory.services.ingest import ingest
from inventory.services.personal import forget, purge
from inventory.services.reservations import fulfil, release, reserve, sweep
from tests.services.conftest import Backend, position

HOUR = 3_600_000_000
WEBER = Customer("Ms Weber", "+49 170 1234567")


def stock(backend: Backend, quantity: int, sku: str = "A", location: str = "S1") -> None:
    event = StockEvent(
        f"in-{sku}-{location}", EventType.RECEIPT, sku, location, quantity, backend.clock() - HOUR
    )
    assert ingest(backend.factory, [event]).accepted == 1


def records(backend: Backend, *reservation_ids: str) -> list[PersonalRecord]:
    with backend.factory() as uow:
        return uow.people.of_reservations(list(reservation_ids))


def ledger_text(backend: Backend) -> str:
    """Every field of every event the ledger holds, as one text."""
    with backend.factory() as uow:
        found = [uow.ledger.recorded(f"{rid}:A:reserve") for rid in ("R1", "R2", "R3")]
    return json.dumps([e.content() for e in found if e is not None])


def hold(backend: Backend, rid: str = "R1", customer: Customer | None = WEBER, **extra) -> None:
    made = reserve(
        backend.factory, rid, "S1", [Line("A", 2)], None, channel="staff", customer=customer,
        **extra,
    )  # fmt: skip
    assert made.status == "created"


def letter(backend: Backend, offset: int, payload: dict) -> None:
    message = Message("orders", 0, offset, "shop/orders/create", json.dumps(payload).encode())
    with backend.factory() as uow:
        uow.intake.dead_letters([DeadLetter(message, "unknown SKU")], backend.clock())
        uow.commit()


def test_a_hold_for_a_customer_keeps_the_name_beside_the_ledger(backend: Backend) -> None:
    stock(backend, 10)
    hold(backend)
    (record,) = records(backend, "R1")
    assert (record.name, record.contact, record.ended_at) == (WEBER.name, WEBER.contact, None)
    with backend.factory() as uow:
        event = uow.ledger.recorded("R1:A:reserve")
        found = uow.stock.reservation("R1")
    assert event is not None and found is not None
    assert event.reference == record.subject_id == found.reference
    assert record.subject_id.startswith("customer-")
    text = ledger_text(backend)
    assert "Weber" not in text and "1234567" not in text
    assert position(backend, "A", "S1").reserved == 2


def test_a_given_order_reference_stays_and_the_record_is_found_by_reservation(
    backend: Backend,
) -> None:
    stock(backend, 10)
    hold(backend, reference="order-77")
    (record,) = records(backend, "R1")
    with backend.factory() as uow:
        event = uow.ledger.recorded("R1:A:reserve")
    assert event is not None and event.reference == "order-77"
    assert record.reservation_id == "R1"


def test_no_customer_no_record(backend: Backend) -> None:
    stock(backend, 10)
    hold(backend, customer=None, reference="order-1")
    assert records(backend, "R1") == []


@pytest.mark.parametrize("settle", ["fulfil", "release", "expire"])
def test_the_record_ends_with_its_reservation_and_is_purged_after_retention(
    backend: Backend, settle: str
) -> None:
    stock(backend, 10)
    hold(backend, ttl=HOUR)
    retention = Retention(personal_data_days=2, dead_letter_days=30)
    if settle == "fulfil":
        assert fulfil(backend.factory, "R1").status == "fulfilled"
    elif settle == "release":
        assert release(backend.factory, "R1").status == "released"
    else:
        backend.clock.advance(2 * 3600)
        assert sweep(backend.factory) == 1
    ended_at = backend.clock()
    (record,) = records(backend, "R1")
    assert record.ended_at == ended_at
    on_hand = position(backend, "A", "S1").on_hand
    backend.clock.advance(2 * 86_400 - 1)
    assert purge(backend.factory, retention).records == 0
    assert len(records(backend, "R1")) == 1
    backend.clock.advance(1)
    assert purge(backend.factory, retention).records == 1
    assert records(backend, "R1") == []
    assert position(backend, "A", "S1").on_hand == on_hand


def test_a_partial_hand_over_keeps_the_record_open(backend: Backend) -> None:
    stock(backend, 10)
    hold(backend)
    assert fulfil(backend.factory, "R1", [Line("A", 1)]).status == "fulfilled"
    assert records(backend, "R1")[0].ended_at is None
    assert purge(backend.factory, Retention(0, 30)).records == 0


def test_the_purge_ends_records_of_reservations_settled_by_any_path(backend: Backend) -> None:
    """A release that came as a channel event (not through the use case) ends it too."""
    stock(backend, 10)
    hold(backend)
    release_event = StockEvent(
        "R1:A:channel-release",
        EventType.RESERVATION_RELEASE,
        "A",
        "S1",
        2,
        backend.clock(),
        reservation_id="R1",
    )
    assert ingest(backend.factory, [release_event]).accepted == 1
    assert records(backend, "R1")[0].ended_at is None
    report = purge(backend.factory, Retention(0, 30))
    assert (report.ended, report.records) == (1, 1)
    assert records(backend, "R1") == []


def test_dead_letters_expire_after_their_retention(backend: Backend) -> None:
    letter(backend, 1, {"email": "a@example.com"})
    backend.clock.advance(86_400)
    letter(backend, 2, {"email": "b@example.com"})
    report = purge(backend.factory, Retention(personal_data_days=7, dead_letter_days=0.5))
    assert report.dead_letters == 1
    assert [x.offset for x in backend.dead_letters()] == [2]


def test_forget_erases_the_records_and_the_dead_letters_that_mention_the_person(
    backend: Backend,
) -> None:
    stock(backend, 10)
    hold(backend, "R1")
    hold(backend, "R2", customer=Customer("Mr Ali", "ali@example.com"))
    letter(backend, 1, {"note": "call Ms Weber", "sku": "X"})
    letter(backend, 2, {"phone": "0170 123 45 67"})  # the same number, written otherwise
    letter(backend, 3, {"email": "ali@example.com"})
    letter(backend, 4, {"email": "someone@example.com", "note": "Ms Webering"})
    before = (position(backend, "A", "S1"), ledger_text(backend))
    report = forget(backend.factory, "+49 (170) 123-4567")
    assert [r.reservation_id for r in report.records] == ["R1"]
    assert report.dead_letters == [1, 2]
    assert records(backend, "R1") == []
    assert [r.name for r in records(backend, "R2")] == ["Mr Ali"]
    statuses = {x.offset: x.status for x in backend.dead_letters()}
    assert statuses == {1: "erased", 2: "erased", 3: "open", 4: "open"}
    with backend.factory() as uow:
        kept = dict(uow.intake.dead_letter_payloads(0, 100))
    assert set(kept) == {3, 4}
    assert (position(backend, "A", "S1"), ledger_text(backend)) == before
    assert "Weber" not in json.dumps(report.as_dict())


@pytest.mark.parametrize("given", ["ms  WEBER", "+49 170 1234567", "R1", "subject"])
def test_forget_finds_a_record_by_any_of_its_names(backend: Backend, given: str) -> None:
    stock(backend, 10)
    hold(backend)
    if given == "subject":
        given = records(backend, "R1")[0].subject_id
    assert len(forget(backend.factory, given).records) == 1
    assert records(backend, "R1") == []


def test_forget_of_a_stranger_erases_nothing(backend: Backend) -> None:
    stock(backend, 10)
    hold(backend)
    letter(backend, 1, {"note": "call Ms Weber"})
    report = forget(backend.factory, "Mr Nobody")
    assert (report.records, report.dead_letters) == ([], [])
    assert len(records(backend, "R1")) == 1
    with pytest.raises(ValueError):
        forget(backend.factory, "  ")


def test_lookup_and_mentions_rules() -> None:
    assert "tel:701234567" in lookup_keys("0170 1234567")
    assert lookup_keys("+49 170 1234567") & lookup_keys("0170-123 4567")
    mentions = Mentions.of({"Ms Weber", "ali@example.com", "+49 170 1234567", "x"})
    assert mentions(b'{"n": "MS   weber"}')
    assert mentions(b'{"e": "ALI@example.com"}')
    assert mentions(b'{"p": "0170/123 45 67"}')
    assert not mentions(b'{"n": "Ms Webering", "x": "x"}')
    assert not mentions(b'{"p": "0170 7654321"}')
    with pytest.raises(ValueError):
        Retention(-1, 1)
    assert Retention(1, 2).records_ended_before(DAY) == 0
