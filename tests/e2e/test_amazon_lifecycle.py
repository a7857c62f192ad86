"""Amazon SP-API on Amazon's published schema and example (tests/fixtures/channels/amazon, see
SOURCES.md): every OrderStatus of the ORDER_CHANGE schema, FBA inventory availability, the
flat-file order report with item-level status; through `POST /v1/intake/marketplace`."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.channels.store import import_skus
from adapters.db.database import Database
from adapters.http.app import create_app
from adapters.http.auth import KeyStore

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "amazon"
SKUS = """sku,seller_sku
AMZ-1,SellerSKUID1
AMZ-2,SELLERSKU-1
AMZ-3,NP-SHELL
"""
MFN = "WH-MFN"
SCHEMA = json.loads((FIXTURES / "schema_OrderChangeNotification.json").read_text())
STATUSES = SCHEMA["properties"]["Payload"]["properties"]["OrderChangeNotification"]["properties"][
    "Summary"
]["properties"]["OrderStatus"]["enum"]


@pytest.fixture
def amazon(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("INVENTORY_MARKETPLACE_LOCATION", MFN)
    monkeypatch.setenv("INVENTORY_AMAZON_FBA_LOCATIONS", "ATVPDKIKX0DER=FBA-US")
    import_skus(database, io.StringIO(SKUS))
    return database


def intake(
    db: Database, *bodies: bytes, fmt: str = "marketplace", key: str | None = "ok"
) -> list[Any]:
    async def run() -> list[Any]:
        app = create_app(db)
        token = KeyStore(db).create("amazon bridge", ["ingest"]) if key == "ok" else key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answers = []
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            for body in bodies:
                response = await client.post(f"/v1/intake/{fmt}", data=body, headers=headers)
                answers.append((response.status, await response.json()))
        return answers

    return asyncio.run(run())


def change(
    status: str, order_id: str, shipped: int = 0, at: str = "2022-11-29T19:42:04.284Z"
) -> bytes:
    """Amazon's published ORDER_CHANGE example with another status (10 units of one SKU)."""
    note = json.loads((FIXTURES / "order_change_buyer_requested_cancel.json").read_text())
    body = note["Payload"]["OrderChangeNotification"]
    body["AmazonOrderId"] = order_id
    body["OrderChangeTrigger"]["TimeOfOrderChange"] = at
    body["Summary"]["OrderStatus"] = status
    body["Summary"]["OrderItems"][0]["QuantityShipped"] = shipped
    return json.dumps(note).encode()


def stock(db: Database, sku: str = "AMZ-1", location: str = MFN) -> tuple[int, int]:
    position = db.reader.position(sku, location)
    return position.on_hand, position.reserved


EXPECTED = {  # OrderStatus -> (on hand, reserved) of a 10-unit order, 4 shipped when partial
    "PendingAvailability": (0, 10),
    "Pending": (0, 10),
    "Unshipped": (0, 10),
    "PartiallyShipped": (-4, 6),
    "Shipped": (-10, 0),
    "InvoiceUnconfirmed": (-10, 0),
    "Canceled": (0, 0),
    "Unfulfillable": (0, 0),
}


def test_the_table_covers_every_status_of_amazons_schema() -> None:
    assert sorted(EXPECTED) == sorted(STATUSES)


@pytest.mark.parametrize("status", sorted(EXPECTED))
def test_each_order_status_after_an_unshipped_order(amazon: Database, status: str) -> None:
    unshipped = change("Unshipped", "111-1", at="2022-11-29T10:00:00Z")
    later = change(status, "111-1", shipped=4 if status == "PartiallyShipped" else 0)
    answers = intake(amazon, later, unshipped, later)  # late, early, again
    assert [code for code, _ in answers] == [200, 200, 200]
    assert stock(amazon) == EXPECTED[status]


def test_a_buyer_cancel_request_keeps_the_reservation(amazon: Database) -> None:
    body = (FIXTURES / "order_change_buyer_requested_cancel.json").read_bytes()
    assert intake(amazon, body)[0][0] == 200
    assert stock(amazon) == (0, 10)


def test_partial_then_full_shipment_in_any_order(amazon: Database) -> None:
    bodies = [
        change("Unshipped", "222-2", at="2022-11-29T10:00:00Z"),
        change("PartiallyShipped", "222-2", shipped=3, at="2022-11-29T11:00:00Z"),
        change("Shipped", "222-2", shipped=10, at="2022-11-29T12:00:00Z"),
    ]
    intake(amazon, bodies[2], bodies[0], bodies[1])
    assert stock(amazon) == (-10, 0)


def test_amazon_fulfilled_orders_do_not_touch_the_warehouse(amazon: Database) -> None:
    note = json.loads(change("Shipped", "333-3"))
    note["Payload"]["OrderChangeNotification"]["Summary"]["FulfillmentType"] = "AFN"
    ((code, answer),) = intake(amazon, json.dumps(note).encode())
    assert code == 200 and answer["accepted"] == 0 and "AFN" in answer["notes"][0]


def test_fba_inventory_is_a_count_at_the_mapped_amazon_location(amazon: Database) -> None:
    payload = json.loads((FIXTURES / "fba_inventory_availability_changes_payload.json").read_text())
    envelope = {  # the schema publishes no whole notification: the envelope of its fields
        "NotificationVersion": "1.0",
        "NotificationType": "FBA_INVENTORY_AVAILABILITY_CHANGES",
        "PayloadVersion": "1.0",
        "EventTime": "2024-03-01T10:00:00Z",
        "Payload": payload,
        "NotificationMetadata": {"NotificationId": "n-1", "PublishTime": "2024-03-01T10:00:01Z"},
    }
    body = json.dumps(envelope).encode()
    ((code, answer), (_, again)) = intake(amazon, body, body)
    assert code == 200 and answer["accepted"] == 1 and again["duplicate"] == 1
    assert "A2EUQ1WTGCTBG2 not mapped" in answer["notes"][0]
    assert stock(amazon, "AMZ-2", "FBA-US") == (50, 0)


def test_report_rows_with_an_item_cancelled_take_only_what_shipped(amazon: Database) -> None:
    header = (FIXTURES / "flat_file_all_orders_by_order_date_general.header.tsv").read_text()
    columns = header.rstrip("\n").split("\t")

    def row(**values: str) -> str:
        return "\t".join(values.get(c.replace("-", "_"), "") for c in columns)

    common = dict(
        amazon_order_id="444-4",
        purchase_date="2024-03-01T09:00:00+00:00",
        last_updated_date="2024-03-02T09:00:00+00:00",
        order_status="Shipped",
        fulfillment_channel="Merchant",
    )
    lines = [
        row(**common, sku="SellerSKUID1", item_status="Shipped", quantity="2"),
        row(**common, sku="NP-SHELL", item_status="Cancelled", quantity="1"),
    ]
    report = ("\n".join([header.rstrip("\n"), *lines]) + "\n").encode()
    ((code, _),) = intake(amazon, report)
    assert code == 200
    assert stock(amazon) == (-2, 0)
    assert stock(amazon, "AMZ-3") == (0, 0)


def test_raw_intake_needs_an_ingest_key(amazon: Database) -> None:
    body = change("Unshipped", "555-5")
    assert intake(amazon, body, key=None)[0][0] == 401
    assert amazon.reader.count_events() == 0
    unknown = intake(amazon, b"{}", fmt="no/such/format")
    assert unknown[0][0] == 202 and "unknown format" in unknown[0][1]["reason"]


def test_every_order_status_is_known_to_the_translator() -> None:
    from adapters.channels import marketplace

    known = marketplace.HELD | marketplace.ALL_SHIPPED | marketplace.NOTHING_HELD
    assert {s.lower() for s in STATUSES} <= known
