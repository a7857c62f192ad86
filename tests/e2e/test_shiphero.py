"""ShipHero "Inventory Update" webhooks on the published example body
(tests/fixtures/channels/shiphero, see SOURCES.md there), over HTTP on every backend."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from adapters.channels.store import Translator, import_skus, list_dead_letters, retry_dead_letters
from adapters.db.database import Database
from adapters.http import webhooks
from adapters.http.app import create_app
from adapters.http.auth import KeyStore
from inventory.events import format_instant
from tests.conftest import Clock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "shiphero"
SECRET = "shiphero-shared-secret"
WAREHOUSE = "WH-SHIPHERO"
LOCATIONS = f"12345={WAREHOUSE}"
# the published example's SKU is the word "string"; here it is mapped to a SKU of this engine
SKUS = """sku,shiphero_sku
TEE-BLK-M,string
"""
SKU = "TEE-BLK-M"


def body() -> bytes:
    return (FIXTURE / "inventory_update.json").read_bytes()


@pytest.fixture
def shiphero(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("INVENTORY_SHIPHERO_WEBHOOK_SECRET", f"old-secret,{SECRET}")
    monkeypatch.setenv("INVENTORY_SHIPHERO_LOCATIONS", LOCATIONS)
    import_skus(database, io.StringIO(SKUS))
    return database


def send(
    payload: bytes, message_id: str | None = "msg-1", secret: str | None = SECRET
) -> tuple[str, bytes, dict[str, str]]:
    headers = {"Content-Type": "application/json", "User-Agent": "ShipHero Request V1.0"}
    if secret is not None:
        headers["x-shiphero-hmac-sha256"] = webhooks.sign(secret, payload)
    if message_id is not None:
        headers["X-Shiphero-Message-ID"] = message_id
    return ("/v1/webhooks/shiphero", payload, headers)


def post(db: Database, clock: Clock, *requests: tuple[str, bytes, dict[str, str]]) -> list[Any]:
    """Each request a minute after the one before."""

    async def run() -> list[Any]:
        app = create_app(db)
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for path, payload, headers in requests:
                response = await client.post(path, data=payload, headers=headers)
                answers.append((response.status, await response.json()))
                clock.advance(60)
        return answers

    return asyncio.run(run())


def on_hand(db: Database, location: str = WAREHOUSE) -> int:
    return db.reader.position(SKU, location).on_hand


def event_times(db: Database) -> list[str]:
    with db.engines.read.connect() as connection:
        rows = connection.execute(text("SELECT occurred_at FROM events ORDER BY position"))
        return [format_instant(int(value)) for (value,) in rows]


def test_inventory_update_counts_the_warehouse_and_redelivery_is_a_duplicate(
    shiphero: Database, clock: Clock
) -> None:
    arrived = format_instant(clock.now)
    answers = post(
        shiphero,
        clock,
        send(body()),
        send(body()),  # ShipHero retries with the same message id, a minute later
        send(body(), message_id=None),  # no message id: the id comes from the body's bytes
        send(body(), message_id=None),
    )
    assert [status for status, _ in answers] == [200] * 4
    assert answers[0][1] == {
        "code": "200",
        "Message": "Success",
        "status": "applied",
        "accepted": 1,
        "duplicate": 0,
    }
    assert [(a["accepted"], a["duplicate"]) for _, a in answers] == [(1, 0), (0, 1), (1, 0), (0, 1)]
    assert on_hand(shiphero) == 48  # the warehouse's on_hand, not the account's 148
    assert event_times(shiphero)[0] == arrived  # the body carries no time: its first arrival
    assert shiphero.reader.count_events() == 2
    assert list_dead_letters(shiphero) == []


def test_a_time_in_the_body_is_the_count_time(shiphero: Database, clock: Clock) -> None:
    timed = json.loads(body())
    timed["inventory"][0]["updated_warehouse"]["on_hand"] = 7
    timed["inventory"][0]["updated_at"] = "2026-05-31T08:00:00+02:00"
    post(shiphero, clock, send(json.dumps(timed).encode(), message_id="msg-2"))
    assert on_hand(shiphero) == 7
    assert event_times(shiphero) == ["2026-05-31T06:00:00Z"]


def test_unmapped_warehouse_is_a_dead_letter_until_mapped(
    shiphero: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = json.loads(body())
    moved["inventory"][0]["updated_warehouse"]["warehouse_id"] = 67890
    moved["inventory"][0]["updated_warehouse"]["identifier"] = "Overflow"
    arrived = format_instant(clock.now)
    ((status, answer),) = post(shiphero, clock, send(json.dumps(moved).encode()))
    assert status == 202 and answer["status"] == "dead_letter"
    assert "unmapped ShipHero warehouse 67890 (Overflow)" in answer["reason"]
    assert "INVENTORY_SHIPHERO_LOCATIONS" in answer["reason"]
    assert shiphero.reader.count_events() == 0
    monkeypatch.setenv("INVENTORY_SHIPHERO_LOCATIONS", f"{LOCATIONS},67890=WH-OVERFLOW")
    assert retry_dead_letters(shiphero, Translator(shiphero)) == (1, 0)
    assert on_hand(shiphero, "WH-OVERFLOW") == 48
    assert event_times(shiphero) == [arrived]  # booked at its arrival, not at the retry


def test_bad_or_missing_signature_stores_nothing(shiphero: Database, clock: Clock) -> None:
    answers = post(
        shiphero,
        clock,
        send(body(), secret="wrong"),
        send(body(), secret=None),
        ("/v1/webhooks/shiphero", body(), {"x-shiphero-hmac-sha256": webhooks.sign(SECRET, b"{}")}),
    )
    assert [status for status, _ in answers] == [401] * 3
    assert "x-shiphero-hmac-sha256" in answers[0][1]["detail"]
    assert shiphero.reader.count_events() == 0
    assert list_dead_letters(shiphero) == []


def test_raw_intake_takes_the_format_with_an_ingest_key(shiphero: Database, clock: Clock) -> None:
    token = KeyStore(shiphero).create("shiphero bridge", ["ingest"])
    headers = {"Authorization": f"Bearer {token}", "X-Shiphero-Message-ID": "msg-3"}
    answers = post(
        shiphero,
        clock,
        ("/v1/intake/shiphero", body(), headers),
        ("/v1/intake/shiphero", body(), headers),
    )
    assert [(s, a["accepted"], a["duplicate"]) for s, a in answers] == [(200, 1, 0), (200, 0, 1)]
    assert on_hand(shiphero) == 48
