"""Benchmark: ingest rate of the ledger beside a raw batched insert, and replay speed.

    .venv/bin/python scripts/bench_ingest.py [--events 200000] [--backends sqlite,postgresql]
                                             [--rebuild-events 1000000] [--rounds 3]
                                             [--smoke] [--json PATH]

Figures per database, each round into fresh databases, in alternation with the baselines:
- `ingest/<db>/ingest` (headline): demo events as JSON Lines parsed, validated and appended
  (`adapters.intake.ingest_lines`: ledger row and projection update in one transaction per
  batch of 2,000), events/s, beside a SQLAlchemy Core batched insert of the same rows into a
  bare, index-free table of the ledger's columns, rows/s;
- `ingest/<db>/vs-indexed`: the same ingest beside the insert into a table that also has the
  ledger's unique event_id and (sku, location, occurred_at) index;
- `ingest/sqlite/append`: the ledger append of already parsed events alone, beside the bare
  insert;
- `ingest/sqlite/rebuild`: `inventory replay` of a ledger of --rebuild-events demo events
  (bulk-loaded), events/s (the CLI's entry point in this process); one round, no baseline.
PostgreSQL: the server of INVENTORY_BENCH_PG_URL (or INVENTORY_TEST_PG_URL); skipped with a
note when unreachable, unless INVENTORY_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Column, Index, MetaData, Table, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as b

from adapters.db.database import Database
from adapters.demo.network import build_network
from adapters.demo.seed import DAY, generate
from adapters.intake import ingest_lines
from inventory.events import StockEvent

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


def ledger_columns(url: str) -> list[Column[Any]]:
    """The columns of the ledger table of a migrated database (reflected: only the schema)."""
    Database(url).close()
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine, only=["events"])
    engine.dispose()
    return [
        Column(c.name, c.type, primary_key=c.primary_key, autoincrement=c.primary_key)
        for c in metadata.tables["events"].columns
    ]


def bare_table(columns: list[Column[Any]], indexed: bool = False) -> Table:
    """The ledger's columns; with `indexed`, also its unique event_id and key-time index."""
    copies: list[Any] = [
        Column(c.name, c.type, primary_key=c.primary_key, autoincrement=c.primary_key)
        for c in columns
    ]
    if indexed:
        copies.append(Index("ix_bench_event_id", "event_id", unique=True))
        copies.append(Index("ix_bench_key_time", "sku", "location", "occurred_at"))
    return Table("bench_indexed" if indexed else "bench_bare", MetaData(), *copies)


def raw_insert_rate(url: str, table: Table, events: list[StockEvent]) -> float:
    """Rows/s of a SQLAlchemy Core batched insert of the same rows into `table`."""
    engine = create_engine(url)
    names = [c.name for c in table.columns if not c.primary_key]
    rows = list(b.event_rows(events, names, 0))
    table.metadata.create_all(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("PRAGMA journal_mode=WAL"))
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        with engine.begin() as connection:
            connection.execute(table.insert(), rows[start : start + BATCH])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(rows) / elapsed


def append_rate(url: str, events: list[StockEvent]) -> float:
    """Events/s of the ledger append alone (already parsed and validated)."""
    db = Database(url)
    started = time.perf_counter()
    for start in range(0, len(events), BATCH):
        db.ledger.append(events[start : start + BATCH])
    elapsed = time.perf_counter() - started
    db.close()
    return len(events) / elapsed


def ingest_rate(url: str, lines: list[bytes]) -> float:
    db = Database(url)
    started = time.perf_counter()
    report = ingest_lines(db, lines, batch=BATCH)
    elapsed = time.perf_counter() - started
    db.close()
    assert report.accepted == len(lines), report.summary()
    return len(lines) / elapsed


def in_fresh_database(backend: str, measure: Any, *args: Any) -> float:
    """`measure(url, *args)` in a new database, its set-up and removal not timed."""
    with b.scratch_database(backend, "ingest") as url:
        return float(measure(url, *args))


def rebuild_rate(events: list[StockEvent]) -> tuple[float, float]:
    """(events/s, seconds) of `inventory replay` over a bulk-loaded SQLite ledger."""
    with b.scratch_database("sqlite", "rebuild") as url:
        Database(url).close()
        b.bulk_load_ledger(url, events, recorded_at=events[-1].occurred_at)
        output, seconds = b.timed(lambda: b.command("replay", "--db", url))
    found = re.search(r"from (\d+) events", output)
    assert found and int(found.group(1)) == len(events), output
    return len(events) / seconds, seconds


def run(backend: str, sample: list[StockEvent], rounds: int, report: b.Report) -> None:
    with b.scratch_database(backend, "ingest") as url:
        columns = ledger_columns(url)
    lines = [orjson.dumps(e.content()) for e in sample]
    steps = [
        lambda: in_fresh_database(backend, raw_insert_rate, bare_table(columns), sample),
        lambda: in_fresh_database(backend, ingest_rate, lines),
        lambda: in_fresh_database(backend, raw_insert_rate, bare_table(columns, True), sample),
    ]
    if backend == "sqlite":
        steps.append(lambda: in_fresh_database(backend, append_rate, sample))
    print(f"{backend}: {len(sample):,} events, {rounds} round(s)", flush=True)
    samples = b.alternate(rounds, *steps)
    bare, ingest, indexed = samples[:3]
    report.add(
        b.Figure(
            f"ingest/{backend}/ingest",
            "events/s",
            ingest,
            baseline="Core insert, bare table",
            baseline_unit="rows/s",
            baseline_samples=bare,
        )
    )
    report.add(
        b.Figure(
            f"ingest/{backend}/vs-indexed",
            "events/s",
            ingest,
            baseline="Core insert, ledger's indexes",
            baseline_unit="rows/s",
            baseline_samples=indexed,
            headline=False,
        )
    )
    if backend == "sqlite":
        report.add(
            b.Figure(
                f"ingest/{backend}/append",
                "events/s",
                samples[3],
                baseline="Core insert, bare table",
                baseline_unit="rows/s",
                baseline_samples=bare,
                headline=False,
                note="ledger append of parsed events alone",
            )
        )


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--rebuild-events",
        type=int,
        default=1_000_000,
        help="ledger size for the rebuild timing on SQLite (0 to skip)",
    )
    args = b.parse(parser, {"events": 3000, "rebuild_events": 5000})
    report = b.Report("ingest", args)
    backends = b.usable_backends(args.backends, report)
    print(f"generating {max(args.events, args.rebuild_events):,} demo events ...", flush=True)
    events = demo_events(max(args.events, args.rebuild_events))
    for backend in backends:
        run(backend, events[: args.events], args.rounds, report)
    expected = [f"ingest/{x}/ingest" for x in backends]
    if "sqlite" in backends and args.rebuild_events:
        rate, seconds = rebuild_rate(events[: args.rebuild_events])
        report.add(
            b.Figure(
                "ingest/sqlite/rebuild",
                "events/s",
                [rate],
                note=f"inventory replay of {args.rebuild_events:,} events: {seconds:.1f} s",
            )
        )
        expected.append("ingest/sqlite/rebuild")
    return report.finish(expected)


if __name__ == "__main__":
    sys.exit(main())
