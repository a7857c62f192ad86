"""`inventory demo`: seed a realistic network into the embedded database (and serve it)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from tqdm import tqdm

from adapters.cli import add_db_option
from adapters.db.database import Database
from adapters.demo import seed
from adapters.demo.showcase import STAFF_STORE, write_counts

# features that can serve the demo register a callable here: serve(db, args) -> int
SERVERS: list[Any] = []


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="seed the demo network (and serve it)")
    add_db_option(demo)
    demo.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    demo.add_argument("--stores", type=int, default=60, help="stores in the network")
    demo.add_argument("--seed-only", action="store_true", help="seed, then exit")
    demo.add_argument("--host", default="127.0.0.1", help="address to serve on")
    demo.add_argument("--port", type=int, default=8080, help="port to serve on")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    db = Database(args.db or "sqlite:///inventory.db")
    started = time.perf_counter()
    with tqdm(unit="ev", desc="seeding", disable=None) as bar:
        report = seed(db, days=args.days, stores=args.stores, progress=bar.update)
    network = report.network
    verb = "seeded" if report.seeded else "found"
    print(
        f"{verb} {report.events} events, {len(network.stores)} stores, "
        f"{len(network.warehouses)} warehouses, {len(network.products)} SKUs "
        f"in {time.perf_counter() - started:.1f}s ({db.url})"
    )
    if report.showcase is not None:
        shown = report.showcase
        print(
            f"added for the guides: pickups waiting {', '.join(shown.pickups) or 'none'}, "
            f"reservations {', '.join(shown.reservations) or 'none'}, "
            f"{shown.dead_letters} dead letters"
        )
    stores = {store.id for store in network.stores}
    store = STAFF_STORE if STAFF_STORE in stores else network.stores[0].id
    counts = write_counts(db, store)
    if counts is not None:
        print(f"a night's count of {store} with drift: {counts} (inventory reconcile {counts})")
    sample = network.products[0].sku
    print(f"try: inventory stock {sample} --db {db.url}")
    if args.seed_only or not SERVERS:
        return 0
    return int(SERVERS[0](db, args))
