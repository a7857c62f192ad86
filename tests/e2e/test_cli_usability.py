"""The command line as a newcomer meets it: global options anywhere, every option described
with its default, newest history first, empty lists that say so, a consumer that says where
it connects."""

from __future__ import annotations

import argparse

import pytest

from adapters.cli import build_parser, main, subcommands
from adapters.db.database import Database
from inventory.events import EventType, StockEvent
from tests.conftest import at


def test_every_option_is_described_with_its_default() -> None:
    parser = build_parser()
    missing = []
    for each in [parser, *subcommands(parser)]:
        for action in each._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            text = action.help or ""
            if not text:
                missing.append(f"{each.prog} {action.option_strings[0]}: no help")
            elif action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
                missing.append(f"{each.prog} {action.option_strings[0]}: default not shown")
    assert missing == []


def test_db_before_or_after_the_command(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    db = Database(url)
    db.ledger.append([StockEvent("e1", EventType.RECEIPT, "S", "L", 3, at("2026-05-01T08:00:00Z"))])
    db.close()
    assert main(["--db", url, "stock", "S"]) == 0
    before = capsys.readouterr().out
    assert main(["stock", "S", "--db", url]) == 0
    after = capsys.readouterr().out
    assert after.splitlines()[1:] == before.splitlines()[1:] and "L " in before


def test_history_is_newest_first_and_empty_lists_say_none(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    db = Database(url)
    db.ledger.append(
        [
            StockEvent(f"e{day}", EventType.RECEIPT, "S", "L", day, at(f"2026-05-0{day}T08:00:00Z"))
            for day in range(1, 6)
        ]
    )
    db.close()
    assert main(["history", "S", "--location", "L", "--limit", "2", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.index("e5") < out.index("e4") and "e1" not in out
    assert "newest first" in out
    assert main(["deadletters", "list", "--db", url]) == 0
    assert "none" in capsys.readouterr().out
    assert main(["keys", "list", "--db", url]) == 0
    assert "none" in capsys.readouterr().out


def test_consume_says_where_it_connects(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("INVENTORY_KAFKA_BOOTSTRAP", raising=False)
    url = f"sqlite:///{tmp_path / 'k.db'}"
    import adapters.kafka.consumer as consumer

    class Idle:  # the message comes before any connection is tried
        def __init__(self, db, config) -> None:
            pass

        def install_signals(self) -> None:
            pass

        def run(self, idle_exit_s=None):
            raise KeyboardInterrupt

    monkeypatch.setattr(consumer, "IntakeConsumer", Idle)
    assert main(["consume", "--bootstrap", "broker-7:9092", "--db", url]) == 130
    err = capsys.readouterr().err
    assert "connecting to Kafka at broker-7:9092 as group inventory-intake" in err


@pytest.mark.parametrize("command", [["consume"], ["outbox", "relay"]])
def test_kafka_commands_without_a_broker_setting_say_so(command, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("INVENTORY_KAFKA_BOOTSTRAP", raising=False)
    url = f"sqlite:///{tmp_path / 'n.db'}"
    assert main([*command, "--db", url]) == 2
    assert "INVENTORY_KAFKA_BOOTSTRAP" in capsys.readouterr().err
