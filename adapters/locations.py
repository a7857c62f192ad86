"""The location registry: import from CSV/JSON, list, and a cached routing network.

An import is all or nothing: every record is validated first, and only a file without a single
bad record is written (in one transaction, as upserts by id).  Pickups booked against a store's
daily capacity live in `pickups`, one row per reservation.
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
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import BigInteger, Column, Connection, Index, String, Table, delete, func, select

from adapters.db import tables as t
from adapters.db.database import Database
from adapters.db.ledger import chunks, dialect_insert
from inventory.hours import zone
from inventory.routing import Network, Site
from schemas.locations import LocationIn, site_from_row

log = logging.getLogger("inventory.locations")

pickups = Table(
    "pickups",
    t.metadata,
    Column("reservation_id", t.Name, primary_key=True),
    Column("location", t.Name, nullable=False),
    Column("day", String(10), nullable=False),  # the store's local date, ISO
    Column("ready_by", BigInteger, nullable=False),
    Column("booked_at", BigInteger, nullable=False),
    Index("ix_pickups_location_day", "location", "day"),
)


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
    rows = [record.row() for record in records]
    with db.engines.write.begin() as connection:
        statement = dialect_insert(connection, t.locations)
        updates = {name: statement.excluded[name] for name in rows[0] if name != "id"}
        for part in chunks(rows, 500):
            connection.execute(
                statement.on_conflict_do_update(index_elements=["id"], set_=updates), list(part)
            )
    return len(rows)


def remove(db: Database, location_id: str) -> bool:
    with db.engines.write.begin() as connection:
        result = connection.execute(delete(t.locations).where(t.locations.c.id == location_id))
        return bool(result.rowcount)


def rows(db: Database, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(t.locations).order_by(t.locations.c.id)
    if kind is not None:
        query = query.where(t.locations.c.kind == kind)
    with db.engines.read.connect() as connection:
        return [_plain(row) for row in connection.execute(query)]


def get(db: Database, location_id: str) -> dict[str, Any] | None:
    with db.engines.read.connect() as connection:
        row = connection.execute(select(t.locations).where(t.locations.c.id == location_id)).first()
        return None if row is None else _plain(row)


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


def _plain(row: Any) -> dict[str, Any]:
    return {str(name): value for name, value in row._mapping.items()}


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


def booked(
    connection: Connection, locations: Sequence[str], since: date
) -> dict[tuple[str, date], int]:
    """Pickups per (store, local day) from `since` on whose reservation is not released."""
    p, r = pickups.c, t.reservation_lines.c
    live = (
        select(r.reservation_id)
        .where(r.reservation_id == p.reservation_id)
        .where((r.held > 0) | (r.fulfilled > 0))
        .exists()
    )
    found: dict[tuple[str, date], int] = {}
    for part in chunks(list(locations)):
        query = (
            select(p.location, p.day, func.count())
            .where(p.location.in_(list(part)), p.day >= since.isoformat(), live)
            .group_by(p.location, p.day)
        )
        for location, day, count in connection.execute(query):
            found[(location, date.fromisoformat(day))] = int(count)
    return found


def book(
    connection: Connection, reservation_id: str, location: str, day: date, ready: int, now: int
) -> None:
    connection.execute(
        pickups.insert().values(
            reservation_id=reservation_id,
            location=location,
            day=day.isoformat(),
            ready_by=ready,
            booked_at=now,
        )
    )


def pickup_of(connection: Connection, reservation_id: str) -> dict[str, Any] | None:
    row = connection.execute(
        select(pickups).where(pickups.c.reservation_id == reservation_id)
    ).first()
    return None if row is None else _plain(row)
