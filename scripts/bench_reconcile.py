"""Benchmark: reconcile a large snapshot against a ledger with the same keys.

    .venv/bin/python scripts/bench_reconcile.py [--rows 1000000] [--backends sqlite,postgresql]
                                                [--rounds 3] [--smoke] [--json PATH]

Builds a ledger (one receipt per key, a sale before the night for every fifth key and one after
it for every seventh; bulk-inserted, as the recorder's own speed is the ingest benchmark's
business), exports it with `inventory snapshot`, changes 1% of the rows and runs
`inventory reconcile` on it, each command through the CLI's entry point in this process.
Figures per database:
- `reconcile/<db>/compare` (headline): reconcile without writes, seconds, beside reading the
  same CSV with csv.reader alone (the floor any reconciliation pays), in alternation over the
  rounds; target < 60 s at 1,000,000 rows;
- `reconcile/<db>/100-instants`: the same rows counted at 100 different instants, beside the
  single-instant run of the same round;
- `reconcile/<db>/apply`: `reconcile --apply` (the corrections go through the recorder), one
  round, beside csv.reader alone; then a last run checks that no drift is left;
- `reconcile/<db>/export`: `inventory snapshot` of the ledger, one round;
- `reconcile/peak-rss`: peak resident memory of the benchmark process.
"""

from __future__ import annotations

import csv
import random
import re
import resource
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchlib as b

from adapters.db.database import Database
from inventory.events import EventType, StockEvent, format_instant

NIGHT = 1_777_669_200_000_000  # 2026-05-01T21:00:00Z
HOUR = 3_600_000_000
NO_LIMIT = str(10**12)  # --max-drift: exit 0 whatever the drift


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


def csv_floor(path: Path) -> float:
    """Seconds to read the file with csv.reader alone."""

    def read() -> int:
        with open(path, newline="") as stream:
            return sum(1 for _ in csv.reader(stream))

    return b.timed(read)[1]


class Outcome:
    """What `inventory reconcile` printed: discrepancies, drift and corrections applied."""

    def __init__(self, output: str) -> None:
        found = re.search(r"(\d+) discrepancies, drift (\d+) units", output)
        assert found, output
        self.discrepancies, self.drift = int(found.group(1)), int(found.group(2))
        applied = re.search(r"applied: (\d+) count events appended", output)
        self.applied = int(applied.group(1)) if applied else None


def reconcile(url: str, path: Path, *extra: str) -> tuple[Outcome, float]:
    output, seconds = b.timed(
        lambda: b.command("reconcile", str(path), "--db", url, "--max-drift", NO_LIMIT, *extra)
    )
    return Outcome(output), seconds


def run(backend: str, url: str, rows: int, rounds: int, workdir: Path, report: b.Report) -> None:
    print(f"{backend}: {rows:,} keys, {rounds} round(s)", flush=True)
    Database(url).close()
    events = b.bulk_load_ledger(url, ledger(rows), recorded_at=NIGHT)
    print(f"  ledger: {events:,} events bulk-loaded", flush=True)
    exported = workdir / f"{backend}-export.csv"
    _, export_seconds = b.timed(
        lambda: b.command("snapshot", "--as-of", format_instant(NIGHT), "--db", url, out=exported)
    )
    night = workdir / f"{backend}-night.csv"
    changed = change_one_percent(exported, night)
    spread = workdir / f"{backend}-spread.csv"
    spread_instants(night, spread)

    def one_instant() -> float:
        outcome, seconds = reconcile(url, night)
        assert outcome.discrepancies == changed, (outcome.discrepancies, changed)
        return seconds

    def many_instants() -> float:
        outcome, seconds = reconcile(url, spread)
        assert outcome.discrepancies == changed, (outcome.discrepancies, changed)
        return seconds

    floor, single, many = b.alternate(rounds, lambda: csv_floor(night), one_instant, many_instants)
    applied, apply_seconds = reconcile(url, night, "--apply")
    assert applied.applied == changed, (applied.applied, changed)
    after, _ = reconcile(url, night)
    assert after.drift == 0, after.drift
    print(f"  rows changed and corrected: {changed:,}", flush=True)
    report.add(
        b.Figure(
            f"reconcile/{backend}/compare",
            "s",
            single,
            baseline="csv.reader alone",
            baseline_samples=floor,
            higher_is_better=False,
            target=b.at_most(60),
            note=f"{rows:,} keys, {events:,} ledger events, {changed:,} rows changed",
        )
    )
    report.add(
        b.Figure(
            f"reconcile/{backend}/100-instants",
            "s",
            many,
            baseline="reconcile, one instant",
            baseline_samples=single,
            higher_is_better=False,
            headline=False,
        )
    )
    report.add(
        b.Figure(
            f"reconcile/{backend}/apply",
            "s",
            [apply_seconds],
            baseline="csv.reader alone",
            baseline_samples=floor,
            higher_is_better=False,
            headline=False,
            note=f"{changed:,} count events appended",
        )
    )
    report.add(
        b.Figure(
            f"reconcile/{backend}/export",
            "s",
            [export_seconds],
            higher_is_better=False,
            headline=False,
        )
    )


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = b.parse(parser, {"rows": 2000})
    report = b.Report("reconcile", args)
    backends = b.usable_backends(args.backends, report)
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        for backend in backends:
            with b.scratch_database(backend, "reconcile") as url:
                run(backend, url, args.rows, args.rounds, Path(tmp), report)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report.add(
        b.Figure(
            "reconcile/peak-rss",
            "MiB",
            [peak],
            higher_is_better=False,
            headline=False,
            note="of the benchmark process",
        )
    )
    expected = [f"reconcile/{x}/{w}" for x in backends for w in ("compare", "apply")]
    return report.finish([*expected, "reconcile/peak-rss"])


if __name__ == "__main__":
    sys.exit(main())
