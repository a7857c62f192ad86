"""Intake of contract events from JSON Lines (files, standard input): parse, then ingest.

Each line is one event.  Lines are parsed here and handed in batches to the ingest use case
(`inventory.services.ingest`), the one path every write takes; each batch is one transaction,
committed as the file is read.  The report names every refused line with its number, field
and reason, and says how many lines were committed:

- a batch the database refuses (a driver error) is applied again line by line, so only the
  lines at fault are reported (`failed`, with the error) and the rest are applied;
- when the database cannot be reached (or stays locked), the run stops: the report says which
  line it stopped at; every line before it was handled and committed, none from it on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import orjson
from sqlalchemy.exc import OperationalError

from adapters.channels.common import utf8_problem
from adapters.db.database import Database
from inventory.ledger import CONFLICT, NOT_APPLIED, FieldError
from inventory.ports import TransientFailure
from inventory.services.ingest import Item, Refused, ingest
from schemas.events import parse_item

BATCH = 2000


@dataclass(frozen=True)
class RejectedLine:
    line: int
    event_id: str | None
    status: str  # rejected, conflict, not_applied or failed (the database refused it)
    reasons: list[FieldError]


@dataclass
class IngestReport:
    accepted: int = 0
    duplicate: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)
    lines: int = 0  # lines handled in committed transactions
    stopped_at: int | None = None  # the line the run stopped at (nothing applied from it on)
    stop_reason: str | None = None

    @property
    def conflicts(self) -> int:
        return sum(1 for r in self.rejected if r.status in (CONFLICT, NOT_APPLIED))

    def summary(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "conflict": self.conflicts,
            "rejected": len(self.rejected) - self.conflicts - self.failed,
            "failed": self.failed,
        }

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rejected if r.status == "failed")


def decode_line(raw: bytes | str) -> Item:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        bad = utf8_problem(raw) if isinstance(raw, bytes) else None
        return Refused([FieldError("", bad or f"not valid JSON: {error}")])
    return parse_item(value)


class _Stopped(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line


def ingest_lines(db: Database, lines: Iterable[bytes | str], batch: int = BATCH) -> IngestReport:
    report = IngestReport()
    pending: list[tuple[int, Item]] = []
    try:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            pending.append((number, decode_line(raw)))
            if len(pending) >= batch:
                _flush(db, pending, report)
                pending = []
        if pending:
            _flush(db, pending, report)
    except _Stopped as stopped:
        report.stopped_at, report.stop_reason = stopped.line, str(stopped)
    return report


def _error_text(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


def _flush(db: Database, pending: list[tuple[int, Item]], report: IngestReport) -> None:
    """One transaction; if the database refuses it, line by line."""
    try:
        _apply(db, pending, report)
    except _Stopped:
        raise
    except Exception:
        for one in pending:
            try:
                _apply(db, [one], report)
            except _Stopped:
                raise
            except Exception as error:
                number, item = one
                event_id = getattr(item, "event_id", None)
                reason = FieldError("", f"not applied: {_error_text(error)}")
                report.rejected.append(RejectedLine(number, event_id, "failed", [reason]))
                report.lines += 1


def _apply(db: Database, pending: list[tuple[int, Item]], report: IngestReport) -> None:
    try:
        result = ingest(db.unit_of_work, [item for _, item in pending])
    except (OperationalError, TransientFailure) as error:  # the database is away: stop here
        raise _Stopped(pending[0][0], f"database unavailable ({_error_text(error)})") from error
    report.lines += len(pending)
    for (number, _), outcome in zip(pending, result.outcomes, strict=True):
        if outcome.status == "accepted":
            report.accepted += 1
        elif outcome.status == "duplicate":
            report.duplicate += 1
        else:
            reasons = list(outcome.errors) or [
                FieldError("event_id", outcome.reason or outcome.status)
            ]
            report.rejected.append(RejectedLine(number, outcome.event_id, outcome.status, reasons))


def ingest_file(db: Database, stream: IO[bytes], batch: int | None = None) -> IngestReport:
    return ingest_lines(db, stream, batch or BATCH)
