"""Stock snapshots on disk: CSV or JSON Lines of `sku, location, on_hand[, counted_at]`.

Files are read as a stream, one row at a time (gzip too, by the `.gz` suffix); a bad row stops
the reading with its line number, the field and the reason.  The writer produces the same
format, so an export of one installation can be reconciled against another.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

from inventory.events import format_instant, to_micros
from schemas.events import MAX_QUANTITY, parse_instant

COLUMNS = ("sku", "location", "on_hand", "counted_at")
REQUIRED = COLUMNS[:3]


class SnapshotError(ValueError):
    """A row the reconciliation cannot trust; nothing is compared or applied."""

    def __init__(self, line: int, field: str, reason: str) -> None:
        where = (f"line {line}" if line else "file") + (f", {field}" if field else "")
        super().__init__(f"{where}: {reason}")
        self.line = line
        self.field = field
        self.reason = reason


class Row(NamedTuple):
    line: int
    sku: str
    location: str
    on_hand: int
    counted_at: int | None  # UTC microseconds; None: use the run's default instant


def detect_format(path: Path) -> str:
    """`jsonl` or `csv`, from the suffix (under any `.gz`), else from the first character."""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".csv", ".txt"):
        return "csv"
    with open_binary(path) as stream:
        head = stream.read(4096).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def open_binary(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def read_snapshot(path: Path, fmt: str | None = None) -> Iterator[Row]:
    """Rows of a snapshot file, in file order; raises SnapshotError at the first bad row."""
    fmt = fmt or detect_format(path)
    with open_binary(path) as stream:
        if fmt == "jsonl":
            yield from _jsonl_rows(stream)
        else:
            yield from _csv_rows(io.TextIOWrapper(stream, encoding="utf-8", newline=""))


class _Instants:
    """Parses counted_at texts once each: a night's file repeats a handful of them."""

    def __init__(self) -> None:
        self.cache: dict[str, int] = {}

    def parse(self, line: int, value: Any) -> int | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise SnapshotError(line, "counted_at", "expected an RFC 3339 timestamp string")
        found = self.cache.get(value)
        if found is None:
            try:
                found = to_micros(parse_instant(value))
            except Exception as error:
                raise SnapshotError(line, "counted_at", str(error)) from None
            self.cache[value] = found
        return found


def _name(line: int, field: str, value: Any) -> str:
    if (
        type(value) is str
        and value
        and len(value) <= 200
        and not value[0].isspace()
        and not value[-1].isspace()
        and "\n" not in value
        and "\r" not in value
    ):
        return value
    if not isinstance(value, str):
        raise SnapshotError(line, field, "expected text")
    if not value:
        raise SnapshotError(line, field, "required (empty)")
    if len(value) > 200:
        raise SnapshotError(line, field, "at most 200 characters")
    raise SnapshotError(line, field, "no leading/trailing whitespace or line breaks")


def _quantity(line: int, value: Any) -> int:
    if type(value) is str:
        if not (
            value.isascii() and (value.isdigit() or (value[:1] == "-" and value[1:].isdigit()))
        ):
            raise SnapshotError(line, "on_hand", f"expected a whole number, got {value!r}")
        value = int(value)
    elif type(value) is not int:
        raise SnapshotError(line, "on_hand", f"expected a whole number, got {value!r}")
    if -MAX_QUANTITY <= value <= MAX_QUANTITY:
        return value
    raise SnapshotError(line, "on_hand", f"must be at most {MAX_QUANTITY} in size")


def _csv_rows(text: IO[str]) -> Iterator[Row]:
    reader = csv.reader(text)
    instants = _Instants()
    columns: list[str] | None = None
    intern: dict[str, str] = {}
    at_sku = at_location = at_on_hand = -1
    at_counted: int | None = None
    for fields in reader:
        line = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if columns is None:
            columns = _header(line, fields)
            if columns is not None:
                continue
            columns = list(COLUMNS[: len(fields)]) if len(fields) in (3, 4) else []
            if not columns:
                raise SnapshotError(
                    line, "", f"expected 3 or 4 columns ({', '.join(COLUMNS)}), got {len(fields)}"
                )
        if len(fields) != len(columns):
            raise SnapshotError(line, "", f"expected {len(columns)} columns, got {len(fields)}")
        if at_sku < 0:
            at_sku, at_location, at_on_hand = (columns.index(name) for name in REQUIRED)
            at_counted = columns.index("counted_at") if "counted_at" in columns else None
        location = _name(line, "location", fields[at_location])
        yield Row(
            line,
            _name(line, "sku", fields[at_sku]),
            intern.setdefault(location, location),
            _quantity(line, fields[at_on_hand]),
            None if at_counted is None else instants.parse(line, fields[at_counted]),
        )


def _header(line: int, fields: list[str]) -> list[str] | None:
    """The column names when the first row is a header, None when it is already data."""
    names = [f.strip().lower() for f in fields]
    if not any(name in COLUMNS for name in names):
        return None
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise SnapshotError(line, unknown[0], f"unknown column (expected {', '.join(COLUMNS)})")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise SnapshotError(line, missing[0], "required column missing from the header")
    if len(set(names)) != len(names):
        raise SnapshotError(line, "", "a column appears twice in the header")
    return names


def _jsonl_rows(stream: IO[bytes]) -> Iterator[Row]:
    instants = _Instants()
    intern: dict[str, str] = {}
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise SnapshotError(line, "", f"not valid JSON: {error}") from None
        if not isinstance(value, dict):
            raise SnapshotError(line, "", "each line must be a JSON object")
        unknown = [name for name in value if name not in COLUMNS]
        if unknown:
            raise SnapshotError(line, unknown[0], "unknown field")
        for name in REQUIRED:
            if name not in value:
                raise SnapshotError(line, name, "required")
        location = _name(line, "location", value["location"])
        yield Row(
            line,
            _name(line, "sku", value["sku"]),
            intern.setdefault(location, location),
            _quantity(line, value["on_hand"]),
            instants.parse(line, value.get("counted_at")),
        )


def write_snapshot(
    out: IO[str], rows: Iterable[tuple[str, str, int]], counted_at: int, fmt: str = "csv"
) -> int:
    """Write (sku, location, on_hand) rows all counted at one instant; returns the row count."""
    stamp = format_instant(counted_at)
    written = 0
    if fmt == "jsonl":
        for sku, location, on_hand in rows:
            body = {"sku": sku, "location": location, "on_hand": on_hand, "counted_at": stamp}
            out.write(orjson.dumps(body).decode() + "\n")
            written += 1
        return written
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for sku, location, on_hand in rows:
        writer.writerow((sku, location, on_hand, stamp))
        written += 1
    return written
