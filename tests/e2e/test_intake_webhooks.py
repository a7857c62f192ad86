"""The shop webhook endpoint on a real aiohttp server: signatures, duplicates, dead letters."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from adapters.channels.store import import_skus, list_dead_letters
from adapters.db.database import Database
from adapters.http import webhooks
from adapters.http.app import create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"
SECRET = "hush-7c1e"
ORDER = (DATA / "shop_orders_create.json").read_bytes()


def post_all(db: Database, requests: list[tuple[str, bytes, dict[str, str]]]) -> list[Any]:
    async def run() -> list[Any]:
        app = create_app(db)  # as `inventory serve` builds it
        app[webhooks.WEBHOOK_SECRETS_KEY] = ("old-secret", SECRET)
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for path, body, headers in requests:
                response = await client.post(path, data=body, headers=headers)
                answers.append((response.status, await response.json()))
        return answers

    return asyncio.run(run())


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": webhooks.sign(secret, body),
        "X-Shopify-Topic": "orders/create",
        "Content-Type": "application/json",
    }


def test_signed_order_is_applied_once(database: Database) -> None:
    with open(DATA / "skus.csv", newline="") as stream:
        import_skus(database, stream)
    path = "/v1/webhooks/shop/orders/create"
    answers = post_all(database, [(path, ORDER, signed(ORDER)), (path, ORDER, signed(ORDER))])
    assert answers[0] == (200, {"status": "applied", "accepted": 2, "duplicate": 0})
    # resent: the order memory already holds these facts, so nothing is booked again
    assert answers[1] == (200, {"status": "applied", "accepted": 0, "duplicate": 0})
    assert database.reader.position("SOCK-MER-4245", "WH-KASSEL").reserved == 2


def test_bad_or_missing_signature_is_401_and_stores_nothing(database: Database) -> None:
    path = "/v1/webhooks/shop/orders/create"
    tampered = ORDER.replace(b'"quantity": 2', b'"quantity": 20')
    answers = post_all(
        database,
        [
            (path, ORDER, {}),
            (path, ORDER, signed(ORDER, "wrong")),
            (path, tampered, signed(ORDER)),
            (path, ORDER, {"X-Shopify-Hmac-Sha256": "not base64 at all"}),
        ],
    )
    assert [status for status, _ in answers] == [401, 401, 401, 401]
    assert "Shopify-Hmac-Sha256" in answers[0][1]["detail"]
    assert database.reader.count_events() == 0
    assert list_dead_letters(database, None) == []


def test_signed_but_untranslatable_becomes_a_dead_letter(database: Database) -> None:
    order = json.loads(ORDER)
    order["line_items"][0]["variant_id"] = 1
    order["line_items"][0]["sku"] = "GONE"
    body = json.dumps(order).encode()
    answers = post_all(
        database,
        [
            ("/v1/webhooks/shop/orders/create", body, signed(body)),
            ("/v1/webhooks/shop/carts/update", ORDER, signed(ORDER)),
        ],
    )
    assert answers[0][0] == 202 and "line_items[0]: unknown SKU" in answers[0][1]["reason"]
    assert "unknown Shopify topic 'carts/update'" in answers[1][1]["reason"]
    letters = list_dead_letters(database)
    assert [(r.source, r.format) for r in letters] == [
        ("http:shopify", "shopify/orders/create"),
        ("http:shopify", "shopify/carts/update"),
    ]
    assert bytes(letters[0].payload) == body
    assert database.reader.count_events() == 0  # no line of a refused order is applied


def test_the_service_app_lets_signed_webhooks_past_api_key_auth(database: Database) -> None:
    """In the full service (API keys required everywhere) the signature is the webhook's auth."""
    from adapters.http.app import create_app

    async def run() -> list[int]:
        app = create_app(database)
        routes = {r.resource.canonical for r in app.router.routes() if r.resource}
        if "/v1/webhooks/shop/{topic}" not in routes:  # until the app lists the module
            webhooks.setup(app)
        app[webhooks.WEBHOOK_SECRETS_KEY] = (SECRET,)
        statuses = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for headers in (signed(ORDER), {}):
                response = await client.post(
                    "/v1/webhooks/shop/orders/create", data=ORDER, headers=headers
                )
                statuses.append(response.status)
        return statuses

    assert asyncio.run(run()) == [202, 401]  # no SKUs imported: kept as a dead letter
    assert len(list_dead_letters(database)) == 1


def test_the_same_body_under_two_topics_keeps_both_dead_letters(database: Database) -> None:
    body = b'{"id": 1}'  # neither an order nor a refund the translators can use
    answers = post_all(
        database,
        [
            ("/v1/webhooks/shop/orders/create", body, signed(body)),
            ("/v1/webhooks/shop/refunds/create", body, signed(body)),
            ("/v1/webhooks/shop/refunds/create", body, signed(body)),  # a re-sent one
        ],
    )
    assert [status for status, _ in answers] == [202, 202, 202]
    letters = list_dead_letters(database)
    assert sorted(r.format for r in letters) == ["shopify/orders/create", "shopify/refunds/create"]


def test_a_signed_body_with_nul_in_a_field_is_a_dead_letter_naming_it(database: Database) -> None:
    order = json.loads(ORDER)
    order["line_items"][0]["variant_id"] = None
    order["line_items"][0]["sku"] = "SOCK\x00MER"
    order["name"] = "#10\x0001"
    body = json.dumps(order).encode()
    (answer,) = post_all(database, [("/v1/webhooks/shop/orders/create", body, signed(body))])
    assert answer[0] == 202 and answer[1]["status"] == "dead_letter"
    assert answer[1]["reason"].startswith("line_items[0]")
    (letter,) = list_dead_letters(database)
    assert "\x00" not in letter.reason and bytes(letter.payload) == body
