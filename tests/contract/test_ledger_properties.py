"""Ledger invariants on each database: the stored projection equals the replay of the ledger
whatever order and batching the events arrived in; duplicates and conflicts change nothing."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.db.database import Database
from adapters.db.replay import rebuild, verify
from inventory.projection import Projection
from tests.conftest import truncate_all
from tests.strategies import BASE, MINUTE, batches, ledgers

DB_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def stored(db: Database) -> dict:
    return {
        (p.sku, p.location): p.visible() for p in db.reader.positions() if p.visible() != (0, 0, 0)
    }


def expected(events, now: int) -> dict:
    projection = Projection()
    projection.apply(events)
    return {
        key: position.visible()
        for key, position in projection.positions(now).items()
        if position.visible() != (0, 0, 0)
    }


@DB_SETTINGS
@given(
    data=st.data(),
    events=ledgers(max_size=25),
    now=st.integers(0, 30).map(lambda m: BASE + m * MINUTE),
)
def test_any_arrival_order_gives_the_replayed_projection(database, clock, data, events, now):
    truncate_all(database)
    clock.now = now
    for batch in data.draw(batches(events)):
        result = database.ledger.append(batch)
        assert result.count("accepted") == len(batch)
    assert stored(database) == expected(events, now)
    assert verify(database.engines) == []
    rebuild(database.engines)
    assert stored(database) == expected(events, now)


@DB_SETTINGS
@given(data=st.data(), events=ledgers(max_size=20))
def test_duplicates_and_conflicts_change_nothing(database, clock, data, events):
    truncate_all(database)
    clock.now = BASE + 30 * MINUTE
    database.ledger.append(events)
    before = stored(database)
    head = database.reader.head()
    again = data.draw(st.lists(st.sampled_from(events), max_size=8)) if events else []
    assert all(o.status == "duplicate" for o in database.ledger.append(again).outcomes)
    changed = [dataclasses.replace(e, quantity=e.quantity + 1) for e in again]
    assert all(o.status == "conflict" for o in database.ledger.append(changed).outcomes)
    assert stored(database) == before
    assert database.reader.head() == head


@DB_SETTINGS
@given(events=ledgers(max_size=20))
def test_as_of_the_last_event_equals_current_stock(database, clock, events):
    truncate_all(database)
    if not events:
        return
    last = max(e.occurred_at for e in events)
    clock.now = last
    database.ledger.append(events)
    current = {(p.sku, p.location): p.visible() for p in database.reader.positions()}
    for sku in {e.sku for e in events}:
        for p in database.reader.as_of(sku, last):
            assert current.get((p.sku, p.location), (0, 0, 0)) == p.visible()
