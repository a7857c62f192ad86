"""Hypothesis strategies for ledgers: few SKUs, locations and instants, so events collide often
(counts at the same instant as sales, transfers and reservations sharing references)."""

from __future__ import annotations

from hypothesis import strategies as st

from inventory.events import EventType, StockEvent

SKUS = ["A", "B"]
LOCATIONS = ["L1", "L2", "L3"]
BASE = 1_780_000_000_000_000  # an instant in 2026, in microseconds
MINUTE = 60_000_000
instants = st.integers(0, 12).map(lambda m: BASE + m * MINUTE)


@st.composite
def stock_events(draw: st.DrawFn, event_id: str) -> StockEvent:
    kind = draw(st.sampled_from(list(EventType)))
    sku = draw(st.sampled_from(SKUS))
    location = draw(st.sampled_from(LOCATIONS))
    occurred_at = draw(instants)
    extra: dict[str, object] = {}
    if kind is EventType.ADJUSTMENT:
        quantity = draw(st.integers(-5, 5).filter(bool))
    elif kind is EventType.COUNT:
        quantity = draw(st.integers(0, 20))
    else:
        quantity = draw(st.integers(1, 6))
    if kind in (EventType.RESERVATION, EventType.RESERVATION_RELEASE, EventType.FULFILMENT):
        extra["reservation_id"] = draw(st.sampled_from(["R1", "R2", "R3"]))
    if kind is EventType.RESERVATION:
        expiry = draw(st.none() | st.integers(1, 15))
        extra["expires_at"] = None if expiry is None else occurred_at + expiry * MINUTE
    if kind in (EventType.TRANSFER_OUT, EventType.TRANSFER_IN):
        extra["reference"] = draw(st.sampled_from(["T1", "T2"]))
    if kind is EventType.TRANSFER_OUT:
        extra["destination"] = draw(st.sampled_from([x for x in LOCATIONS if x != location]))
    return StockEvent(event_id, kind, sku, location, quantity, occurred_at, **extra)  # type: ignore[arg-type]


@st.composite
def ledgers(draw: st.DrawFn, max_size: int = 30) -> list[StockEvent]:
    """Events with distinct ids."""
    size = draw(st.integers(0, max_size))
    return [draw(stock_events(f"e{index}")) for index in range(size)]


@st.composite
def batches(draw: st.DrawFn, events: list[StockEvent]) -> list[list[StockEvent]]:
    """The events in a random order, cut into random batches."""
    order = draw(st.permutations(events))
    cuts = sorted(draw(st.lists(st.integers(0, len(order)), max_size=4)))
    parts, start = [], 0
    for cut in [*cuts, len(order)]:
        parts.append(list(order[start:cut]))
        start = cut
    return [part for part in parts if part]
