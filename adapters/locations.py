"""The location registry: import from CSV/JSON, list, and a cached routing network.

An import is all or nothing: every record is validated first, and only a file without a single
bad record is written (in one transaction, as upserts by id).  The rows themselves, and the
pickups booked against a store's daily capacity, are kept by `adapters.db.registry`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from adapters.db import registry as stored
from adapters.db.database import Database
from inventory.hours import zone
from inventory.routing import Network, Site
from schemas.locations import LocationIn, site_from_row

log = logging.getLogger("inventory.locations")


@dataclass(frozen=True)
class RecordError:
    line: int  # file line (CSV, JSON Lines) or record number (JSON array), from 1
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    records: list[LocationIn] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    written: int = 0


def describe(error: ValidationError) -> str:
    """A pydantic error as 'field: reason; field: reason'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(x) for x in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def parse_records(text: str, fmt: str) -> ImportReport:
    """Validate every record of a CSV, JSON (array) or JSON Lines text."""
    report = ImportReport()
    seen: dict[str, int] = {}
    for line, raw in _raw_records(text, fmt, report):
        if not isinstance(raw, dict):
            report.errors.append(RecordError(line, "expected an object"))
            continue
        try:
            record = LocationIn.model_validate(raw)
        except ValidationError as error:
            report.errors.append(RecordError(line, describe(error)))
            continue
        if record.id in seen:
            report.errors.append(
                RecordError(line, f"id {record.id!r} repeats line {seen[record.id]}")
            )
            continue
        seen[record.id] = line
        report.records.append(record)
    return report


def _raw_records(text: str, fmt: str, report: ImportReport) -> Iterable[tuple[int, Any]]:
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            if None in row:
                report.errors.append(RecordError(reader.line_num, "more cells than columns"))
                continue
            yield reader.line_num, {k: v for k, v in row.items() if k and v not in ("", None)}
    elif fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    report.errors.append(RecordError(number, f"not JSON: {error.msg}"))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            report.errors.append(RecordError(error.lineno, f"not JSON: {error.msg}"))
            return
        if isinstance(data, dict) and isinstance(data.get("locations"), list):
            data = data["locations"]
        if not isinstance(data, list):
            report.errors.append(
                RecordError(1, 'expected a list of locations or {"locations": [...]}')
            )
            return
        yield from enumerate(data, 1)


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix, "json")


def import_file(db: Database, path: Path) -> ImportReport:
    """Validate the whole file; write it only if every record is good."""
    report = parse_records(path.read_text(encoding="utf-8-sig"), file_format(path))
    if not report.errors and report.records:
        report.written = save(db, report.records)
    return report


def save(db: Database, records: Sequence[LocationIn]) -> int:
    """Upsert records by id in one transaction."""
    return stored.save(db.engines, [record.row() for record in records])


def remove(db: Database, location_id: str) -> bool:
    return stored.remove(db.engines, location_id)


def rows(db: Database, kind: str | None = None) -> list[dict[str, Any]]:
    return stored.rows(db.engines, kind)


def get(db: Database, location_id: str) -> dict[str, Any] | None:
    return stored.get(db.engines, location_id)


def usable_sites(
    found: Iterable[dict[str, Any]], known: dict[str, tuple[dict[str, Any], Site]] | None = None
) -> list[Site]:
    """Sites of the registry rows; a row that cannot be routed to (hours or time zone written
    around the import checks) is left out and logged, never failing every route.

    `known` maps id -> (row, site) from the last build: unchanged rows are not parsed again,
    and it is updated in place.
    """
    sites = []
    for row in found:
        previous = None if known is None else known.get(row["id"])
        if previous is not None and previous[0] == row:
            sites.append(previous[1])
            continue
        try:
            site = site_from_row(row)
            zone(site.timezone)
        except (ValueError, TypeError) as error:
            log.warning("location %r left out of routing: %s", row.get("id"), error)
            continue
        if known is not None:
            known[row["id"]] = (row, site)
        sites.append(site)
    return sites


class Registry:
    """The routing network built from the registry.

    After `ttl` seconds the network is rebuilt in the background while requests go on with the
    previous one (10,000 stores take about a second to build); a change made through this
    process (`invalidate`) is seen by the very next request.
    """

    def __init__(self, db: Database, ttl: float = 30.0) -> None:
        self.db = db
        self.ttl = ttl
        self._lock = threading.Lock()
        self._network: Network | None = None
        self._loaded = 0.0
        self._refreshing = False
        self._generation = 0
        self._known: dict[str, tuple[dict[str, Any], Site]] = {}

    def network(self) -> Network:
        with self._lock:
            current = self._network
            stale = current is not None and time.monotonic() - self._loaded > self.ttl
            if stale and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, daemon=True).start()
        if current is not None:
            return current
        return self._refresh()

    def _refresh(self) -> Network:
        with self._lock:
            generation, started = self._generation, time.monotonic()
        try:
            network = Network(usable_sites(rows(self.db), self._known))
        finally:
            with self._lock:
                self._refreshing = False
        with self._lock:
            # a build that began before a change is never installed over it
            if generation == self._generation and started >= self._loaded:
                self._network, self._loaded = network, started
        return network

    def invalidate(self) -> None:
        with self._lock:
            self._network = None
            self._generation += 1
