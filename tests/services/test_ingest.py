"""The ingest use cases on every store: outcomes, the unknown-location rule, all-or-nothing
batches, inbound messages (dead letters, offsets) and re-driving a dead letter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.events import EventType, StockEvent
from inventory.ledger import FieldError
from inventory.ports import Message, UnitOfWork, UnitOfWorkFactory
from inventory.projection import Position, project
from inventory.services.ingest import Refused, Translated, ingest, receive, redrive
from tests.conftest import at
from tests.services.conftest import Backend, position, positions
from tests.strategies import BASE, LOCATIONS, MINUTE, SKUS, batches, ledgers

T0 = at("2026-06-01T10:00:00Z")


def receipt(event_id: str, quantity: int, location: str = "S1", sku: str = "A") -> StockEvent:
    return StockEvent(event_id, EventType.RECEIPT, sku, location, quantity, T0)


def message(offset: int, payload: bytes = b"{}") -> Message:
    return Message("orders", 0, offset, "test", payload + str(offset).encode())


# -- ingest ----------------------------------------------------------------------------------


def test_new_events_are_accepted_in_event_id_order_and_resent_ones_are_duplicates(
    backend: Backend,
) -> None:
    events = [receipt("r3", 1), receipt("r1", 2), receipt("r2", 4, sku="B")]
    report = ingest(backend.factory, events)
    assert [o.status for o in report.outcomes] == ["accepted"] * 3
    first = {o.event_id: o.position for o in report.outcomes}
    assert first["r1"] is not None and first["r2"] is not None and first["r3"] is not None
    assert first["r1"] < first["r2"] < first["r3"]
    assert report.append.changed == {("A", "S1"), ("B", "S1")}
    assert report.append.applied == events
    assert position(backend, "A", "S1").on_hand == 3

    again = ingest(backend.factory, events)
    assert [o.status for o in again.outcomes] == ["duplicate"] * 3
    assert {o.event_id: o.position for o in again.outcomes} == first
    assert again.append.changed == set() and again.append.applied == []
    assert again.summary() == {"accepted": 0, "duplicate": 3, "conflict": 0, "rejected": 0}
    assert position(backend, "A", "S1").on_hand == 3


def test_the_same_id_with_other_content_is_a_conflict_and_changes_nothing(
    backend: Backend,
) -> None:
    kept = ingest(backend.factory, [receipt("r1", 5)]).outcomes[0]
    report = ingest(backend.factory, [receipt("r1", 6), receipt("r2", 1)])
    conflict, accepted = report.outcomes
    assert conflict.status == "conflict"
    assert conflict.reason == "event_id already recorded with different content"
    assert conflict.position == kept.position
    assert accepted.status == "accepted"
    assert position(backend, "A", "S1").on_hand == 6


def test_repeats_inside_one_batch_are_judged_against_the_first(backend: Backend) -> None:
    report = ingest(backend.factory, [receipt("r1", 5), receipt("r1", 5), receipt("r1", 7)])
    assert [(o.status, o.position is None) for o in report.outcomes] == [
        ("accepted", False),
        ("duplicate", True),
        ("conflict", True),
    ]
    assert [e.event_id for e in report.append.applied] == ["r1"]
    assert position(backend, "A", "S1").on_hand == 5


def test_refused_items_are_rejected_with_their_fields(backend: Backend) -> None:
    refused = Refused([FieldError("quantity", "must be positive")], "bad")
    report = ingest(backend.factory, [refused, receipt("r1", 2)])
    assert report.outcomes[0].status == "rejected"
    assert report.outcomes[0].event_id == "bad"
    assert report.outcomes[0].errors == refused.errors
    assert report.outcomes[1].status == "accepted"
    assert position(backend, "A", "S1").on_hand == 2


def test_unknown_locations_are_rejected_once_the_registry_holds_any(backend: Backend) -> None:
    backend.add_locations("S1", "S2")
    transfer = StockEvent(
        "t1", EventType.TRANSFER_OUT, "A", "S1", 1, T0, reference="T", destination="S9"
    )
    report = ingest(backend.factory, [receipt("r1", 4), receipt("r2", 4, "S9"), transfer])
    assert [o.status for o in report.outcomes] == ["accepted", "rejected", "rejected"]
    assert report.outcomes[1].reason == "unknown location"
    assert report.outcomes[1].errors == [FieldError("location", "unknown location 'S9'")]
    assert report.outcomes[2].errors == [FieldError("destination", "unknown location 'S9'")]
    assert position(backend, "A", "S1").on_hand == 4
    assert position(backend, "A", "S9").on_hand == 0


def test_an_empty_registry_accepts_any_location(backend: Backend) -> None:
    report = ingest(backend.factory, [receipt("r1", 4, "ANYWHERE")])
    assert report.outcomes[0].status == "accepted"
    assert position(backend, "A", "ANYWHERE").on_hand == 4


def test_an_atomic_batch_with_a_conflict_applies_nothing(backend: Backend) -> None:
    ingest(backend.factory, [receipt("r1", 5)])
    report = ingest(backend.factory, [receipt("r2", 3), receipt("r1", 9)], atomic=True)
    assert [o.status for o in report.outcomes] == ["not_applied", "conflict"]
    assert report.outcomes[0].position is None
    assert position(backend, "A", "S1").on_hand == 5
    assert ingest(backend.factory, [receipt("r2", 3)]).outcomes[0].status == "accepted"


def test_an_atomic_batch_with_a_refusal_reaches_no_ledger(backend: Backend) -> None:
    backend.add_locations("S1")
    report = ingest(backend.factory, [receipt("r1", 3), receipt("r2", 1, "S9")], atomic=True)
    assert [o.status for o in report.outcomes] == ["not_applied", "rejected"]
    assert position(backend, "A", "S1").on_hand == 0


def test_a_unit_left_without_commit_leaves_nothing(backend: Backend) -> None:
    with backend.factory() as uow:
        assert uow.ledger.append([receipt("r1", 5)]).count("accepted") == 1
        assert uow.stock.positions([("A", "S1")], backend.clock())[("A", "S1")].on_hand == 5
    with backend.factory() as uow:
        uow.ledger.append([receipt("r2", 2)])
        uow.rollback()
        uow.commit()  # after a rollback there is nothing to commit
    assert position(backend, "A", "S1").on_hand == 0


def test_a_savepoint_undoes_only_its_own_writes(backend: Backend) -> None:
    with backend.factory() as uow:
        uow.ledger.append([receipt("r1", 5)])
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.ledger.append([receipt("r2", 2)])
            raise RuntimeError("undo r2")
        with uow.savepoint():
            uow.ledger.append([receipt("r3", 1)])
        assert uow.stock.positions([("A", "S1")], backend.clock())[("A", "S1")].on_hand == 6
        uow.commit()
    assert position(backend, "A", "S1").on_hand == 6
    assert ingest(backend.factory, [receipt("r2", 2)]).outcomes[0].status == "accepted"


# -- inbound messages ------------------------------------------------------------------------


def test_a_message_naming_an_unknown_location_becomes_a_dead_letter_whole(
    backend: Backend,
) -> None:
    backend.add_locations("S1")
    bad = Translated(message(1), [receipt("m1a", 2), receipt("m1b", 3, "S9")])
    good = Translated(message(2), [receipt("m2a", 4)])
    report = receive(backend.factory, [bad, good])
    assert (report.messages, report.accepted, report.duplicate) == (2, 1, 0)
    assert [d.message.offset for d in report.dead] == [1]
    assert report.dead[0].reason == "location: unknown location 'S9'"
    assert position(backend, "A", "S1").on_hand == 4  # nothing of the bad message
    [letter] = backend.dead_letters()
    assert (letter.source, letter.offset, letter.status) == ("orders", 1, "open")
    assert letter.reason == "location: unknown location 'S9'"


def test_a_message_that_cannot_be_translated_becomes_a_dead_letter(backend: Backend) -> None:
    report = receive(backend.factory, [Translated(message(7), error="sku: unknown product")])
    assert report.accepted == 0
    assert [(x.offset, x.reason) for x in backend.dead_letters()] == [(7, "sku: unknown product")]


def test_a_conflicting_event_dead_letters_its_message(backend: Backend) -> None:
    ingest(backend.factory, [receipt("r1", 5)])
    item = Translated(message(3), [receipt("r1", 6), receipt("r2", 1)])
    report = receive(backend.factory, [item])
    assert (report.accepted, len(report.dead)) == (1, 1)
    expected = "event_id conflict: r1: event_id already recorded with different content"
    assert [x.reason for x in backend.dead_letters()] == [expected]
    assert position(backend, "A", "S1").on_hand == 6


def test_the_same_message_dead_lettered_twice_is_kept_once(backend: Backend) -> None:
    item = Translated(message(4), error="unreadable")
    receive(backend.factory, [item])
    receive(backend.factory, [item, item])
    assert [x.offset for x in backend.dead_letters()] == [4]


def test_offsets_are_saved_with_the_batch(backend: Backend) -> None:
    item = Translated(message(5), [receipt("m5", 2)])
    receive(backend.factory, [item], "group-a", {("orders", 0): 6})
    assert backend.offsets("group-a") == {("orders", 0): 6}
    receive(backend.factory, [], "group-a", {("orders", 0): 9, ("orders", 1): 2})
    assert backend.offsets("group-a") == {("orders", 0): 9, ("orders", 1): 2}
    assert backend.offsets("group-b") == {}


def test_a_batch_that_does_not_commit_saves_no_offsets(backend: Backend) -> None:
    crashing = _crash_on_commit(backend.factory)
    batch = [Translated(message(1), [receipt("m1", 2)]), Translated(message(2), error="bad")]
    with pytest.raises(_Crash):
        receive(crashing, batch, "group-a", {("orders", 0): 3})
    assert backend.offsets("group-a") == {}
    assert backend.dead_letters() == []
    assert position(backend, "A", "S1").on_hand == 0


def test_a_dead_letter_is_redriven_once_its_location_is_known(backend: Backend) -> None:
    backend.add_locations("S1")
    events = [receipt("m1", 2, "S9")]
    receive(backend.factory, [Translated(message(1), events)])
    [letter] = backend.dead_letters()

    problem = redrive(backend.factory, letter.id, events)
    assert problem == "not applied: m1: unknown location"
    assert [x.status for x in backend.dead_letters()] == ["open"]
    assert position(backend, "A", "S9").on_hand == 0

    backend.add_locations("S9")
    assert redrive(backend.factory, letter.id, events) is None
    assert [x.status for x in backend.dead_letters()] == ["applied"]
    assert position(backend, "A", "S9").on_hand == 2


def test_a_redrive_with_a_refused_event_applies_none_of_them(backend: Backend) -> None:
    ingest(backend.factory, [receipt("r1", 5)])
    receive(backend.factory, [Translated(message(1), error="later")])
    [letter] = backend.dead_letters()
    problem = redrive(backend.factory, letter.id, [receipt("r2", 1), receipt("r1", 6)])
    assert problem == "not applied: r1: event_id already recorded with different content"
    assert position(backend, "A", "S1").on_hand == 5
    assert [x.status for x in backend.dead_letters()] == ["open"]


# -- any order, any batching -----------------------------------------------------------------

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EVERY_KEY = [(sku, location) for sku in SKUS for location in LOCATIONS]


@PROPERTY
@given(
    data=st.data(),
    events=ledgers(max_size=20),
    now=st.integers(0, 30).map(lambda m: BASE + m * MINUTE),
)
def test_any_order_and_batching_through_ingest_gives_the_projection_of_the_set(
    backend: Backend, data: st.DataObject, events: list[StockEvent], now: int
) -> None:
    backend.reset()
    backend.clock.now = now
    for batch in data.draw(batches(events)):
        assert ingest(backend.factory, batch).accepted == len(batch)
    resent = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    assert ingest(backend.factory, resent).duplicate == len(resent)
    expected = project(events, now=now)
    found = positions(backend, EVERY_KEY)
    zero = Position("", "", 0, 0, 0)
    assert {k: found[k].visible() for k in EVERY_KEY} == {
        k: expected.get(k, zero).visible() for k in EVERY_KEY
    }


# -- a store that fails at the last moment ---------------------------------------------------


class _Crash(Exception):
    pass


class _CrashingUnit:
    """A unit of work that fails instead of committing (a crash before the commit)."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def __enter__(self) -> UnitOfWork:
        self.unit.__enter__()
        return self  # type: ignore[return-value]

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.unit.__exit__(kind, error, trace)

    def commit(self) -> None:
        raise _Crash("crashed before commit")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.unit, name)


def _crash_on_commit(factory: UnitOfWorkFactory) -> Callable[[], _CrashingUnit]:
    return lambda: _CrashingUnit(factory())
