"""Invariants of the pure projection: a function of the set of events, whatever the order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.events import EventType, StockEvent
from inventory.projection import Projection, fold_sorted, project
from inventory.stock import StockBook
from tests.strategies import BASE, MINUTE, batches, ledgers

LATER = BASE + 30 * MINUTE


def visible(projection: Projection, now: int) -> dict:
    return {
        key: position.visible()
        for key, position in projection.positions(now).items()
        if position.visible() != (0, 0, 0)
    }


def folded(events: list[StockEvent], now: int) -> dict:
    projection = Projection()
    projection.apply(events)
    return visible(projection, now)


def reference(events: list[StockEvent], key: tuple[str, str], now: int) -> tuple[int, int, int]:
    """The contract's definitions, written out directly (no incremental state)."""
    mine = [e for e in events if e.key == key]
    counts = [e for e in mine if e.type is EventType.COUNT]
    latest = max(counts, key=lambda e: (e.occurred_at, e.event_id), default=None)
    deltas = [e for e in mine if latest is None or e.occurred_at > latest.occurred_at]
    on_hand = (latest.quantity if latest else 0) + sum(e.on_hand_delta for e in deltas)
    reserved = 0
    for rid in {e.reservation_id for e in mine if e.reservation_id}:
        line = [e for e in mine if e.reservation_id == rid]
        sums = {k: sum(e.quantity for e in line if e.type is k) for k in EventType}
        held = max(
            0,
            sums[EventType.RESERVATION]
            - sums[EventType.RESERVATION_RELEASE]
            - sums[EventType.FULFILMENT],
        )
        opens = [e for e in line if e.type is EventType.RESERVATION]
        if any(e.expires_at is None for e in opens) or not opens:
            expiry = None
        else:
            expiry = max(e.expires_at for e in opens if e.expires_at is not None)
        if expiry is None or expiry > now:
            reserved += held
    in_transit = 0
    for ref in {e.reference for e in events if e.reference}:
        sent = sum(
            e.quantity
            for e in events
            if e.type is EventType.TRANSFER_OUT
            and e.reference == ref
            and (e.sku, e.destination) == key
        )
        got = sum(
            e.quantity for e in mine if e.type is EventType.TRANSFER_IN and e.reference == ref
        )
        in_transit += max(0, sent - got)
    return (on_hand, reserved, in_transit)


@settings(max_examples=300)
@given(data=st.data(), events=ledgers())
def test_any_order_and_batching_gives_the_same_projection(data, events):
    expected = folded(events, LATER)
    projection = Projection()
    for batch in data.draw(batches(events)):
        projection.apply(batch)
    assert visible(projection, LATER) == expected


@settings(max_examples=300)
@given(events=ledgers(), now=st.integers(0, 30).map(lambda m: BASE + m * MINUTE))
def test_projection_matches_the_contract_definitions(events, now):
    projection = Projection()
    projection.apply(events)
    keys = {
        k for e in events for k in ([e.key, (e.sku, e.destination)] if e.destination else [e.key])
    }
    for key in keys:
        assert projection.position(key, now).visible() == reference(events, key, now), key


@settings(max_examples=200)
@given(data=st.data(), events=ledgers())
def test_duplicates_change_nothing(data, events):
    projection = Projection()
    projection.apply(events)
    before = visible(projection, LATER)
    projection.apply(data.draw(st.lists(st.sampled_from(events))) if events else [])
    assert visible(projection, LATER) == before


@settings(max_examples=200)
@given(events=ledgers())
def test_sorted_fold_equals_incremental_projection(events):
    book = fold_sorted(sorted(events, key=StockEvent.order_key), StockBook())
    replayed = {k: (s.on_hand, s.in_transit, s.reserved) for k, s in book.stock.items()}
    projection = Projection()
    projection.apply(events)
    live = {k: (s.on_hand, s.in_transit, s.reserved) for k, s in projection.book.stock.items()}
    assert replayed == live


@settings(max_examples=200)
@given(events=ledgers(), cut=st.integers(0, 12).map(lambda m: BASE + m * MINUTE))
def test_as_of_is_the_projection_of_earlier_events(events, cut):
    earlier = [e for e in events if e.occurred_at <= cut]
    as_of = {k: p.visible() for k, p in project(events, at=cut).items()}
    direct = {k: p.visible() for k, p in project(earlier, now=cut).items()}
    assert as_of == direct
