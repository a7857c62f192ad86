"""WooCommerce order webhooks and Square inventory counts, on the platforms' published payloads
(tests/fixtures/channels/woocommerce and .../square, see SOURCES.md there), over HTTP and Kafka."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.channels.store import import_skus, list_dead_letters
from adapters.db.database import Database
from adapters.http import webhooks
from adapters.http.app import create_app
from inventory.events import format_instant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels"
WOO_SECRET = "wc-secret-1"
SQUARE_KEY = "square-signature-key"
SQUARE_URL = "https://inventory.example.com/v1/webhooks/square"
SKUS = """sku,woocommerce_id,square_variation_id
WOO-SINGLE,93,
Bar3,,
SQ-TEE,,FGQ5JJWT2PYTHF35CKZ2DSKP
"""
HOME = "WH-KASSEL"


def woo(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "woocommerce" / name).read_text())  # type: ignore[no-any-return]


@pytest.fixture
def shops(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("INVENTORY_WOOCOMMERCE_WEBHOOK_SECRET", WOO_SECRET)
    monkeypatch.setenv("INVENTORY_WOOCOMMERCE_LOCATION", HOME)
    monkeypatch.setenv("INVENTORY_WOOCOMMERCE_TIMEZONE", "America/Sao_Paulo")
    monkeypatch.setenv("INVENTORY_SQUARE_WEBHOOK_SECRET", SQUARE_KEY)
    monkeypatch.setenv("INVENTORY_SQUARE_NOTIFICATION_URL", SQUARE_URL)
    monkeypatch.setenv("INVENTORY_SQUARE_LOCATIONS", "YYQR03DGCTXA4=ST-MITTE")
    import_skus(database, io.StringIO(SKUS))
    return database


def post(db: Database, *requests: tuple[str, bytes, dict[str, str]]) -> list[Any]:
    async def run() -> list[Any]:
        app = create_app(db)
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for path, body, headers in requests:
                response = await client.post(path, data=body, headers=headers)
                answers.append((response.status, await response.json()))
        return answers

    return asyncio.run(run())


def woo_send(topic: str, body: dict[str, Any] | bytes, secret: str = WOO_SECRET) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": webhooks.sign(secret, data),
        "X-WC-Webhook-Source": "https://example.com/",
        "Content-Type": "application/json",
    }
    return ("/v1/webhooks/woocommerce", data, headers)


def stock(db: Database, sku: str, location: str = HOME) -> tuple[int, int]:
    position = db.reader.position(sku, location)
    return position.on_hand, position.reserved


def test_woocommerce_processing_then_completed_ships_once(shops: Database) -> None:
    processing = woo("order_create_response_processing.json")
    completed = woo("order_update_response_completed.json")
    answers = post(
        shops,
        woo_send("order.created", processing),
        woo_send("order.updated", completed),
        woo_send("order.updated", processing),  # late redelivery of the older state
        woo_send("order.updated", completed),
    )
    assert [status for status, _ in answers] == [200] * 4
    assert stock(shops, "WOO-SINGLE") == (-2, 0)  # found by product id: its sku is empty
    assert stock(shops, "Bar3") == (-1, 0)


def test_woocommerce_dates_without_offset_are_read_in_the_store_zone(shops: Database) -> None:
    processing = woo("order_create_response_processing.json")
    del processing["date_modified_gmt"]  # 2017-03-22T16:28:08 in São Paulo (UTC-3)
    post(shops, woo_send("order.created", processing))
    assert _first_event_time(shops) == "2017-03-22T19:28:08Z"


def _first_event_time(db: Database) -> str:
    from sqlalchemy import text

    with db.engines.read.connect() as connection:
        value = connection.execute(text("SELECT min(occurred_at) FROM events")).scalar_one()
    return format_instant(int(value))


def test_woocommerce_trash_releases_restore_holds_again_cancel_restores_stock(
    shops: Database,
) -> None:
    processing = woo("order_create_response_processing.json")
    deleted = json.loads((FIXTURES / "woocommerce" / "webhook_order_deleted_body.json").read_text())
    restored = dict(processing, date_modified_gmt="2026-06-01T13:00:00")  # after the trash
    post(shops, woo_send("order.created", processing), woo_send("order.deleted", deleted))
    assert stock(shops, "Bar3") == (0, 0)
    post(shops, woo_send("order.restored", restored))
    assert stock(shops, "Bar3") == (0, 1)
    completed = dict(restored, status="completed", date_modified_gmt="2026-06-02T08:00:00")
    cancelled = dict(restored, status="cancelled", date_modified_gmt="2026-06-03T08:00:00")
    post(shops, woo_send("order.updated", completed))
    assert stock(shops, "Bar3") == (-1, 0)
    post(shops, woo_send("order.updated", cancelled), woo_send("order.updated", completed))
    assert stock(shops, "Bar3") == (0, 0)  # WooCommerce restores reduced stock on cancel
    assert list_dead_letters(shops) == []


def test_woocommerce_signature_ping_and_refusals(shops: Database) -> None:
    order = woo("order_create_response_processing.json")
    answers = post(
        shops,
        woo_send("order.created", order, secret="wrong"),
        (
            "/v1/webhooks/woocommerce",
            b"webhook_id=12",
            {
                "X-WC-Webhook-Signature": webhooks.sign(WOO_SECRET, b"webhook_id=12"),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ),
        woo_send("order.created", dict(order, status="on-the-moon")),
    )
    assert [status for status, _ in answers] == [401, 200, 202]
    assert "status: unknown order status 'on-the-moon'" in answers[2][1]["reason"]
    assert shops.reader.count_events() == 0


def test_square_signature_vectors_are_reproduced() -> None:
    vectors = json.loads((FIXTURES / "square" / "signature_vectors.json").read_text())
    for vector in vectors:
        if "body_file" in vector:
            body = (FIXTURES / "square" / vector["body_file"]).read_bytes()
        else:
            body = vector["body"].encode()
        signed = webhooks.sign(vector["signature_key"], vector["notification_url"].encode() + body)
        assert signed == vector["x-square-hmacsha256-signature"]


def square_send(body: bytes, key: str = SQUARE_KEY, url: str = SQUARE_URL) -> Any:
    headers = {
        "x-square-hmacsha256-signature": webhooks.sign(key, url.encode() + body),
        "Content-Type": "application/json",
    }
    return ("/v1/webhooks/square", body, headers)


def test_square_count_is_booked_at_the_mapped_store(shops: Database) -> None:
    body = (FIXTURES / "square" / "inventory_count_updated.json").read_bytes()
    ping = (FIXTURES / "square" / "webhooks_test_notification_body.json").read_bytes()
    moved = json.loads(body)
    moved["data"]["object"]["inventory_counts"][0]["location_id"] = "ELSEWHERE"
    answers = post(
        shops,
        square_send(body),
        square_send(body),
        square_send(ping),
        square_send(body, key="wrong"),
        square_send(json.dumps(moved).encode()),
    )
    assert [status for status, _ in answers] == [200, 200, 200, 401, 202]
    assert (answers[0][1]["accepted"], answers[1][1]["duplicate"]) == (1, 1)
    assert "not about stock" in answers[2][1]["notes"][0]
    assert "unmapped Square location ELSEWHERE" in answers[4][1]["reason"]
    assert stock(shops, "SQ-TEE", "ST-MITTE") == (10, 0)
