"""The reconciliation job: read a snapshot, fold the ledger key by key, compare, correct.

The snapshot is read once, as a stream, into a compact map of key -> (on hand, instant, line):
the only thing kept per row, since each row is compared at its own instant.  The ledger is then
read once, ordered by key and, within a key, canonically; each key's events are folded up to
the instant its row was counted at and compared, then dropped.  So memory holds the snapshot's
keys and one key's events, never the ledger.  Nothing is written unless `apply` is set, and then
only after the whole file has been read and checked, in one transaction.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adapters.db.database import Database
from adapters.db.ledger_stream import Progress, keyed_events
from adapters.reconcile.snapshot import SnapshotError, read_snapshot
from inventory.reconcile import (
    UNKNOWN,
    Finding,
    Sample,
    Tally,
    correction,
    judge,
    sample_key,
)
from inventory.services.ingest import ingest
from inventory.stock import Key


@dataclass
class Options:
    snapshot: Path
    as_of: int | None = None  # default instant; None: the file's modification time
    apply: bool = False
    locations: Sequence[str] | None = None
    max_drift: int = 0
    fmt: str | None = None


@dataclass
class Applied:
    accepted: int = 0
    duplicate: int = 0
    conflict: int = 0


@dataclass
class Reconciliation:
    """Everything a report needs: totals, the reported keys, what was applied."""

    snapshot: Path
    default_instant: int
    max_drift: int
    rows: int = 0
    skipped_rows: int = 0  # rows outside --locations
    instants: int = 0
    events_folded: int = 0
    locations: list[str] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    findings: list[Finding] = field(default_factory=list)  # discrepancies and flagged keys
    applied: Applied | None = None

    @property
    def within(self) -> bool:
        return self.tally.within(self.max_drift)

    @property
    def exit_code(self) -> int:
        return 0 if self.within else 1


@dataclass
class _Counted:
    values: dict[Key, tuple[int, int, int]]  # key -> (on hand, instant, line)
    instants: set[int]
    scope: set[str]
    rows: int
    skipped: int


def default_instant(options: Options) -> int:
    if options.as_of is not None:
        return options.as_of
    return os.stat(options.snapshot).st_mtime_ns // 1000


def read_counted(options: Options, instant: int, progress: Progress | None = None) -> _Counted:
    """The snapshot as a key map; raises SnapshotError on the first bad or duplicate row."""
    wanted = set(options.locations) if options.locations else None
    values: dict[Key, tuple[int, int, int]] = {}
    instants: set[int] = set()
    seen_locations: set[str] = set()
    rows = skipped = 0
    for row in read_snapshot(options.snapshot, options.fmt):
        rows += 1
        if progress is not None and rows % 10_000 == 0:
            progress(10_000)
        if wanted is not None and row.location not in wanted:
            skipped += 1
            continue
        if options.apply and row.on_hand < 0:
            raise SnapshotError(
                row.line, "on_hand", "a count must be zero or more (--apply records it as one)"
            )
        key = (row.sku, row.location)
        earlier = values.get(key)
        if earlier is not None:
            raise SnapshotError(
                row.line, "", f"{row.sku} at {row.location} was already given on line {earlier[2]}"
            )
        when = instant if row.counted_at is None else row.counted_at
        values[key] = (row.on_hand, when, row.line)
        instants.add(when)
        seen_locations.add(row.location)
    if progress is not None:
        progress(rows % 10_000)
    if not rows:
        raise SnapshotError(0, "", "the snapshot holds no rows (an empty export?)")
    scope = wanted if wanted is not None else seen_locations
    uncounted = sorted(scope - seen_locations)
    if uncounted:  # every key there would count as zero: surely a wrong file or list
        raise SnapshotError(
            0, "locations", f"no rows in the snapshot for {', '.join(uncounted[:10])}"
        )
    return _Counted(values, instants, scope, rows, skipped)


def reconcile(
    db: Database,
    options: Options,
    read_progress: Progress | None = None,
    fold_progress: Progress | None = None,
) -> Reconciliation:
    """Compare the snapshot with the ledger (and correct it with `options.apply`)."""
    instant = default_instant(options)
    counted = read_counted(options, instant, read_progress)
    result = Reconciliation(options.snapshot, instant, options.max_drift)
    result.rows, result.skipped_rows = counted.rows, counted.skipped
    result.locations = sorted(counted.scope)
    result.instants = len(counted.instants | {instant})
    matches: Counter[tuple[str, tuple[str, ...]]] = Counter()  # plain matches, tallied in bulk
    units: Counter[tuple[str, tuple[str, ...]]] = Counter()

    def compare(key: Key, at: int, value: int | None, sample: Sample) -> None:
        ledger = sample.on_hand
        if ledger == (value or 0) and ledger >= 0 and sample.reserved <= ledger:
            group = (key[1], sample.channels)
            matches[group] += 1
            units[group] += ledger
            return
        finding = judge(key, at, value, ledger, sample.reserved, sample.known, sample.channels)
        _record(result, finding)

    values = counted.values
    until = max(counted.instants | {instant})
    for key, events in keyed_events(db.engines, until, counted.scope, fold_progress):
        result.events_folded += len(events)
        row = values.pop(key, None)
        if row is None:
            sample = sample_key(events, instant)
            if sample.known:  # a key of the ledger the file does not list
                compare(key, instant, None, sample)
        else:
            compare(key, row[1], row[0], sample_key(events, row[1]))
    for key, (value, at, _line) in values.items():
        compare(key, at, value, UNKNOWN)
    for (location, channels), keys in sorted(matches.items()):
        result.tally.add_matches(location, channels, keys, units[(location, channels)])
    if options.apply:
        result.applied = apply_corrections(db, result.findings)
    return result


def _record(result: Reconciliation, finding: Finding) -> None:
    result.tally.add(finding)
    if finding.reported:
        result.findings.append(finding)


def apply_corrections(db: Database, findings: Sequence[Finding]) -> Applied:
    """Append one count per discrepancy, all in one transaction; repeats are duplicates."""
    events = [correction(f) for f in findings if f.is_discrepancy]
    applied = Applied()
    if not events:
        return applied
    report = ingest(db.unit_of_work, events, atomic=True)
    applied.accepted = report.accepted
    applied.duplicate = report.duplicate
    applied.conflict = len(events) - report.accepted - report.duplicate
    return applied
