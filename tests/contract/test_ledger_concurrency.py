"""Concurrent writers: several threads append the same events (counts racing sales on the same
few positions) in their own orders; every event lands once and the projection equals replay."""

from __future__ import annotations

import random
import threading

from adapters.db.database import Database
from adapters.db.replay import verify
from inventory.events import EventType, StockEvent
from inventory.projection import Projection
from tests.strategies import BASE, MINUTE

KINDS = [
    EventType.RECEIPT,
    EventType.SALE,
    EventType.COUNT,
    EventType.ADJUSTMENT,
    EventType.RESERVATION,
    EventType.RESERVATION_RELEASE,
    EventType.FULFILMENT,
    EventType.TRANSFER_OUT,
    EventType.TRANSFER_IN,
]


def random_events(count: int, seed: int) -> list[StockEvent]:
    rng = random.Random(seed)
    events = []
    for index in range(count):
        kind = rng.choice(KINDS)
        location = rng.choice(["L1", "L2"])
        extra: dict[str, object] = {}
        quantity = rng.randint(1, 5)
        if kind is EventType.COUNT:
            quantity = rng.randint(0, 30)
        if kind in (EventType.RESERVATION, EventType.RESERVATION_RELEASE, EventType.FULFILMENT):
            extra["reservation_id"] = f"R{rng.randint(1, 20)}"
        if kind in (EventType.TRANSFER_OUT, EventType.TRANSFER_IN):
            extra["reference"] = f"T{rng.randint(1, 10)}"
        if kind is EventType.TRANSFER_OUT:
            extra["destination"] = "L2" if location == "L1" else "L1"
        events.append(
            StockEvent(
                f"c{index}",
                kind,
                rng.choice(["A", "B"]),
                location,
                quantity,
                BASE + rng.randint(0, 500) * MINUTE,
                **extra,
            )
        )  # type: ignore[arg-type]
    return events


def test_concurrent_writers_apply_each_event_once(backend_url, clock):
    events = random_events(1200, seed=11)
    clock.now = BASE + 1000 * MINUTE
    databases = [Database(backend_url, clock=clock) for _ in range(4)]
    errors: list[BaseException] = []
    accepted: list[int] = []

    def writer(db: Database, seed: int) -> None:
        order = events[:]
        random.Random(seed).shuffle(order)
        try:
            for start in range(0, len(order), 40):
                accepted.append(db.ledger.append(order[start : start + 40]).count("accepted"))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(db, n)) for n, db in enumerate(databases)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(accepted) == len(events)
    db = databases[0]
    assert db.reader.count_events() == len(events)
    projection = Projection()
    projection.apply(events)
    expected = {k: p.visible() for k, p in projection.positions(clock.now).items()}
    live = {(p.sku, p.location): p.visible() for p in db.reader.positions()}
    assert live == expected
    assert verify(db.engines) == []
    for other in databases:
        other.close()
