"""Export the ledger's on-hand as of an instant, in the format reconciliation reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

from adapters.db.database import Database
from adapters.db.ledger_stream import Progress, keyed_events
from adapters.reconcile.snapshot import write_snapshot
from inventory.reconcile import sample_key


def export_snapshot(
    db: Database,
    out: IO[str],
    at: int,
    locations: Sequence[str] | None = None,
    fmt: str = "csv",
    progress: Progress | None = None,
) -> int:
    """Stream every key the ledger knows at its location by `at` (zeros too), by SKU and location.

    Each row carries `at` as counted_at, so reconciling the file against the same ledger is an
    exact round trip whatever happened after `at`.
    """
    scope = set(locations) if locations else None
    samples = (
        (key, sample_key(events, at))
        for key, events in keyed_events(db.engines, at, scope, progress)
    )
    rows = ((key[0], key[1], sample.on_hand) for key, sample in samples if sample.known)
    return write_snapshot(out, rows, at, fmt)
