"""Benchmark: ingest rate of the ledger beside a raw batched insert, and replay speed.

    .venv/bin/python scripts/bench_ingest.py [--events 200000] [--backends sqlite,postgresql]
                                             [--rebuild-events 1000000]

For each database it measures, in the same run:
- `ingest`: JSON Lines parsed, validated and appended (ledger row + projection update in one
  transaction per batch), events/s;
- the baseline: the same rows inserted with a SQLAlchemy Core batched insert into a bare table
  of the same columns, rows/s;
and prints their ratio.  Then it rebuilds the projection from a ledger of `--rebuild-events`
events and prints the time.  The machine is shared and noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    text,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.db.database import Database
from adapters.db.ledger import EVENT_COLUMNS, event_tuple
from adapters.db.replay import rebuild
from adapters.demo.network import build_network
from adapters.demo.seed import DAY, generate
from adapters.intake import ingest_lines
from inventory.events import StockEvent

PG_ADMIN = os.environ.get(
    "INVENTORY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres"
)
BATCH = 2000


def demo_events(count: int, seed: int = 7) -> list[StockEvent]:
    """A realistic mix (receipts, transfers, till sales, web and marketplace orders, counts)."""
    network = build_network(60, random.Random(seed))
    end = 1_790_000_000_000_000
    days = max(3, int(count / 3400) + 3)
    events: list[StockEvent] = []
    for event in generate(network, end - days * DAY, end, random.Random(seed)):
        events.append(event)
        if len(events) == count:
            break
    return events


def bare_table(indexed: bool = False) -> Table:
    """The ledger's columns; with `indexed`, also its unique event_id and key-time index."""
    names = {"quantity", "occurred_at", "on_hand_delta", "expires_at", "recorded_at"}
    position = BigInteger().with_variant(Integer(), "sqlite")
    columns: list[Any] = [Column("position", position, primary_key=True, autoincrement=True)]
    for name in EVENT_COLUMNS:
        kind = BigInteger if name in names else String(200)
        columns.append(Column(name, kind, unique=indexed and name == "event_id"))
    if indexed:
        columns.append(Index("ix_bench_key_time", "sku", "location", "occurred_at"))
    return Table("bench_indexed" if indexed else "bench_bare", MetaData(), *columns)


def raw_insert_rate(url: str, events: list[StockEvent], indexed: bool = False) -> float:
    """Rows/s of a SQLAlchemy Core batched insert of the same rows into a bare table."""
    engine = create_engine(url)
    table = bare_table(indexed)
    table.metadata.drop_all(engine)
    table.metadata.create_all(engine)
    rows = [dict(zip(EVENT_COLUMNS, event_tuple(e, 0), strict=True)) for e in events]
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("PRAGMA journal_mode=WAL"))
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with engine.begin() as connection:
            connection.execute(table.insert(), rows[start : start + BATCH])
    elapsed = time.perf_counter() - started
    table.metadata.drop_all(engine)
    engine.dispose()
    return len(rows) / elapsed


def append_rate(db: Database, events: list[StockEvent]) -> float:
    """Events/s of the ledger append alone (already parsed and validated)."""
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        db.ledger.append(events[start : start + BATCH])
    return len(events) / (time.perf_counter() - started)


def ingest_rate(db: Database, events: list[StockEvent]) -> float:
    lines = [orjson.dumps(e.content()) for e in events]
    started = time.perf_counter()
    report = ingest_lines(db, lines, batch=BATCH)
    elapsed = time.perf_counter() - started
    assert report.accepted == len(events), report.summary()
    return len(events) / elapsed


def databases(backends: list[str]) -> Iterator[tuple[str, str]]:
    for backend in backends:
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="bench-ingest-")
            yield backend, f"sqlite:///{folder}/inventory.db"
        else:
            name = f"bench_ingest_{os.getpid()}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield backend, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--rebuild-events",
        type=int,
        default=1_000_000,
        help="ledger size for the rebuild timing on SQLite (0 to skip)",
    )
    args = parser.parse_args()
    print(f"generating {max(args.events, args.rebuild_events):,} demo events ...", flush=True)
    events = demo_events(max(args.events, args.rebuild_events))
    sample = events[: args.events]
    for backend, url in databases(args.backends.split(",")):
        db = Database(url)
        ingest = ingest_rate(db, sample)
        bare = raw_insert_rate(url, sample)
        print(
            f"{backend:<11} ingest {ingest:>9,.0f} events/s   bare Core insert "
            f"{bare:>9,.0f} rows/s   ratio {ingest / bare:.2f}  ({len(sample):,} events)",
            flush=True,
        )
        indexed = raw_insert_rate(url, sample, indexed=True)
        print(
            f"{'':<11} insert into a table with the ledger's indexes {indexed:,.0f} rows/s "
            f"(ratio {ingest / indexed:.2f})",
            flush=True,
        )
        if backend == "sqlite":
            scratch = Database(url.replace("inventory.db", "append-only.db"))
            appended = append_rate(scratch, sample)
            scratch.close()
            print(
                f"{'':<11} ledger append of parsed events alone {appended:,.0f} events/s "
                f"(ratio {appended / bare:.2f})",
                flush=True,
            )
        if backend == "sqlite" and args.rebuild_events:
            rest = events[args.events : args.rebuild_events]
            ingest_lines(db, [orjson.dumps(e.content()) for e in rest], batch=5000)
            started = time.perf_counter()
            replayed = rebuild(db.engines)
            elapsed = time.perf_counter() - started
            print(
                f"{backend:<11} rebuild of {replayed.events:,} events into "
                f"{len(replayed.book.stock):,} positions: {elapsed:.1f} s "
                f"({replayed.events / elapsed:,.0f} events/s)",
                flush=True,
            )
        db.close()


if __name__ == "__main__":
    main()
