"""Seed the demo: locations, safety stock and a month of history from all four channels.

The history is generated in event-time order with a running stock per position, so sales never
take more than a shelf holds (except the odd shrink that a cycle count then corrects), and the
result reads like a real retailer's month: warehouse receipts, transfers to stores, till sales
and returns, web and marketplace orders reserved then fulfilled or cancelled, cycle counts.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from adapters.db import product_codes, registry
from adapters.db.database import Database
from adapters.demo.network import DemoNetwork, Location, build_network
from adapters.demo.showcase import Showcase, add_showcase
from inventory.events import EventType, StockEvent

HOUR = 3_600_000_000
DAY = 24 * HOUR


@dataclass
class SeedReport:
    network: DemoNetwork
    events: int
    seeded: bool
    showcase: Showcase | None = None


def seed(
    db: Database,
    days: int = 30,
    stores: int = 60,
    skus: int | None = None,
    rng_seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Load the demo network; generate history only into an empty ledger (so a rerun is a no-op)."""
    rng = random.Random(rng_seed)
    network = build_network(stores, rng)
    if skus is not None:
        network.products = network.products[:skus]
    save_locations(db, network.locations)
    save_product_codes(db, network)
    for warehouse in network.warehouses:
        db.set_safety_stock(warehouse.id, 2)
    existing = db.reader.count_events()
    if existing:
        return SeedReport(network, existing, seeded=False)
    end = db.reader.clock()
    start = end - days * DAY
    total = 0
    batch: list[StockEvent] = []
    for event in generate(network, start, end, rng):
        batch.append(event)
        if len(batch) >= 5000:
            total += db.ledger.append(batch).count("accepted")
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        total += db.ledger.append(batch).count("accepted")
        if progress:
            progress(len(batch))
    showcase = add_showcase(
        db, {location.id for location in network.locations}, {p.sku for p in network.products}
    )
    return SeedReport(network, total + showcase.events, seeded=True, showcase=showcase)


def save_locations(db: Database, locations: list[Location]) -> None:
    registry.save(db.engines, [location.row() for location in locations])


def save_product_codes(db: Database, network: DemoNetwork) -> None:
    """The catalogue's SKUs and barcodes into the intake's alias table (scanner lookups)."""
    codes = [("sku", p.sku, p.sku) for p in network.products]
    codes += [("gtin", p.gtin.zfill(14), p.sku) for p in network.products]
    product_codes.save(db.engines, codes)


def generate(
    network: DemoNetwork, start: int, end: int, rng: random.Random
) -> Iterator[StockEvent]:
    """Events in event-time order, ids unique and stable for a given seed and window."""
    return _Month(network, start, end, rng).events()


class _Month:
    def __init__(self, network: DemoNetwork, start: int, end: int, rng: random.Random) -> None:
        self.network, self.start, self.end, self.rng = network, start, end, rng
        self.stock: dict[tuple[str, str], int] = defaultdict(int)
        self.serial = 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:07d}"

    def _event(
        self,
        kind: EventType,
        sku: str,
        location: str,
        quantity: int,
        at: int,
        channel: str,
        **extra: object,
    ) -> StockEvent:
        delta = {
            EventType.RECEIPT: 1,
            EventType.RETURN: 1,
            EventType.SALE: -1,
            EventType.TRANSFER_OUT: -1,
            EventType.TRANSFER_IN: 1,
            EventType.FULFILMENT: -1,
            EventType.ADJUSTMENT: 1,
        }.get(kind, 0)
        if kind is EventType.COUNT:
            self.stock[(sku, location)] = quantity
        else:
            self.stock[(sku, location)] += delta * quantity
        return StockEvent(
            self._id(channel[:3]),
            kind,
            sku,
            location,
            quantity,
            at,
            channel=channel,
            **extra,  # type: ignore[arg-type]
        )

    def events(self) -> Iterator[StockEvent]:
        rng, net = self.rng, self.network
        skus = [p.sku for p in net.products]
        warehouses = [w.id for w in net.warehouses]
        # day 0: every warehouse receives the range
        for warehouse in warehouses:
            for sku in skus:
                at = self.start + rng.randrange(8 * HOUR)
                yield self._event(
                    EventType.RECEIPT,
                    sku,
                    warehouse,
                    rng.randint(40, 160),
                    at,
                    "wms",
                    reference=f"PO-{warehouse[3:]}-{rng.randint(1000, 9999)}",
                )
        # day 1: each store is stocked with part of the range
        ranges = {
            store.id: rng.sample(skus, k=min(len(skus), max(1, len(skus) // 4)))
            for store in net.stores
        }
        for store in net.stores:
            for sku in ranges[store.id]:
                yield from self._transfer(
                    sku,
                    rng.choice(warehouses),
                    store.id,
                    self.start + DAY + rng.randrange(6 * HOUR),
                )
        day = self.start + 2 * DAY
        while day + DAY <= self.end:
            yield from sorted(self._day(day, ranges, warehouses, skus), key=lambda e: e.order_key())
            day += DAY

    def _transfer(self, sku: str, source: str, destination: str, at: int) -> Iterator[StockEvent]:
        quantity = max(1, min(self.stock[(sku, source)], self.rng.randint(3, 12)))
        reference = f"TR-{self.serial + 1:07d}"
        yield self._event(
            EventType.TRANSFER_OUT,
            sku,
            source,
            quantity,
            at,
            "wms",
            destination=destination,
            reference=reference,
        )
        arrival = at + self.rng.randint(8, 30) * HOUR
        if arrival < self.end:  # later ones are still on the road
            yield self._event(
                EventType.TRANSFER_IN,
                sku,
                destination,
                quantity,
                arrival,
                "wms",
                reference=reference,
            )

    def _day(
        self, day: int, ranges: dict[str, list[str]], warehouses: list[str], skus: list[str]
    ) -> Iterator[StockEvent]:
        rng = self.rng
        for warehouse in warehouses:  # purchase orders arrive for what runs low
            for sku in rng.sample(skus, k=min(60, len(skus))):
                if self.stock[(sku, warehouse)] < 25:
                    yield self._event(
                        EventType.RECEIPT,
                        sku,
                        warehouse,
                        rng.randint(60, 160),
                        day + 6 * HOUR + rng.randrange(4 * HOUR),
                        "wms",
                        reference=f"PO-{warehouse[3:]}-{self.serial}",
                    )
        for store in self.network.stores:
            for _ in range(rng.randint(40, 70)):  # till sales
                sku = rng.choice(ranges[store.id])
                at = day + 9 * HOUR + rng.randrange(11 * HOUR)
                if self.stock[(sku, store.id)] > 0:
                    yield self._event(
                        EventType.SALE,
                        sku,
                        store.id,
                        1,
                        at,
                        "store",
                        reference=f"POS-{store.id}-{self.serial}",
                    )
                    if rng.random() < 0.06:
                        yield self._event(
                            EventType.RETURN,
                            sku,
                            store.id,
                            1,
                            at + rng.randint(1, 5) * HOUR,
                            "store",
                            reason="customer return",
                        )
            empty = [
                sku
                for sku in rng.sample(ranges[store.id], k=min(40, len(ranges[store.id])))
                if self.stock[(sku, store.id)] <= 1
            ]
            for sku in empty[:4]:  # the morning replenishment of shelves running empty
                source = max(warehouses, key=lambda w, s=sku: self.stock[(s, w)])  # type: ignore[misc]
                if self.stock[(sku, source)] > 5:
                    yield from self._transfer(sku, source, store.id, day + rng.randrange(8 * HOUR))
            if rng.random() < 0.15:  # cycle count finds a little shrink
                sku = rng.choice(ranges[store.id])
                counted = max(0, self.stock[(sku, store.id)] - rng.choice([0, 0, 1]))
                yield self._event(
                    EventType.COUNT,
                    sku,
                    store.id,
                    counted,
                    day + 8 * HOUR,
                    "store",
                    reason="cycle count",
                )
        for channel, orders in (("web", 260), ("marketplace", 120)):
            for _ in range(orders):
                yield from self._order(channel, day + rng.randrange(DAY), warehouses, skus)

    def _order(
        self, channel: str, at: int, warehouses: list[str], skus: list[str]
    ) -> Iterator[StockEvent]:
        rng = self.rng
        location = rng.choice(warehouses)
        if channel == "web" and rng.random() < 0.3:  # click & collect from a store
            location = rng.choice(self.network.stores).id
        sku = rng.choice(skus)
        if self.stock[(sku, location)] <= 2:
            return
        order = f"{'WEB' if channel == 'web' else 'MKT'}-{self.serial + 1:07d}"
        expires = at + 2 * DAY
        yield self._event(
            EventType.RESERVATION,
            sku,
            location,
            1,
            at,
            channel,
            reservation_id=order,
            reference=order,
            expires_at=expires,
        )
        if at + DAY > self.end:
            return  # still open at the end of the month
        if rng.random() < 0.9:
            yield self._event(
                EventType.FULFILMENT,
                sku,
                location,
                1,
                at + rng.randint(2, 20) * HOUR,
                channel,
                reservation_id=order,
                reference=order,
            )
        else:
            yield self._event(
                EventType.RESERVATION_RELEASE,
                sku,
                location,
                1,
                at + rng.randint(1, 6) * HOUR,
                channel,
                reservation_id=order,
                reference=order,
                reason="cancelled",
            )
