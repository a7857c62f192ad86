"""Benchmark: reconcile a large snapshot against a ledger with the same keys.

Builds a ledger (one receipt per key, a sale before the night for every fifth key and one after
it for every seventh) on SQLite and PostgreSQL, exports it as a snapshot, changes 1% of the rows
and reconciles, then applies the corrections.  Beside it, in the same run, the same CSV is only
read and parsed, which is the floor any reconciliation has to pay; the ratio is printed.

The ledger rows are bulk-inserted (the recorder's own speed is the ledger benchmark's business);
reconciliation reads only the ledger, and the corrections go through the recorder as usual.

    .venv/bin/python scripts/bench_reconcile.py [--rows 1000000] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from adapters.db import tables as t
from adapters.db.database import Database
from adapters.db.ledger import event_row
from adapters.reconcile.export import export_snapshot
from adapters.reconcile.job import Options, reconcile
from adapters.reconcile.snapshot import read_snapshot
from inventory.events import EventType, StockEvent, format_instant

NIGHT = 1_777_669_200_000_000  # 2026-05-01T21:00:00Z
HOUR = 3_600_000_000
PG_ADMIN = os.environ.get(
    "INVENTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def ledger(rows: int, locations: int = 100) -> Iterator[StockEvent]:
    skus = rows // locations
    n = 0
    for loc in range(locations):
        for s in range(skus):
            sku, location = f"SKU-{s:07d}", f"LOC-{loc:03d}"
            n += 1
            yield StockEvent(f"r{n}", EventType.RECEIPT, sku, location, 20, NIGHT - 30 * HOUR)
            if n % 5 == 0:
                yield StockEvent(
                    f"s{n}", EventType.SALE, sku, location, 2, NIGHT - 3 * HOUR, channel="web"
                )
            if n % 7 == 0:
                yield StockEvent(
                    f"a{n}", EventType.SALE, sku, location, 1, NIGHT + HOUR, channel="store"
                )


def load(db: Database, rows: int) -> int:
    """Bulk-insert ledger rows in one transaction (columns the ledger adds later get 0)."""
    extra = {
        c.name: 0
        for c in t.events.columns
        if not c.nullable and not c.primary_key and c.name not in event_row(_probe(), 0)
    }
    batch: list[dict[str, object]] = []
    total = 0
    with db.engines.write.begin() as connection:
        for event in ledger(rows):
            batch.append({**event_row(event, NIGHT), **extra})
            if len(batch) == 20_000:
                connection.execute(t.events.insert(), batch)
                total += len(batch)
                batch = []
        if batch:
            connection.execute(t.events.insert(), batch)
            total += len(batch)
    return total


def _probe() -> StockEvent:
    return StockEvent("probe", EventType.RECEIPT, "S", "L", 1, 0)


def change_one_percent(source: Path, target: Path) -> int:
    rng = random.Random(1)
    changed = 0
    with open(source, newline="") as inp, open(target, "w", newline="") as out:
        reader, writer = csv.reader(inp), csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            if rng.random() < 0.01:
                row[2] = str(int(row[2]) + rng.choice([-2, -1, 1, 3]))
                changed += 1
            writer.writerow(row)
    return changed


def spread_instants(source: Path, target: Path) -> None:
    """The same rows, each location counted at its own minute before the night (100 instants)."""
    with open(source, newline="") as inp, open(target, "w", newline="") as out:
        reader, writer = csv.reader(inp), csv.writer(out, lineterminator="\n")
        writer.writerow(next(reader))
        for row in reader:
            minutes = int(row[1].rsplit("-", 1)[1])
            row[3] = format_instant(NIGHT - minutes * 60_000_000)
            writer.writerow(row)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<34} {seconds:8.2f} s")
    return value, seconds


def parse_only(path: Path) -> int:
    return sum(1 for _ in read_snapshot(path))


def csv_only(path: Path) -> int:
    with open(path, newline="") as stream:
        return sum(1 for _ in csv.reader(stream))


def run(backend: str, url: str, rows: int, workdir: Path) -> None:
    print(f"{backend}: {rows:,} keys")
    db = Database(url)
    events, _ = timed("load ledger (bulk insert)", lambda: load(db, rows))
    print(f"  {'ledger events':<34} {events:>11,}")
    exported = workdir / f"{backend}-export.csv"
    with open(exported, "w", newline="") as out:
        timed("export snapshot", lambda: export_snapshot(db, out, NIGHT))
    night = workdir / f"{backend}-night.csv"
    changed = change_one_percent(exported, night)
    _, csv_seconds = timed("csv.reader alone", lambda: csv_only(night))
    _, parse_seconds = timed("read + parse + check alone", lambda: parse_only(night))
    result, seconds = timed("reconcile (compare, no writes)", lambda: reconcile(db, Options(night)))
    assert result.tally.overall.discrepancies == changed, (result.tally.overall, changed)
    spread = workdir / f"{backend}-spread.csv"
    spread_instants(night, spread)
    many, many_seconds = timed(
        "reconcile, 100 counted_at instants", lambda: reconcile(db, Options(spread))
    )
    assert many.tally.overall.discrepancies == changed and many.instants == 101
    applied, apply_seconds = timed(
        "reconcile --apply", lambda: reconcile(db, Options(night, apply=True))
    )
    assert applied.applied is not None and applied.applied.accepted == changed
    after, _ = timed("reconcile again (zero drift)", lambda: reconcile(db, Options(night)))
    assert after.tally.overall.drift == 0
    print(f"  {'rows changed / corrected':<34} {changed:>11,}")
    print(f"  reconcile / parse-alone ratio      {seconds / parse_seconds:8.2f}x")
    print(f"  reconcile / csv.reader ratio       {seconds / csv_seconds:8.2f}x")
    print(f"  100 instants / one instant ratio   {many_seconds / seconds:8.2f}x")
    print(f"  apply run / parse-alone ratio      {apply_seconds / parse_seconds:8.2f}x")
    target = "met" if seconds < 60 else "MISSED"
    print(f"  target < 60 s for reconcile: {target}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        workdir = Path(tmp)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                run(backend, f"sqlite:///{workdir / 'bench.db'}", args.rows, workdir)
            elif backend == "postgresql":
                name = f"bench_reconcile_{uuid.uuid4().hex[:8]}"
                admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as connection:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                try:
                    run(backend, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.rows, workdir)
                finally:
                    with admin.connect() as connection:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    admin.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
