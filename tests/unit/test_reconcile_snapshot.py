"""Snapshot files: both formats, headers, gzip, and bad rows named by line, field and reason."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest

from adapters.reconcile.snapshot import Row, SnapshotError, read_snapshot, write_snapshot
from tests.conftest import at


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_csv_with_header_in_any_order_and_optional_instant(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "night.csv",
        "location,sku,on_hand,counted_at\nS1,A,5,2026-05-01T21:00:00Z\nS1,B,0,\n",
    )
    assert list(read_snapshot(path)) == [
        Row(2, "A", "S1", 5, at("2026-05-01T21:00:00Z")),
        Row(3, "B", "S1", 0, None),
    ]


def test_csv_without_header_and_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path, "night.csv.gz", "A,S1,5\nB,S1,7\n")
    assert [(r.sku, r.on_hand) for r in read_snapshot(path)] == [("A", 5), ("B", 7)]


def test_json_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "night.jsonl",
        '{"sku":"A","location":"S1","on_hand":4}\n\n'
        '{"sku":"B","location":"S1","on_hand":2,"counted_at":"2026-05-01T23:00:00+02:00"}\n',
    )
    assert list(read_snapshot(path)) == [
        Row(1, "A", "S1", 4, None),
        Row(3, "B", "S1", 2, at("2026-05-01T21:00:00Z")),
    ]


@pytest.mark.parametrize(
    ("name", "text", "line", "field"),
    [
        ("a.csv", "sku,location,on_hand\nA,S1,five\n", 2, "on_hand"),
        ("a.csv", "sku,location,on_hand\nA,S1,1.5\n", 2, "on_hand"),
        ("a.csv", "sku,location,on_hand\nA,S1,3\n,S1,3\n", 3, "sku"),
        ("a.csv", "sku,location,on_hand\nA, S1,3\n", 2, "location"),
        ("a.csv", "sku,location,qty\nA,S1,3\n", 1, "qty"),
        ("a.csv", "sku,location\nA,S1\n", 1, "on_hand"),
        ("a.csv", "sku,location,on_hand\nA,S1,3,extra\n", 2, ""),
        ("a.csv", "sku,location,on_hand,counted_at\nA,S1,3,yesterday\n", 2, "counted_at"),
        ("a.csv", "sku,location,on_hand,counted_at\nA,S1,3,2026-05-01T21:00:00\n", 2, "counted_at"),
        ("a.csv", "A,S1,99999999999\n", 1, "on_hand"),
        ("a.jsonl", '{"sku":"A","location":"S1","on_hand":true}\n', 1, "on_hand"),
        ("a.jsonl", '{"sku":"A","location":"S1","on_hand":2.0}\n', 1, "on_hand"),
        ("a.jsonl", '{"sku":"A","location":"S1"}\n', 1, "on_hand"),
        ("a.jsonl", '{"sku":"A","location":"S1","on_hand":1,"x":1}\n', 1, "x"),
        ("a.jsonl", '{"sku":"A","location":"S1","on_hand":1}\n{"sku":\n', 2, ""),
        ("a.jsonl", '{"sku":"A","location":"S1","on_hand":1}\n[1]\n', 2, ""),
        ("a.jsonl", '{"sku":5,"location":"S1","on_hand":1}\n', 1, "sku"),
    ],
)
def test_bad_rows_are_named(tmp_path: Path, name: str, text: str, line: int, field: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(SnapshotError) as caught:
        list(read_snapshot(path))
    assert (caught.value.line, caught.value.field) == (line, field)
    assert str(caught.value).startswith(f"line {line}")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_written_snapshots_read_back(tmp_path: Path, fmt: str) -> None:
    out = io.StringIO()
    rows = [("A,1", "S1", 3), ('B "x"', "S2", -1)]
    assert write_snapshot(out, rows, at("2026-05-01T21:00:00Z"), fmt) == 2
    path = _write(tmp_path, f"x.{fmt}", out.getvalue())
    back = [(r.sku, r.location, r.on_hand, r.counted_at) for r in read_snapshot(path)]
    assert back == [(*row, at("2026-05-01T21:00:00Z")) for row in rows]
