"""What the commands say when an input is bad or the database refuses part of it: one line on
stderr and exit 2 for a file that cannot be read; per-line reports for `inventory ingest`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DataError, OperationalError

from adapters import intake
from adapters.cli import ledger_commands, main
from adapters.db.database import Database


def receipt(event_id: str, quantity: int = 1) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "type": "receipt",
            "sku": "SKU-1",
            "location": "WH-1",
            "quantity": quantity,
            "occurred_at": "2026-05-01T08:00:00Z",
        }
    )


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


@pytest.fixture
def cli_database(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """`inventory ingest` runs on this test's database (so a test can make it fail)."""
    monkeypatch.setattr(ledger_commands, "Database", lambda _url: database)
    return database


def refuse(database: Database, event_id: str) -> None:
    def driver_refuses(_connection: Any, result: Any) -> None:
        if any(o.event_id == event_id for o in result.outcomes):
            raise DataError("INSERT", {}, Exception("value the driver will not take"))

    database.ledger.listeners.append(driver_refuses)


def test_a_batch_the_database_refuses_is_applied_line_by_line(
    cli_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refuse(cli_database, "e4")
    path = write_lines(tmp_path / "in.jsonl", [receipt(f"e{i}") for i in range(1, 8)])
    assert main(["ingest", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "accepted=6 duplicate=0 conflict=0 rejected=0 failed=1" in out
    assert (
        "line 4 failed (e4): event: not applied: DataError: value the driver will not take" in out
    )
    assert "Traceback" not in out + err
    assert cli_database.reader.position("SKU-1", "WH-1").on_hand == 6


def test_when_the_database_goes_away_it_says_what_was_committed(
    cli_database: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = [0]

    def third_batch_fails(_connection: Any, _result: Any) -> None:
        calls[0] += 1
        if calls[0] >= 3:
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    cli_database.ledger.listeners.append(third_batch_fails)
    monkeypatch.setattr(intake, "BATCH", 3)
    lines = [receipt(f"e{i}") for i in range(1, 11)]
    path = write_lines(tmp_path / "in.jsonl", [*lines[:5], "", *lines[5:]])  # a blank line 6
    assert main(["ingest", str(path), "--json"]) == 1
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert (body["accepted"], body["lines"], body["stopped_at"]) == (6, 6, 8)
    assert err.strip().startswith("stopped: committed 6 lines before line 8; line 8 and after")
    assert "server closed the connection" in err and "Traceback" not in err
    assert cli_database.reader.count_events() == 6


def test_invalid_utf8_lines_are_reported_as_such(
    cli_database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_lines(tmp_path / "in.jsonl", [receipt("e1"), b'{"event_id": "\xff"}'])
    assert main(["ingest", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 2 rejected (-): event: not valid UTF-8: byte 0xff at offset 14" in out


def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "folder").mkdir()
    not_text = tmp_path / "latin1.csv"
    not_text.write_bytes("sku,on_hand,location,id,kind\nS\xe9,1,L,X,store\n".encode("latin-1"))
    return {"missing": tmp_path / "missing.csv", "folder": tmp_path / "folder", "text": not_text}


COMMANDS = [
    ["ingest", "{}"],
    ["reconcile", "{}"],
    ["locations", "import", "{}"],
    ["locations", "import", "--check", "{}"],
    ["skus", "import", "{}"],
    ["serve", "--channels", "{}"],
]


# `ingest` reads bytes and judges each line on its own; `serve --channels` reads JSON bytes
CASES = [
    pytest.param(command, kind, id=f"{' '.join(command[:-1])}-{kind}")
    for command in COMMANDS
    for kind in ("missing", "folder", "text")
    if not (kind == "text" and command[0] in ("ingest", "serve"))
]


@pytest.mark.parametrize(("command", "kind"), CASES)
def test_a_file_that_cannot_be_read_is_one_line_and_exit_2(
    command: list[str], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_inputs(tmp_path)[kind]
    argv = [str(path) if part == "{}" else part for part in command]
    assert main([*argv, "--db", str(tmp_path / "inventory.db")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err and "Traceback" not in err
    expected = {"missing": "no such file", "folder": "Is a directory", "text": "not UTF-8"}[kind]
    assert expected in err
