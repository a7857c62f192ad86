"""Intake of contract events from JSON Lines (files, HTTP bodies): parse, validate, append.

Each line is one event.  Invalid lines are rejected with their line number, field and reason;
the valid ones are appended in batches, each batch in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

import orjson

from adapters.db.database import Database
from inventory.events import StockEvent
from schemas.events import Rejection, parse_event

BATCH = 2000


@dataclass(frozen=True)
class RejectedLine:
    line: int
    event_id: str | None
    status: str  # rejected or conflict
    reasons: list[Rejection]


@dataclass
class IngestReport:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)

    @property
    def conflicts(self) -> int:
        return sum(1 for r in self.rejected if r.status == "conflict")

    def summary(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "conflict": self.conflicts,
            "rejected": len(self.rejected) - self.conflicts,
        }


def decode_lines(lines: Iterable[bytes | str]) -> Iterator[tuple[int, StockEvent | RejectedLine]]:
    """(line number, event or rejection) for each non-blank line."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            reason = Rejection(field="", reason=f"not valid JSON: {error}")
            yield number, RejectedLine(number, None, "rejected", [reason])
            continue
        parsed = parse_event(value)
        if isinstance(parsed, StockEvent):
            yield number, parsed
        else:
            event_id = value.get("event_id") if isinstance(value, dict) else None
            yield (
                number,
                RejectedLine(
                    number, event_id if isinstance(event_id, str) else None, "rejected", parsed
                ),
            )


def ingest_lines(db: Database, lines: Iterable[bytes | str], batch: int = BATCH) -> IngestReport:
    report = IngestReport()
    pending: list[tuple[int, StockEvent]] = []
    for number, item in decode_lines(lines):
        if isinstance(item, RejectedLine):
            report.rejected.append(item)
            continue
        pending.append((number, item))
        if len(pending) >= batch:
            _flush(db, pending, report)
            pending = []
    if pending:
        _flush(db, pending, report)
    return report


def _flush(db: Database, pending: list[tuple[int, StockEvent]], report: IngestReport) -> None:
    result = db.ledger.append([event for _, event in pending])
    for (number, event), outcome in zip(pending, result.outcomes, strict=True):
        if outcome.status == "accepted":
            report.accepted += 1
        elif outcome.status == "duplicate":
            report.duplicate += 1
        else:
            reason = Rejection(field="event_id", reason=outcome.reason or "conflict")
            report.rejected.append(RejectedLine(number, event.event_id, "conflict", [reason]))


def ingest_file(db: Database, stream: IO[bytes], batch: int = BATCH) -> IngestReport:
    return ingest_lines(db, stream, batch)
