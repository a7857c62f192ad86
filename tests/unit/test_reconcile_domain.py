"""The pure side of reconciliation: sampling a fold at many instants, classes and corrections."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.events import EventType, StockEvent
from inventory.projection import project
from inventory.reconcile import (
    Flag,
    Kind,
    Tally,
    classify,
    correction,
    correction_id,
    flags_for,
    judge,
    sample_key,
)

SKUS = ["A", "B", "C"]
LOCATIONS = ["S1", "S2"]


@st.composite
def ledgers(draw: st.DrawFn) -> list[StockEvent]:
    events = []
    for index in range(draw(st.integers(0, 40))):
        kind = draw(
            st.sampled_from(
                [
                    EventType.RECEIPT,
                    EventType.SALE,
                    EventType.ADJUSTMENT,
                    EventType.COUNT,
                    EventType.RESERVATION,
                    EventType.RESERVATION_RELEASE,
                    EventType.FULFILMENT,
                ]
            )
        )
        at = draw(st.integers(0, 20)) * 1_000_000
        quantity = draw(st.integers(0, 9) if kind is EventType.COUNT else st.integers(1, 9))
        reservation = (
            draw(st.sampled_from(["r1", "r2"])) if kind.startswith(("res", "ful")) else None
        )
        expires = None
        if kind is EventType.RESERVATION and draw(st.booleans()):
            expires = at + draw(st.integers(1, 10)) * 1_000_000
        events.append(
            StockEvent(
                f"e{index:03d}",
                kind,
                draw(st.sampled_from(SKUS)),
                draw(st.sampled_from(LOCATIONS)),
                quantity,
                at,
                channel=draw(st.sampled_from([None, "web", "store"])),
                reservation_id=reservation,
                expires_at=expires,
            )
        )
    return events


@settings(max_examples=300, deadline=None)
@given(ledgers(), st.lists(st.integers(0, 22).map(lambda s: s * 1_000_000), min_size=1))
def test_a_keys_sample_equals_the_projection_as_of_the_instant(
    events: list[StockEvent], instants: list[int]
) -> None:
    """Folding one key's canonical-order events up to T = the order-free projection as of T."""
    ordered = sorted(events, key=StockEvent.order_key)
    for at in sorted(set(instants)):
        expected = project(events, at=at)
        for key in [(s, loc) for s in SKUS for loc in LOCATIONS]:
            own = [e for e in ordered if e.key == key]
            sample = sample_key(own, at)
            position = expected.get(key)
            assert (sample.on_hand, sample.reserved) == (
                (0, 0) if position is None else (position.on_hand, position.reserved)
            ), (key, at)
            assert sample.known == any(e.occurred_at <= at for e in own)
            assert set(sample.channels) == {
                e.channel for e in own if e.occurred_at <= at and e.channel is not None
            }


def test_classes() -> None:
    assert classify(5, 5, True) is Kind.MATCH
    assert classify(None, 0, True) is Kind.MATCH
    assert classify(0, 0, False) is Kind.MATCH
    assert classify(3, 5, True) is Kind.LEDGER_OVER
    assert classify(7, 5, True) is Kind.LEDGER_UNDER
    assert classify(None, 4, True) is Kind.ONLY_IN_LEDGER
    assert classify(4, 0, False) is Kind.ONLY_IN_SNAPSHOT
    assert classify(4, 0, True) is Kind.LEDGER_UNDER


def test_flags_compare_reservations_with_the_counted_stock() -> None:
    assert flags_for(2, -1, 0) == (Flag.NEGATIVE_ON_HAND,)
    # the count is the truth
    assert flags_for(2, 10, 3) == (Flag.RESERVED_EXCEEDS_ON_HAND, Flag.OVERSOLD)
    assert flags_for(None, 10, 3) == ()
    assert flags_for(None, -2, 1) == (
        Flag.NEGATIVE_ON_HAND,
        Flag.RESERVED_EXCEEDS_ON_HAND,
        Flag.OVERSOLD,
    )


def test_correction_is_a_count_whose_id_is_its_content() -> None:
    finding = judge(("A", "S1"), 5_000_000, 3, 5, 0, True)
    event = correction(finding)
    assert event.type is EventType.COUNT and event.quantity == 3
    assert event.occurred_at == 5_000_000
    assert event.event_id == correction_id("A", "S1", 5_000_000, 3)
    assert correction(judge(("A", "S1"), 5_000_000, 3, 9, 0, True)) == event
    assert correction_id("A", "S1", 5_000_000, 4) != event.event_id
    absent = correction(judge(("A", "S1"), 5_000_000, None, 9, 0, True))
    assert absent.quantity == 0


def test_tally_per_location_channel_and_sku() -> None:
    tally = Tally()
    tally.add(judge(("A", "S1"), 0, 3, 5, 0, True, ("web", "store")))
    tally.add(judge(("A", "S2"), 0, 9, 5, 0, True, ()))
    tally.add(judge(("B", "S2"), 0, 1, 1, 0, True, ("web",)))
    assert tally.overall.drift == 6 and tally.overall.net == 2
    assert tally.overall.kinds == {"ledger_over": 1, "ledger_under": 1, "match": 1}
    assert tally.per_location["S2"].drift == 4
    assert tally.per_channel["web"].keys == 2 and tally.per_channel["web"].drift == 2
    assert tally.per_channel["(none)"].drift == 4
    assert tally.top_skus() == [("A", 6)]
    assert tally.within(6) and not tally.within(5)
