"""Intake of contract events from JSON Lines (files, standard input): parse, then ingest.

Each line is one event.  Lines are parsed here and handed in batches to the ingest use case
(`inventory.services.ingest`), the one path every write takes; each batch is one transaction.
The report names every refused line with its number, field and reason, and says how many
lines were committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import orjson

from adapters.db.database import Database
from inventory.ledger import CONFLICT, NOT_APPLIED, FieldError
from inventory.services.ingest import Item, Refused, ingest
from schemas.events import parse_item

BATCH = 2000


@dataclass(frozen=True)
class RejectedLine:
    line: int
    event_id: str | None
    status: str  # rejected or conflict
    reasons: list[FieldError]


@dataclass
class IngestReport:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)

    @property
    def conflicts(self) -> int:
        return sum(1 for r in self.rejected if r.status in (CONFLICT, NOT_APPLIED))

    def summary(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "conflict": self.conflicts,
            "rejected": len(self.rejected) - self.conflicts,
        }


def decode_line(raw: bytes | str) -> Item:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return Refused([FieldError("", f"not valid JSON: {error}")])
    return parse_item(value)


def ingest_lines(db: Database, lines: Iterable[bytes | str], batch: int = BATCH) -> IngestReport:
    report = IngestReport()
    pending: list[tuple[int, Item]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        pending.append((number, decode_line(raw)))
        if len(pending) >= batch:
            _flush(db, pending, report)
            pending = []
    if pending:
        _flush(db, pending, report)
    return report


def _flush(db: Database, pending: list[tuple[int, Item]], report: IngestReport) -> None:
    result = ingest(db.unit_of_work, [item for _, item in pending])
    for (number, _), outcome in zip(pending, result.outcomes, strict=True):
        if outcome.status == "accepted":
            report.accepted += 1
        elif outcome.status == "duplicate":
            report.duplicate += 1
        else:
            reasons = outcome.errors or [FieldError("event_id", outcome.reason or outcome.status)]
            report.rejected.append(RejectedLine(number, outcome.event_id, outcome.status, reasons))


def ingest_file(db: Database, stream: IO[bytes], batch: int = BATCH) -> IngestReport:
    return ingest_lines(db, stream, batch)
