"""Translators: realistic shop, marketplace, POS and WMS payloads to contract events."""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.channels.common import ChannelSettings, SkuCatalog, TranslationError
from adapters.channels.formats import read, translate
from adapters.channels.store import IMPORT_COLUMNS
from inventory.channel_orders import settle_facts
from inventory.events import EventType
from inventory.projection import project
from tests.conftest import at

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"
SETTINGS = ChannelSettings(
    shop_default_location="WH-KASSEL",
    shop_locations={"71206535369": "WH-LEIPZIG"},
    marketplace_location="WH-VENLO",
)


def load_catalog() -> SkuCatalog:
    found = SkuCatalog()
    with open(DATA / "skus.csv", newline="") as stream:
        for row in csv.DictReader(stream):
            found.add("sku", row["sku"], row["sku"])
            for kind, names in IMPORT_COLUMNS.items():
                for name in names:
                    if row.get(name):
                        found.add(kind, row[name], row["sku"])
    return found


CATALOG = load_catalog()


def catalog() -> SkuCatalog:
    return CATALOG


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def run(fmt: str, name: str) -> list:
    return translate(fmt, body(name), catalog(), SETTINGS)


def book(*messages: tuple[str, bytes]) -> list:
    """The events the order memory books for messages arriving in this order."""
    orders: dict = {}
    events = []
    for fmt, raw in messages:
        for facts in read(fmt, raw, catalog(), SETTINGS).orders:
            key = (facts.channel, facts.order_id)
            orders[key], booked = settle_facts(orders.get(key), facts, 0)
            events.extend(booked)
    return events


def msg(fmt: str, name: str) -> tuple[str, bytes]:
    return fmt, body(name)


def test_shop_order_reserves_each_line_at_the_default_location() -> None:
    events = book(msg("shopify/orders/create", "shop_orders_create.json"))
    assert [(e.type, e.sku, e.location, e.quantity) for e in events] == [
        (EventType.RESERVATION, "SHELL-BLU-M", "WH-KASSEL", 1),
        (EventType.RESERVATION, "SOCK-MER-4245", "WH-KASSEL", 2),
    ]
    assert events[1].event_id == "shopify:5821749100873:SOCK-MER-4245:WH-KASSEL:reserve:2"
    assert events[1].reservation_id == "shopify:5821749100873"
    assert events[1].occurred_at == at("2026-05-04T08:15:43Z")  # the order's updated_at
    assert events[1].channel == "web" and events[1].reference == "#1042"


def test_shop_resent_webhook_books_nothing_more() -> None:
    placed = msg("shopify/orders/create", "shop_orders_create.json")
    assert book(placed) == book(placed, placed)
    assert book(placed) == book(msg("shop/orders/create", "shop_orders_create.json"))


def test_shop_cancel_releases_every_line() -> None:
    order = json.loads(body("shop_orders_create.json"))
    order.update(cancelled_at="2026-05-04T12:00:00+02:00", updated_at="2026-05-04T12:00:00+02:00")
    cancelled = ("shopify/orders/cancelled", json.dumps(order).encode())
    events = book(msg("shopify/orders/create", "shop_orders_create.json"), cancelled)
    assert {(e.type, e.sku, e.quantity) for e in events[2:]} == {
        (EventType.RESERVATION_RELEASE, "SOCK-MER-4245", 2),
        (EventType.RESERVATION_RELEASE, "SHELL-BLU-M", 1),
    }
    assert all(p.reserved == 0 for p in project(events).values())
    assert book(cancelled) == []  # cancelled before anything was held: nothing to book


def test_shop_fulfilment_and_refund_with_restock() -> None:
    events = book(
        msg("shopify/orders/create", "shop_orders_create.json"),
        msg("shopify/fulfillments/create", "shop_fulfillments_create.json"),
        msg("shopify/refunds/create", "shop_refunds_create.json"),
    )
    stock = project(events)
    # the socks were held at Kassel and shipped from Leipzig; one came back to Leipzig
    assert stock[("SOCK-MER-4245", "WH-KASSEL")].visible() == (0, 0, 0)
    assert stock[("SOCK-MER-4245", "WH-LEIPZIG")].visible() == (-1, 0, 0)
    # the shell never shipped: the refund's "cancel" released it
    assert stock[("SHELL-BLU-M", "WH-KASSEL")].visible() == (0, 0, 0)


def test_shop_unknown_variant_names_the_line() -> None:
    order = json.loads(body("shop_orders_create.json"))
    order["line_items"][1]["variant_id"] = 1
    order["line_items"][1]["sku"] = "NOPE"
    with pytest.raises(TranslationError) as caught:
        read("shopify/orders/create", json.dumps(order).encode(), catalog(), SETTINGS)
    assert caught.value.field == "line_items[1]" and caught.value.unknown_sku
    assert "variant 1" in caught.value.reason


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda o: o.pop("id"), "id", "required"),
        (lambda o: o.update(updated_at="yesterday"), "updated_at", "RFC 3339"),
        (lambda o: o["line_items"][0].update(quantity="two"), "line_items[0].quantity", "whole"),
        (lambda o: o["line_items"][0].update(quantity=0), "line_items[0].quantity", "greater"),
        (lambda o: o.update(line_items={}), "line_items", "list"),
        (lambda o: o.update(location_id=42), "location_id", "unmapped Shopify location 42"),
    ],
)
def test_shop_bad_order_names_field_and_reason(mutate, field: str, reason: str) -> None:
    order = json.loads(body("shop_orders_create.json"))
    mutate(order)
    with pytest.raises(TranslationError) as caught:
        read("shopify/orders/create", json.dumps(order).encode(), catalog(), SETTINGS)
    assert caught.value.field == field and reason in caught.value.reason


def test_marketplace_notification_reserves_by_seller_sku() -> None:
    events = book(msg("marketplace", "amazon_order_change.json"))
    assert [(e.type, e.sku, e.location, e.quantity) for e in events] == [
        (EventType.RESERVATION, "SHELL-BLU-M", "WH-VENLO", 2),
        (EventType.RESERVATION, "SOCK-MER-4245", "WH-VENLO", 1),
    ]
    assert events[0].event_id == "amazon:028-4417795-6318741:SHELL-BLU-M:WH-VENLO:reserve:2"


def test_marketplace_report_rows_ship_cancel_and_skip_fba() -> None:
    translation = read("marketplace", body("amazon_orders_report.tsv"), catalog(), SETTINGS)
    assert any("171-6620193-0553127 is fulfilled by Amazon" in n for n in translation.notes)
    events = book(msg("marketplace", "amazon_orders_report.tsv"))
    kinds = sorted((e.reference, e.type.value, e.sku, e.quantity) for e in events)
    assert kinds == [
        ("028-4417795-6318741", "fulfilment", "SHELL-BLU-M", 2),
        ("028-4417795-6318741", "fulfilment", "SOCK-MER-4245", 1),
        ("028-4417795-6318741", "reservation", "SHELL-BLU-M", 2),  # keeps the line at zero
        ("028-4417795-6318741", "reservation", "SOCK-MER-4245", 1),
    ]  # the cancelled order (found by ASIN) never held anything: nothing to book
    # the notification (older) and the report name the same order: no double count
    both = project(
        book(
            msg("marketplace", "amazon_order_change.json"),
            msg("marketplace", "amazon_orders_report.tsv"),
        )
    )
    assert both[("SHELL-BLU-M", "WH-VENLO")].visible() == (-2, 0, 0)


def test_marketplace_unknown_status_is_refused() -> None:
    payload = json.loads(body("amazon_order_change.json"))
    payload["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = "Lost"
    with pytest.raises(TranslationError, match="OrderStatus: unknown order status"):
        read("marketplace", json.dumps(payload).encode(), catalog(), SETTINGS)


def test_pos_csv_sales_and_returns() -> None:
    events = run("pos", "pos_lines.csv")
    assert [(e.event_id, e.type.value, e.sku, e.location, e.quantity) for e in events] == [
        ("pos:ST-KASSEL-01:3:000418:1", "sale", "SOCK-MER-4245", "ST-KASSEL-01", 2),
        ("pos:ST-KASSEL-01:3:000418:2", "sale", "SHELL-BLU-M", "ST-KASSEL-01", 1),
        ("pos:ST-KASSEL-01:1:000419:1", "return", "SOCK-MER-4245", "ST-KASSEL-01", 1),
    ]


def test_pos_json_line_and_csv_line_are_the_same_event() -> None:
    line = {
        "store": "ST-KASSEL-01",
        "till": 3,
        "receipt": "000418",
        "line": 1,
        "barcode": "4006381333931",
        "qty": 2,
        "time": "2026-05-04T11:02:13+02:00",
    }
    from_json = translate("pos", json.dumps(line).encode(), catalog(), SETTINGS)
    assert from_json == run("pos", "pos_lines.csv")[:1]


def test_pos_csv_error_names_the_file_line() -> None:
    text = body("pos_lines.csv").decode().replace("4006381333948", "9999999999999")
    with pytest.raises(TranslationError) as caught:
        translate("pos", text.encode(), catalog(), SETTINGS)
    assert caught.value.field == "row 3.barcode" and caught.value.unknown_sku


def test_wms_snapshot_counts_with_gtin_or_sku() -> None:
    events = run("wms/snapshot", "wms_snapshot.csv")
    assert [(e.type, e.sku, e.location, e.quantity) for e in events] == [
        (EventType.COUNT, "SOCK-MER-4245", "WH-KASSEL", 120),
        (EventType.COUNT, "SHELL-BLU-M", "WH-KASSEL", 35),
        (EventType.COUNT, "SHELL-BLU-M", "WH-LEIPZIG", 0),
    ]


def test_wms_receipt_and_transfer() -> None:
    receipt = (
        b"warehouse,receipt_id,line,gtin,qty,received_at\n"
        b"WH-VENLO,GRN-88,1,4006381333931,48,2026-05-02T07:00:00Z\n"
    )
    transfer = (
        b"transfer_id,direction,from,to,line,sku,qty,time\n"
        b"TR-9,out,WH-VENLO,ST-KASSEL-01,1,SOCK-MER-4245,12,2026-05-02T09:00:00Z\n"
        b"TR-9,in,WH-VENLO,ST-KASSEL-01,1,SOCK-MER-4245,12,2026-05-03T09:00:00Z\n"
    )
    events = translate("wms/receipt", receipt, catalog(), SETTINGS) + translate(
        "wms/transfer", transfer, catalog(), SETTINGS
    )
    stock = project(events)
    assert stock[("SOCK-MER-4245", "WH-VENLO")].on_hand == 36
    assert stock[("SOCK-MER-4245", "ST-KASSEL-01")].visible() == (12, 0, 0)


def test_contract_event_with_unknown_sku_is_refused_when_skus_are_known() -> None:
    event = {
        "event_id": "e1",
        "type": "receipt",
        "sku": "NOT-A-SKU",
        "location": "WH-KASSEL",
        "quantity": 1,
        "occurred_at": "2026-05-01T00:00:00Z",
    }
    with pytest.raises(TranslationError, match="sku: unknown SKU"):
        translate("contract", json.dumps(event).encode(), catalog(), SETTINGS)
    assert translate("contract", json.dumps(event).encode(), SkuCatalog(), SETTINGS)


@given(
    st.binary(max_size=300),
    st.sampled_from(
        [
            "contract",
            "shopify/orders/create",
            "shopify/orders/edited",
            "marketplace",
            "pos",
            "wms/receipt",
            "wms/snapshot",
            "shiphero",
        ]
    ),
)
def test_any_bytes_give_events_or_a_translation_error(raw: bytes, fmt: str) -> None:
    """No payload may crash a translator: it is either events or a named reason."""
    try:
        read(fmt, raw, catalog(), SETTINGS)
    except TranslationError as error:
        assert str(error)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_any_json_shape_gives_events_or_a_translation_error(value) -> None:
    raw = json.dumps(value).encode()
    for fmt in FUZZED:
        with contextlib.suppress(TranslationError):
            for facts in read(fmt, raw, catalog(), SETTINGS).orders:
                settle_facts(None, facts, 0)


FUZZED = (
    "shiphero",
    "shopify/orders/create",
    "shopify/orders/edited",
    "shopify/refunds/create",
    "shopify/fulfillments/update",
    "shopify/inventory_levels/update",
    "marketplace",
    "pos",
    "wms/transfer",
)


SHIPHERO = Path(__file__).resolve().parents[1] / "fixtures" / "channels" / "shiphero"
ARRIVED = {"x-inventory-received-at": "2026-06-01T12:00:00Z"}


def shiphero_item(**changes: object) -> bytes:
    note = json.loads((SHIPHERO / "inventory_update.json").read_bytes())
    note["inventory"][0]["updated_warehouse"].update(changes)
    return json.dumps(note).encode()


def test_shiphero_counts_on_hand_of_the_warehouse_by_id_or_uuid() -> None:
    by_uuid = ChannelSettings(shiphero_locations={"V2FyZWhvdXNlJHIKby": "WH-3PL"})
    found = read(
        "shiphero",
        shiphero_item(warehouse_id="999", on_hand=0),
        SkuCatalog(),
        by_uuid,
        {"X-Shiphero-Message-ID": "m1", **ARRIVED},
    )
    (event,) = found.events
    assert (event.type, event.sku, event.location, event.quantity) == (
        EventType.COUNT,
        "string",
        "WH-3PL",
        0,
    )
    assert event.event_id == "shiphero:m1:999:string"
    assert event.occurred_at == at("2026-06-01T12:00:00Z")
    assert found.delivery_timed == {event.event_id}


def test_shiphero_skips_virtual_items_and_other_webhook_types() -> None:
    settings = ChannelSettings(shiphero_locations={"12345": "WH-3PL"})
    virtual = json.loads(shiphero_item())
    virtual["inventory"][0]["virtual"] = True
    found = read("shiphero", json.dumps(virtual).encode(), SkuCatalog(), settings, ARRIVED)
    assert found.events == [] and "virtual product string" in found.notes[0]
    other = read("shiphero", b'{"webhook_type": "Shipment Update"}', SkuCatalog(), settings)
    assert other.events == [] and "Shipment Update: not about stock" in other.notes[0]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"on_hand": "-3"}, "inventory[0].updated_warehouse.on_hand: must be greater than zero"),
        ({"on_hand": "4.5"}, "inventory[0].updated_warehouse.on_hand: expected a whole number"),
        ({"warehouse_id": None}, "inventory[0].updated_warehouse.warehouse_id: required"),
    ],
)
def test_shiphero_bad_warehouse_figures_are_named(changes: dict, reason: str) -> None:
    settings = ChannelSettings(shiphero_locations={"12345": "WH-3PL"})
    with pytest.raises(TranslationError) as refused:
        read("shiphero", shiphero_item(**changes), SkuCatalog(), settings, ARRIVED)
    assert str(refused.value) == reason
