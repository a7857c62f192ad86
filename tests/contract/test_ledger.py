"""The ledger on each database, one rule at a time."""

from __future__ import annotations

from inventory.events import EventType, StockEvent
from tests.conftest import at

T0 = "2026-05-01T09:00:00Z"


def ev(
    event_id: str,
    kind: str,
    quantity: int,
    when: str = T0,
    sku: str = "SKU-1",
    location: str = "S1",
    **extra,
) -> StockEvent:
    return StockEvent(event_id, EventType(kind), sku, location, quantity, at(when), **extra)


def stock(database, sku: str = "SKU-1", location: str = "S1"):
    return database.reader.position(sku, location)


def test_receipt_sale_return_adjustment(database):
    database.ledger.append(
        [
            ev("r", "receipt", 10),
            ev("s", "sale", 3),
            ev("ret", "return", 1),
            ev("a", "adjustment", -2, reason="damaged"),
        ]
    )
    position = stock(database)
    assert (position.on_hand, position.available) == (6, 6)


def test_sale_beyond_stock_goes_negative_and_is_flagged(database):
    database.ledger.append([ev("r", "receipt", 1), ev("s", "sale", 3)])
    position = stock(database)
    assert position.on_hand == -2
    assert position.available == 0
    assert "negative_on_hand" in position.flags


def test_count_sets_on_hand_and_keeps_later_deltas(database):
    database.ledger.append(
        [
            ev("r", "receipt", 10, "2026-05-01T08:00:00Z"),
            ev("c", "count", 7, "2026-05-01T09:00:00Z"),
            ev("s", "sale", 2, "2026-05-01T10:00:00Z"),
        ]
    )
    assert stock(database).on_hand == 5


def test_late_delta_at_or_before_the_count_is_inside_it(database):
    database.ledger.append([ev("c", "count", 7, "2026-05-01T09:00:00Z")])
    database.ledger.append(
        [
            ev("s-before", "sale", 2, "2026-05-01T08:59:00Z"),
            ev("s-same", "sale", 1, "2026-05-01T09:00:00Z"),
        ]
    )
    assert stock(database).on_hand == 7
    database.ledger.append([ev("s-after", "sale", 1, "2026-05-01T09:01:00Z")])
    assert stock(database).on_hand == 6


def test_late_count_reanchors_on_hand(database):
    database.ledger.append(
        [
            ev("r", "receipt", 10, "2026-05-01T08:00:00Z"),
            ev("s1", "sale", 1, "2026-05-01T09:30:00Z"),
            ev("s2", "sale", 1, "2026-05-01T10:30:00Z"),
        ]
    )
    database.ledger.append([ev("c", "count", 4, "2026-05-01T10:00:00Z")])  # arrives last
    assert stock(database).on_hand == 3  # the count, then the 10:30 sale
    database.ledger.append([ev("c-old", "count", 50, "2026-05-01T07:00:00Z")])  # older: no effect
    assert stock(database).on_hand == 3


def test_counts_at_one_instant_tie_break_by_event_id(database):
    database.ledger.append([ev("c-b", "count", 5), ev("c-a", "count", 9)])
    assert stock(database).on_hand == 5


def test_transfer_moves_stock_through_transit(database):
    database.ledger.append(
        [
            ev("r", "receipt", 10, location="WH"),
            ev("out", "transfer_out", 4, location="WH", destination="S1", reference="TR-1"),
        ]
    )
    assert stock(database, location="WH").on_hand == 6
    assert stock(database).in_transit == 4
    database.ledger.append([ev("in", "transfer_in", 3, "2026-05-02T09:00:00Z", reference="TR-1")])
    position = stock(database)
    assert (position.on_hand, position.in_transit) == (3, 1)
    database.ledger.append([ev("in2", "transfer_in", 5, "2026-05-02T10:00:00Z", reference="TR-1")])
    position = stock(database)
    assert (position.on_hand, position.in_transit) == (8, 0)  # never below zero


def test_transfer_in_before_its_transfer_out_arrives(database):
    database.ledger.append([ev("in", "transfer_in", 4, "2026-05-02T09:00:00Z", reference="TR-9")])
    database.ledger.append(
        [ev("out", "transfer_out", 4, location="WH", destination="S1", reference="TR-9")]
    )
    position = stock(database)
    assert (position.on_hand, position.in_transit) == (4, 0)


def test_reservation_release_fulfilment(database, clock):
    clock.now = at("2026-05-01T09:30:00Z")
    database.ledger.append(
        [
            ev("r", "receipt", 10),
            ev("h", "reservation", 4, reservation_id="R1"),
        ]
    )
    assert (stock(database).reserved, stock(database).available) == (4, 6)
    database.ledger.append([ev("rel", "reservation_release", 1, reservation_id="R1")])
    database.ledger.append([ev("ful", "fulfilment", 2, reservation_id="R1")])
    position = stock(database)
    assert (position.on_hand, position.reserved, position.available) == (8, 1, 7)
    database.ledger.append([ev("rel2", "reservation_release", 5, reservation_id="R1")])
    assert stock(database).reserved == 0  # clamped to what was still held


def test_expired_reservation_stops_counting_at_once(database, clock):
    clock.now = at("2026-05-01T09:30:00Z")
    database.ledger.append(
        [
            ev("r", "receipt", 5),
            ev("h", "reservation", 2, reservation_id="R1", expires_at=at("2026-05-01T10:00:00Z")),
            ev("h2", "reservation", 1, reservation_id="R2"),
        ]
    )
    assert stock(database).reserved == 3
    clock.now = at("2026-05-01T10:00:00Z")
    assert (stock(database).reserved, stock(database).available) == (1, 4)


def test_safety_stock_per_location_and_per_sku(database):
    database.ledger.append([ev("r", "receipt", 10), ev("r2", "receipt", 10, sku="SKU-2")])
    database.set_safety_stock("S1", 3)
    database.set_safety_stock("S1", 1, sku="SKU-2")
    assert stock(database).available == 7
    assert stock(database, sku="SKU-2").available == 9


def test_duplicate_is_a_noop_and_conflict_changes_nothing(database):
    first = database.ledger.append([ev("r", "receipt", 10)])
    assert [o.status for o in first.outcomes] == ["accepted"]
    again = database.ledger.append([ev("r", "receipt", 10), ev("r", "receipt", 11)])
    assert [o.status for o in again.outcomes] == ["duplicate", "conflict"]
    assert stock(database).on_hand == 10
    assert database.reader.count_events() == 1


def test_atomic_batch_with_a_conflict_applies_nothing(database):
    database.ledger.append([ev("r", "receipt", 10)])
    result = database.ledger.append([ev("s", "sale", 1), ev("r", "receipt", 99)], atomic=True)
    assert [o.status for o in result.outcomes] == ["not_applied", "conflict"]
    assert stock(database).on_hand == 10
    assert database.reader.count_events() == 1


def test_as_of_a_past_instant(database):
    database.ledger.append(
        [
            ev("r", "receipt", 10, "2026-05-01T08:00:00Z"),
            ev("s", "sale", 4, "2026-05-01T12:00:00Z"),
        ]
    )
    [morning] = database.reader.as_of("SKU-1", at("2026-05-01T11:59:59Z"))
    assert morning.on_hand == 10
    [noon] = database.reader.as_of("SKU-1", at("2026-05-01T12:00:00Z"), location="S1")
    assert noon.on_hand == 6
    assert database.reader.as_of("SKU-1", at("2026-05-01T07:00:00Z")) == []


def test_history_in_ledger_order_paged(database):
    for i in (3, 1, 2):  # within one batch positions follow event_id order
        database.ledger.append([ev(f"r{i}", "receipt", 1, f"2026-05-0{i}T08:00:00Z")])
    lines = database.reader.history("SKU-1", "S1", limit=2)
    assert [e.event_id for _, e in lines] == ["r3", "r1"]  # arrival order, not event time
    rest = database.reader.history("SKU-1", "S1", after=lines[-1][0])
    assert [e.event_id for _, e in rest] == ["r2"]


def test_unknown_position_reads_as_zero(database):
    position = database.reader.position("NOPE", "S1")
    assert (position.on_hand, position.available) == (0, 0)


def test_every_read_of_current_stock_agrees_past_an_expiry(database, clock):
    """The pooled, the in-transaction and the remembered reads apply one expiry rule; a
    remembered answer lapses when a reservation among it expires, with no write between."""
    clock.now = at("2026-05-01T09:30:00Z")
    database.ledger.append(
        [
            ev("r", "receipt", 9),
            ev("h", "reservation", 2, reservation_id="R1", expires_at=at("2026-05-01T10:00:00Z")),
            ev("h2", "reservation", 3, reservation_id="R2", expires_at=at("2026-05-01T11:00:00Z")),
            ev("h3", "reservation", 1, reservation_id="R3"),
        ]
    )
    reader = database.reader

    def every_read(now: int) -> set[tuple[int, int]]:
        with database.engines.read.connect() as connection:
            inside = reader.positions_in(connection, [("SKU-1", "S1")], now)
        found = [
            reader.position("SKU-1", "S1", now=now),
            *reader.positions(keys=[("SKU-1", "S1")], now=now),
            *reader.positions(sku="SKU-1", now=now),
            *inside,
            *reader.current(["SKU-1"], None, now)["SKU-1"],
            *reader.current(["SKU-1"], ["S1"], now, fill=True)["SKU-1"],
        ]
        return {(p.reserved, p.available) for p in found}

    assert every_read(at("2026-05-01T09:59:59Z")) == {(6, 3)}
    assert every_read(at("2026-05-01T10:00:00Z")) == {(4, 5)}  # R1 has expired
    assert every_read(at("2026-05-01T11:00:00Z")) == {(1, 8)}  # and R2; R3 never expires
