"""The reservation use cases on every store: reserve (never oversell), reserve many in one
unit, release, fulfil and the expiry sweep."""

from __future__ import annotations

from typing import Any

from inventory.events import EventType, StockEvent
from inventory.ports import UnitOfWork
from inventory.reservations import Line, Shortfall
from inventory.services.ingest import ingest
from inventory.services.reservations import (
    fulfil,
    get,
    release,
    reserve,
    reserve_many,
    sweep,
)
from tests.services.conftest import Backend, position

HOUR = 3_600_000_000


def stock(backend: Backend, quantity: int, sku: str = "A", location: str = "S1") -> None:
    event = StockEvent(
        f"in-{sku}-{location}-{quantity}",
        EventType.RECEIPT,
        sku,
        location,
        quantity,
        backend.clock() - HOUR,
    )
    assert ingest(backend.factory, [event]).accepted == 1


def held(backend: Backend, reservation_id: str) -> dict[str, int]:
    found = get(backend.factory, reservation_id)
    assert found is not None
    return {line["sku"]: int(line["held"]) for line in found.lines}


def test_a_reservation_is_created_then_found_again_or_refused_as_a_conflict(
    backend: Backend,
) -> None:
    stock(backend, 10)
    stock(backend, 4, sku="B")
    lines = [Line("B", 1), Line("A", 3)]
    created = reserve(backend.factory, "R1", "S1", lines, None, channel="shop", reference="o-1")
    assert created.status == "created"
    assert created.reservation is not None
    assert created.reservation.lines == [
        {"sku": "A", "location": "S1", "reserved": 3, "released": 0, "fulfilled": 0, "held": 3},
        {"sku": "B", "location": "S1", "reserved": 1, "released": 0, "fulfilled": 0, "held": 1},
    ]
    assert (created.reservation.channel, created.reservation.reference) == ("shop", "o-1")
    assert created.reservation.expires_at is None
    assert created.reservation.opened_at == backend.clock()
    assert created.append is not None and created.append.count("accepted") == 2
    assert position(backend, "A", "S1").reserved == 3
    assert position(backend, "A", "S1").available == 7

    again = reserve(backend.factory, "R1", "S1", [Line("A", 3), Line("B", 1)], None)
    assert again.status == "existing"
    other = reserve(backend.factory, "R1", "S1", [Line("A", 4)], None)
    assert other.status == "conflict"
    assert other.reservation is not None and other.reservation.held == 4
    assert position(backend, "A", "S1").reserved == 3


def test_a_reservation_never_takes_safety_stock_or_the_channel_buffer(backend: Backend) -> None:
    stock(backend, 10)
    backend.set_safety_stock("S1", 3)
    short = reserve(backend.factory, "R1", "S1", [Line("A", 6)], None, buffer=2)
    assert short.status == "short"
    assert short.shortfalls == [Shortfall("A", 6, 5)]
    assert short.reservation is None
    assert position(backend, "A", "S1").reserved == 0

    backend.set_safety_stock("S1", 1, sku="A")  # a SKU's own safety stock wins over the location's
    assert position(backend, "A", "S1").safety_stock == 1
    assert reserve(backend.factory, "R1", "S1", [Line("A", 7)], None, buffer=2).status == "created"
    assert position(backend, "A", "S1").available == 2


def test_an_unknown_position_has_nothing_to_sell(backend: Backend) -> None:
    result = reserve(backend.factory, "R1", "S1", [Line("Z", 1)], None)
    assert (result.status, result.shortfalls) == ("short", [Shortfall("Z", 1, 0)])
    empty = position(backend, "Z", "S1")
    assert (empty.on_hand, empty.reserved, empty.in_transit) == (0, 0, 0)


def test_lines_of_one_sku_are_summed_before_the_check(backend: Backend) -> None:
    stock(backend, 5)
    short = reserve(backend.factory, "R1", "S1", [Line("A", 3), Line("A", 3)], None)
    assert short.shortfalls == [Shortfall("A", 6, 5)]
    created = reserve(backend.factory, "R1", "S1", [Line("A", 2), Line("A", 3)], None)
    assert created.status == "created"
    assert held(backend, "R1") == {"A": 5}


def test_reserve_many_rolls_back_only_the_request_that_failed(backend: Backend) -> None:
    stock(backend, 5)

    def fails(uow: UnitOfWork, now: int) -> None:
        raise RuntimeError("no pickup slot")

    def request(reservation_id: str, quantity: int, **more: Any) -> dict[str, Any]:
        return {
            "reservation_id": reservation_id,
            "location": "S1",
            "lines": [Line("A", quantity)],
            "expires_at": None,
            **more,
        }

    results = reserve_many(
        backend.factory,
        [request("R1", 3), request("R2", 2, then=fails), request("R3", 2), request("R4", 1)],
    )
    statuses = [r if isinstance(r, Exception) else r.status for r in results]
    assert statuses[0] == "created"
    assert isinstance(statuses[1], RuntimeError)
    assert statuses[2:] == ["created", "short"]  # R3 took what R2 gave back; R4 saw R1 and R3
    assert get(backend.factory, "R2") is None
    assert held(backend, "R1") == {"A": 3} and held(backend, "R3") == {"A": 2}
    assert position(backend, "A", "S1").reserved == 5


def test_release_gives_the_stock_back(backend: Backend) -> None:
    stock(backend, 5)
    reserve(backend.factory, "R1", "S1", [Line("A", 4)], None)
    released = release(backend.factory, "R1", reason="cancelled")
    assert released.status == "released"
    assert released.reservation is not None
    assert released.reservation.status(backend.clock()) == "released"
    assert released.reservation.lines[0]["released"] == 4
    assert position(backend, "A", "S1").reserved == 0
    assert position(backend, "A", "S1").on_hand == 5
    assert release(backend.factory, "R9").status == "not_found"


def test_fulfil_hands_over_part_then_the_rest_never_more_than_held(backend: Backend) -> None:
    stock(backend, 10)
    stock(backend, 10, sku="B")
    reserve(backend.factory, "R1", "S1", [Line("A", 3), Line("B", 2)], None)

    part = fulfil(backend.factory, "R1", [Line("A", 1)])
    assert part.status == "fulfilled"
    assert held(backend, "R1") == {"A": 2, "B": 2}
    a = position(backend, "A", "S1")
    assert (a.on_hand, a.reserved) == (9, 2)

    too_much = fulfil(backend.factory, "R1", [Line("A", 2), Line("A", 1)])
    assert too_much.status == "too_much"
    assert too_much.problems == [Shortfall("A", 3, 2)]
    assert held(backend, "R1") == {"A": 2, "B": 2}

    rest = fulfil(backend.factory, "R1")
    assert rest.status == "fulfilled"
    assert rest.reservation is not None
    assert rest.reservation.status(backend.clock()) == "fulfilled"
    assert [line["fulfilled"] for line in rest.reservation.lines] == [3, 2]
    b = position(backend, "B", "S1")
    assert (position(backend, "A", "S1").on_hand, b.on_hand, b.reserved) == (7, 8, 0)


def test_an_expired_reservation_cannot_be_fulfilled_and_stops_holding(backend: Backend) -> None:
    stock(backend, 5)
    reserve(backend.factory, "R1", "S1", [Line("A", 2)], None, ttl=HOUR)
    assert position(backend, "A", "S1").reserved == 2
    backend.clock.advance(3600)
    assert position(backend, "A", "S1").reserved == 0  # at its expiry, before any sweep
    result = fulfil(backend.factory, "R1")
    assert result.status == "expired"
    assert position(backend, "A", "S1").on_hand == 5


def test_the_sweep_writes_each_lapsed_release_once(backend: Backend) -> None:
    stock(backend, 10)
    stock(backend, 10, sku="B")
    now = backend.clock()
    reserve(backend.factory, "R1", "S1", [Line("A", 2), Line("B", 1)], now + HOUR)
    reserve(backend.factory, "R2", "S1", [Line("A", 3)], now + 2 * HOUR)
    reserve(backend.factory, "R3", "S1", [Line("A", 1)], None)
    backend.clock.advance(1.5 * 3600)

    assert sweep(backend.factory) == 2
    assert held(backend, "R1") == {"A": 0, "B": 0}
    found = get(backend.factory, "R1")
    assert found is not None and found.status(backend.clock()) == "released"
    assert position(backend, "A", "S1").reserved == 4
    assert sweep(backend.factory) == 0

    backend.clock.advance(3600)
    assert sweep(backend.factory, limit=5) == 1
    assert sweep(backend.factory) == 0
    assert position(backend, "A", "S1").reserved == 1
    assert held(backend, "R3") == {"A": 1}
