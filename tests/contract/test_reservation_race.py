"""A reservation id committed meanwhile at another location is never extended.

Two requests with one id but different locations lock different positions, so neither sees
the other before the append.  The race is forced here by hiding the first reservation from the
second request's existence check, exactly as an uncommitted concurrent transaction would be
hidden; the ledger's unique event ids must then turn the second request into a conflict.
"""

from __future__ import annotations

import adapters.db.uow as reservations
from inventory.events import EventType, StockEvent
from inventory.reservations import Line
from inventory.services.reservations import reserve


def test_same_id_at_another_location_conflicts_and_changes_nothing(database, clock, monkeypatch):
    database.ledger.append(
        [
            StockEvent("r-a", EventType.RECEIPT, "SKU", "A", 5, clock.now - 1),
            StockEvent("r-b", EventType.RECEIPT, "SKU", "B", 5, clock.now - 1),
        ]
    )
    assert reserve(database.unit_of_work, "R1", "A", [Line("SKU", 2)], None).status == "created"
    real = reservations.load_reservation
    calls = {"n": 0}

    def unseen_once(connection, reservation_id):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(connection, reservation_id)

    monkeypatch.setattr(reservations, "load_reservation", unseen_once)
    result = reserve(database.unit_of_work, "R1", "B", [Line("SKU", 1)], None)
    monkeypatch.setattr(reservations, "load_reservation", real)

    assert result.status == "conflict"
    assert result.reservation is not None and result.reservation.location == "A"
    assert database.reader.position("SKU", "B").reserved == 0
    assert database.reader.position("SKU", "A").reserved == 2
