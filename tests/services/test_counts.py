"""A physical count on every store: on hand before and after, resubmissions and conflicts."""

from __future__ import annotations

from inventory.events import EventType, StockEvent
from inventory.services.counts import record_count
from inventory.services.ingest import ingest
from tests.services.conftest import Backend, position

MINUTE = 60_000_000


def receive_units(backend: Backend, event_id: str, quantity: int, minutes_ago: int) -> None:
    occurred = backend.clock() - minutes_ago * MINUTE
    event = StockEvent(event_id, EventType.RECEIPT, "A", "S1", quantity, occurred)
    assert ingest(backend.factory, [event]).accepted == 1


def test_a_count_sets_on_hand_and_reports_before_and_after(backend: Backend) -> None:
    receive_units(backend, "r1", 7, 10)
    result = record_count(backend.factory, "c1", "A", "S1", 4, channel="staff", reason="shelf")
    assert (result.status, result.before, result.after) == ("accepted", 7, 4)
    assert result.outcome.position is not None
    assert result.errors == []
    assert position(backend, "A", "S1").on_hand == 4


def test_a_count_is_the_anchor_for_later_movements_only(backend: Backend) -> None:
    receive_units(backend, "r1", 7, 10)
    record_count(backend.factory, "c1", "A", "S1", 4)
    receive_units(backend, "r2", 3, 5)  # before the count: already inside it
    assert position(backend, "A", "S1").on_hand == 4
    backend.clock.advance(60)
    receive_units(backend, "r3", 2, 0)
    assert position(backend, "A", "S1").on_hand == 6


def test_a_resubmitted_count_is_a_duplicate(backend: Backend) -> None:
    receive_units(backend, "r1", 7, 10)
    record_count(backend.factory, "c1", "A", "S1", 4)
    again = record_count(backend.factory, "c1", "A", "S1", 4)
    assert (again.status, again.before, again.after) == ("duplicate", 4, 4)


def test_the_same_count_id_with_another_number_is_a_conflict(backend: Backend) -> None:
    receive_units(backend, "r1", 7, 10)
    record_count(backend.factory, "c1", "A", "S1", 4)
    other = record_count(backend.factory, "c1", "A", "S1", 9)
    assert (other.status, other.before, other.after) == ("conflict", 4, 4)
    assert other.outcome.reason == "event_id already recorded with different content"
    assert position(backend, "A", "S1").on_hand == 4


def test_a_count_at_an_unknown_location_is_rejected(backend: Backend) -> None:
    backend.add_locations("S1")
    result = record_count(backend.factory, "c1", "A", "S9", 4)
    assert (result.status, result.before, result.after) == ("rejected", 0, 0)
    assert [e.field for e in result.errors] == ["location"]
    assert position(backend, "A", "S9").on_hand == 0


def test_a_count_form_resent_a_moment_later_is_a_duplicate(backend: Backend) -> None:
    receive_units(backend, "r1", 7, 10)
    record_count(backend.factory, "c1", "A", "S1", 4)
    backend.clock.advance(2)
    again = record_count(backend.factory, "c1", "A", "S1", 4)
    assert again.status == "duplicate"
