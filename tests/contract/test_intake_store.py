"""Intake against the ledger: SKU import, one-transaction batches, dead letters, retry, outbox."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.channels.common import ChannelSettings
from adapters.channels.store import (
    Message,
    Translator,
    apply_messages,
    import_skus,
    list_dead_letters,
    load_catalog,
    load_offsets,
    retry_dead_letters,
)
from adapters.db import intake_tables as it
from adapters.db.database import Database
from adapters.kafka.outbox import OutboxListener, attach_outbox, outbox_enabled

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"
SETTINGS = ChannelSettings("WH-KASSEL", {"71206535369": "WH-LEIPZIG"}, "WH-VENLO")


def load_skus(db: Database) -> None:
    with open(DATA / "skus.csv", newline="") as stream:
        assert import_skus(db, stream) == 10


def msg(fmt: str, payload: bytes, offset: int = 0, topic: str = "t") -> Message:
    return Message(topic, 0, offset, fmt, payload)


def contract(event_id: str, sku: str = "SOCK-MER-4245", quantity: int = 5) -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "type": "receipt",
            "sku": sku,
            "location": "WH-KASSEL",
            "quantity": quantity,
            "occurred_at": "2026-05-01T08:00:00Z",
        }
    ).encode()


def test_sku_import_maps_every_kind_of_id(database: Database) -> None:
    load_skus(database)
    catalog = load_catalog(database)
    assert catalog.find("gtin", "4006381333931") == "SOCK-MER-4245"
    assert catalog.find("gtin", "04006381333931") == "SOCK-MER-4245"  # GTIN-14 spelling
    assert catalog.find("variant", 44102236307657) == "SHELL-BLU-M"
    assert catalog.find("asin", "B0CXK9T2MA") == "SHELL-BLU-M"
    assert catalog.find("seller_sku", "NP-SOCK-MER-4245") == "SOCK-MER-4245"
    # re-import is an upsert, a remap wins
    import_skus(database, io.StringIO("sku,asin\nSOCK-MER-4245,B0CXK9T2MA\n"))
    assert load_catalog(database).find("asin", "B0CXK9T2MA") == "SOCK-MER-4245"


def test_sku_import_refuses_rows_without_sku(database: Database) -> None:
    with pytest.raises(ValueError, match="line 3: sku is required"):
        import_skus(database, io.StringIO("sku,gtin\nA,4006381333931\n,4006381333948\n"))
    with pytest.raises(ValueError, match="'sku' column"):
        import_skus(database, io.StringIO("gtin\n4006381333931\n"))
    assert load_catalog(database).skus == set()  # nothing half-imported


def test_batch_applies_good_messages_and_dead_letters_the_rest(database: Database) -> None:
    load_skus(database)
    translator = Translator(database, SETTINGS)
    messages = [
        msg("contract", contract("r1"), 0),
        msg("contract", b"{not json", 1),
        msg("contract", contract("r2", sku="UNKNOWN"), 2),
        msg("pos", (DATA / "pos_lines.csv").read_bytes(), 3),
        msg("contract", json.dumps({"event_id": "x", "type": "receipt"}).encode(), 4),
        msg("contract", contract("r1", quantity=7), 5),  # same id, other content
    ]
    report = apply_messages(database, translator, messages, "g", {("t", 0): 6})
    assert (report.accepted, report.duplicate) == (4, 0)
    letters = list_dead_letters(database)
    assert [(r.offset, r.status) for r in letters] == [
        (1, "open"),
        (2, "open"),
        (4, "open"),
        (5, "open"),
    ]
    reasons = {r.offset: r.reason for r in letters}
    assert reasons[1].startswith("not valid JSON")
    assert reasons[2] == "sku: unknown SKU: UNKNOWN"
    assert "sku: required" in reasons[4] or "location: required" in reasons[4]
    assert "event_id conflict" in reasons[5]
    assert bytes(letters[0].payload) == b"{not json"
    assert load_offsets(database, "g") == {("t", 0): 6}
    assert database.reader.position("SOCK-MER-4245", "WH-KASSEL").on_hand == 5
    assert database.reader.position("SOCK-MER-4245", "ST-KASSEL-01").on_hand == -1


def test_same_batch_again_changes_nothing(database: Database) -> None:
    load_skus(database)
    translator = Translator(database, SETTINGS)
    messages = [msg("pos", (DATA / "pos_lines.csv").read_bytes(), 0), msg("contract", b"[", 1)]
    apply_messages(database, translator, messages, "g", {("t", 0): 2})
    again = apply_messages(database, translator, messages, "g", {("t", 0): 2})
    assert (again.accepted, again.duplicate) == (0, 3)
    assert len(list_dead_letters(database)) == 1  # the same letter is kept once
    with database.engines.read.connect() as connection:
        assert connection.execute(select(func.count()).select_from(it.dead_letters)).scalar() == 1


def test_retry_applies_a_letter_after_the_mapping_is_fixed(database: Database) -> None:
    translator = Translator(database, SETTINGS)
    load_skus(database)
    line = (
        b'{"store":"ST-1","till":1,"receipt":"9","barcode":"5901234123457","qty":1,'
        b'"time":"2026-05-01T10:00:00Z"}'
    )
    apply_messages(database, Translator(database, SETTINGS), [msg("pos", line)])
    assert retry_dead_letters(database, translator) == (0, 1)
    import_skus(database, io.StringIO("sku,gtin\nNEW-SKU,5901234123457\n"))
    assert retry_dead_letters(database, translator) == (1, 0)
    assert list_dead_letters(database) == []
    assert [r.status for r in list_dead_letters(database, "applied")] == ["applied"]
    assert database.reader.position("NEW-SKU", "ST-1").on_hand == -1
    assert retry_dead_letters(database, translator) == (0, 0)


def test_outbox_is_written_in_the_ledger_transaction(database: Database) -> None:
    database.ledger.listeners.append(OutboxListener(database))
    load_skus(database)
    translator = Translator(database, SETTINGS)
    apply_messages(
        database, translator, [msg("wms/snapshot", (DATA / "wms_snapshot.csv").read_bytes())]
    )
    apply_messages(
        database,
        translator,
        [msg("shop/orders/create", (DATA / "shop_orders_create.json").read_bytes())],
    )
    with database.engines.read.connect() as connection:
        rows = list(connection.execute(select(it.outbox).order_by(it.outbox.c.id)))
    latest = {(r.sku, r.location): r for r in rows}
    assert latest[("SOCK-MER-4245", "WH-KASSEL")].available == 118
    assert latest[("SOCK-MER-4245", "WH-KASSEL")].reserved == 2
    assert latest[("SHELL-BLU-M", "WH-KASSEL")].available == 34
    # two counts, two reservations; the zero count at an empty position changed nothing
    assert len(rows) == 4
    assert max(r.ledger_position for r in rows) == database.reader.head()


def test_outbox_rolls_back_with_a_failed_append(database: Database) -> None:
    database.ledger.listeners.append(OutboxListener(database))

    def fail(_connection, _result) -> None:
        raise RuntimeError("boom")

    database.ledger.listeners.append(fail)
    translator = Translator(database, SETTINGS)
    with pytest.raises(RuntimeError):
        apply_messages(database, translator, [msg("contract", contract("r1"))], "g", {("t", 0): 1})
    with database.engines.read.connect() as connection:
        assert connection.execute(select(func.count()).select_from(it.outbox)).scalar() == 0
    assert load_offsets(database, "g") == {}
    assert database.reader.count_events() == 0


def test_outbox_switch() -> None:
    assert not outbox_enabled({})
    assert outbox_enabled({"INVENTORY_OUTBOX": "1"})
    assert outbox_enabled({"INVENTORY_KAFKA_BOOTSTRAP": "k:9092"})
    assert not outbox_enabled({"INVENTORY_KAFKA_BOOTSTRAP": "k:9092", "INVENTORY_OUTBOX": "0"})


def test_database_attaches_the_outbox_when_configured(
    backend_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVENTORY_OUTBOX", "1")
    db = Database(backend_url)
    try:
        assert any(isinstance(x, OutboxListener) for x in db.ledger.listeners)
        assert attach_outbox(db)  # idempotent
        assert sum(isinstance(x, OutboxListener) for x in db.ledger.listeners) == 1
    finally:
        db.close()
