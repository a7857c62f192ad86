"""Shopify order lifecycles on Shopify's own published payloads, through the HTTP webhook.

The bodies are the REST fixtures under tests/fixtures/channels/shopify (see SOURCES.md there):
the webhook body is the resource without its root key.  Each case is one of the ways real
traffic went wrong before the order memory: a legacy restock on unshipped lines booked as a
return, a failed fulfilment booked as shipped, an order created already fulfilled shipped twice,
a custom line refusing the whole order, a refund at an unmapped location booked at the default
warehouse, topics refused as unknown, the newer header spelling refused.
"""

from __future__ import annotations

import asyncio
import copy
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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "shopify"
SECRET = "shpss-lifecycle"
SKUS = """sku,variant_id,inventory_item_id
IPOD2008GREEN,39072856,808950810
IPOD2008RED,49148385,
IPOD2008BLACK,457924702,
crafty_shoes_red,389013007,
draft-151,43729076,
"""
LOCATIONS = "24826418=WH-BERLIN,487838322=WH-RETURNS,655441491=WH-LEIPZIG,905684977=ST-MITTE"
HOME = "WH-KASSEL"  # where orders naming no location are held
ORDER_ID = 450789469


def fixture(name: str) -> dict[str, Any]:
    """The webhook body: the fixture's resource without its root key."""
    document = json.loads((FIXTURES / name).read_text())
    root = next(k for k in ("order", "refund", "fulfillment", "inventory_level") if k in document)
    return document[root]  # type: ignore[no-any-return]


def raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


@pytest.fixture
def shop(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("INVENTORY_SHOPIFY_LOCATIONS", LOCATIONS)
    monkeypatch.setenv("INVENTORY_SHOPIFY_DEFAULT_LOCATION", HOME)
    monkeypatch.setenv("INVENTORY_SHOPIFY_WEBHOOK_SECRET", f"retired-secret, {SECRET}")
    import_skus(database, io.StringIO(SKUS))
    return database


def deliver(db: Database, *sends: tuple[str, dict[str, Any] | bytes], **options: Any) -> list[Any]:
    """POST each (topic, body) signed as Shopify does, with the newer header spelling unless
    `old_headers`; returns (status, answer) per request."""

    async def run() -> list[Any]:
        app = create_app(db)
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for topic, body in sends:
                data = body if isinstance(body, bytes) else raw(body)
                secret = options.get("secret", SECRET)
                prefix = "X-Shopify-" if options.get("old_headers") else "Shopify-"
                headers = {
                    f"{prefix}Hmac-Sha256": webhooks.sign(secret, data),
                    f"{prefix}Topic": topic,
                    "Content-Type": "application/json",
                }
                path = options.get("path", "/v1/webhooks/shopify")
                response = await client.post(path, data=data, headers=headers)
                answers.append((response.status, await response.json()))
        return answers

    return asyncio.run(run())


def stock(db: Database, sku: str, location: str = HOME) -> tuple[int, int]:
    position = db.reader.position(sku, location)
    return position.on_hand, position.reserved


IPODS = ("IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK")


def test_order_refund_cancel_with_legacy_restock_leaves_no_phantom_stock(shop: Database) -> None:
    """Order, an update carrying a failed fulfilment and a legacy restock of two unshipped
    lines, the refund itself, then the cancel: nothing shipped, so nothing comes back."""
    answers = deliver(
        shop,
        ("orders/create", fixture("python-api_order.json")),
        ("orders/updated", fixture("ruby-api_order_get.json")),
        ("refunds/create", fixture("ruby-api_refund_get_legacy_restock.json")),
        ("orders/cancelled", fixture("ruby-api_order_cancel.json")),
    )
    assert [status for status, _ in answers] == [200, 200, 200, 200]
    assert answers[0][1]["accepted"] == 3  # a reservation per line
    assert answers[2][1]["accepted"] == 0  # the refund was already known from the update
    for sku in IPODS:
        assert stock(shop, sku) == (0, 0)
    for location in ("WH-RETURNS", "WH-LEIPZIG"):
        assert all(stock(shop, sku, location) == (0, 0) for sku in IPODS)


def test_the_same_messages_in_reverse_give_the_same_stock(shop: Database) -> None:
    deliver(
        shop,
        ("orders/cancelled", fixture("ruby-api_order_cancel.json")),
        ("refunds/create", fixture("ruby-api_refund_get_legacy_restock.json")),
        ("orders/updated", fixture("ruby-api_order_get.json")),
        ("orders/create", fixture("python-api_order.json")),
        ("orders/create", fixture("python-api_order.json")),
    )
    for sku in IPODS:
        assert stock(shop, sku) == (0, 0)
    assert shop.reader.count_events() == 0  # cancelled before anything was held


def test_a_failed_fulfilment_ships_nothing(shop: Database) -> None:
    deliver(
        shop,
        ("orders/create", fixture("python-api_order.json")),
        ("fulfillments/create", fixture("ruby-api_fulfillment_get_status_failure.json")),
        ("fulfillments/create", fixture("python-api_fulfillment.json")),  # pending
    )
    assert stock(shop, "IPOD2008GREEN") == (0, 1)
    assert stock(shop, "IPOD2008GREEN", "WH-LEIPZIG") == (0, 0)


def _fulfilled_order() -> tuple[dict[str, Any], dict[str, Any]]:
    """An order created already fulfilled (as from a point of sale), embedding the successful
    fulfilment of the published fixture, and that fulfilment's own webhook body."""
    fulfilment = fixture("ruby-api_fulfillment_create_status_success.json")
    order = fixture("python-api_order.json")
    order["line_items"] = [copy.deepcopy(fulfilment["line_items"][0])]
    order["fulfillment_status"] = "fulfilled"
    order["fulfillments"] = [copy.deepcopy(fulfilment)]
    return order, fulfilment


def test_an_order_created_fulfilled_ships_once(shop: Database) -> None:
    order, fulfilment = _fulfilled_order()
    deliver(shop, ("orders/create", order), ("fulfillments/create", fulfilment))
    assert stock(shop, "crafty_shoes_red", "WH-BERLIN") == (-1, 0)
    assert stock(shop, "crafty_shoes_red") == (0, 0)


def test_a_fulfilment_cancelled_after_success_puts_the_units_back_on_hold(
    shop: Database,
) -> None:
    order, fulfilment = _fulfilled_order()
    order.update(fulfillment_status=None, fulfillments=[])
    undone = dict(fulfilment, status="cancelled", updated_at="2025-07-02T12:00:00-05:00")
    answers = deliver(
        shop,
        ("orders/create", order),
        ("fulfillments/create", fulfilment),
        ("fulfillments/update", undone),
        ("fulfillments/create", fulfilment),  # a late redelivery of the older status
    )
    assert [status for status, _ in answers] == [200, 200, 200, 200]
    assert stock(shop, "crafty_shoes_red", "WH-BERLIN") == (0, 0)
    assert stock(shop, "crafty_shoes_red") == (0, 1)


def test_a_custom_line_is_skipped_with_a_note_and_the_rest_booked(shop: Database) -> None:
    order = fixture("python-api_order.json")
    order["line_items"][1].update(variant_id=None, sku="", product_id=None)
    ((status, answer),) = deliver(shop, ("orders/create", order))
    assert status == 200 and answer["accepted"] == 2
    assert "line_items[1]" in answer["notes"][0] and "custom item" in answer["notes"][0]
    assert stock(shop, "IPOD2008GREEN") == (0, 1)
    assert stock(shop, "IPOD2008RED") == (0, 0)


def test_a_refund_at_an_unmapped_location_is_a_dead_letter_naming_it(shop: Database) -> None:
    refund = fixture("ruby-api_refund_get_legacy_restock.json")
    refund["refund_line_items"][0]["location_id"] = 999000111
    ((status, answer),) = deliver(shop, ("refunds/create", refund))
    assert status == 202
    assert "unmapped Shopify location 999000111" in answer["reason"]
    assert "refund_line_items[0].location_id" in answer["reason"]
    (letter,) = list_dead_letters(shop)
    assert letter.format == "shopify/refunds/create" and letter.source == "http:shopify"
    assert shop.reader.count_events() == 0


def test_every_order_topic_is_accepted(shop: Database) -> None:
    partially = fixture("ruby-api_order_get.json")
    partially["fulfillment_status"] = "partial"
    edit = {
        "order_edit": {
            "id": 78912328,
            "app_id": None,
            "created_at": "2025-07-02T11:35:00-05:00",
            "committed_at": "2025-07-02T11:35:00-05:00",
            "notify_customer": False,
            "order_id": ORDER_ID,
            "staff_note": "",
            "user_id": None,
            "line_items": {"additions": [], "removals": [{"id": 518995019, "delta": 1}]},
        }
    }
    answers = deliver(
        shop,
        ("orders/updated", fixture("ruby-api_order_get.json")),
        ("orders/partially_fulfilled", partially),
        ("orders/fulfilled", partially),
        ("orders/edited", edit),
        ("fulfillments/update", fixture("ruby-api_fulfillment_cancel_status_cancelled.json")),
    )
    assert [status for status, _ in answers] == [200] * 5, answers
    assert stock(shop, "IPOD2008RED") == (0, 0)  # the edit removed the one unit left
    assert list_dead_letters(shop) == []


def test_inventory_levels_are_ignored_unless_shopify_keeps_that_stock(
    shop: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    level = fixture("python-api_inventory_level.json")
    ((status, answer),) = deliver(shop, ("inventory_levels/update", level))
    assert status == 200 and answer["accepted"] == 0
    assert "ignored" in answer["notes"][0]
    monkeypatch.setenv("INVENTORY_SHOPIFY_STOCK_LOCATIONS", "905684977")
    ((status, answer),) = deliver(shop, ("inventory_levels/update", level))
    assert (status, answer["accepted"]) == (200, 1)
    assert stock(shop, "IPOD2008GREEN", "ST-MITTE") == (6, 0)


def test_signatures_old_and_new_spelling_rotation_and_refusal(shop: Database) -> None:
    order = raw(fixture("python-api_order.json"))
    ok_old = deliver(
        shop, ("orders/create", order), old_headers=True, path="/v1/webhooks/shop/orders/create"
    )
    ok_rotated = deliver(shop, ("orders/updated", order), secret="retired-secret")
    refused = deliver(shop, ("orders/create", order), secret="guess")
    assert ok_old[0][0] == 200 and ok_rotated[0][0] == 200
    assert refused[0][0] == 401
    events = shop.reader.count_events()
    tampered = order.replace(b'"quantity": 1', b'"quantity": 9', 1)
    assert tampered != order

    async def unsigned() -> list[int]:
        app = create_app(shop)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            first = await client.post("/v1/webhooks/shopify/orders/create", data=order)
            second = await client.post(
                "/v1/webhooks/shopify/orders/create",
                data=tampered,
                headers={"Shopify-Hmac-Sha256": webhooks.sign(SECRET, order)},
            )
            return [first.status, second.status]

    assert asyncio.run(unsigned()) == [401, 401]
    assert shop.reader.count_events() == events
    assert list_dead_letters(shop) == []
