"""The in-memory unit of work answers as the SQL one does: the same outcomes, changed positions
and applied events for every append (duplicates and conflicts mixed in, in any order and
batching), and then the same positions, reservations, settled units and expired lines."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.db.database import Database
from adapters.memory import MemoryStore
from inventory.events import StockEvent
from inventory.ledger import AppendResult
from inventory.ports import UnitOfWorkFactory
from tests.conftest import Clock, truncate_all
from tests.strategies import BASE, LOCATIONS, MINUTE, SKUS, batches, ledgers

KEYS = [(sku, location) for sku in SKUS for location in LOCATIONS]
RESERVATIONS = ["R1", "R2", "R3"]


def answers(result: AppendResult) -> tuple[object, ...]:
    outcomes = [(o.event_id, o.status, o.position, o.reason) for o in result.outcomes]
    return (outcomes, result.changed, result.applied)


def observed(factory: UnitOfWorkFactory, now: int) -> tuple[object, ...]:
    with factory() as uow:
        return (
            uow.stock.positions(KEYS, now),
            [uow.stock.reservation(r) for r in RESERVATIONS],
            [uow.stock.settled_units(r) for r in RESERVATIONS],
            uow.stock.expired_lines(now, 100),
            uow.stock.expired_lines(now, 2),
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.data(),
    events=ledgers(max_size=20),
    now=st.integers(0, 30).map(lambda m: BASE + m * MINUTE),
)
def test_memory_and_sql_give_the_same_answers(
    database: Database, clock: Clock, data: st.DataObject, events: list[StockEvent], now: int
) -> None:
    truncate_all(database)
    clock.now = now
    store = MemoryStore(clock)
    resent = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    altered = data.draw(st.lists(st.sampled_from(events), max_size=3)) if events else []
    changed = [dataclasses.replace(e, quantity=e.quantity + 1) for e in altered]
    for batch in data.draw(batches(events + resent + changed)):
        results = []
        for factory in (database.unit_of_work, store.unit_of_work):
            with factory() as uow:
                results.append(answers(uow.ledger.append(batch)))
                uow.commit()
        assert results[0] == results[1]
        for instant in (now, now + 10 * MINUTE, now + 40 * MINUTE):
            assert observed(database.unit_of_work, instant) == observed(store.unit_of_work, instant)
