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
from adapters.channels.formats import translate
from adapters.channels.store import IMPORT_COLUMNS
from inventory.events import EventType
from inventory.projection import project
from tests.conftest import at

DATA = Path(__file__).parent / "data" / "channels"
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


def test_shop_order_reserves_each_line_at_the_default_location() -> None:
    events = run("shop/orders/create", "shop_orders_create.json")
    assert [(e.type, e.sku, e.location, e.quantity) for e in events] == [
        (EventType.RESERVATION, "SOCK-MER-4245", "WH-KASSEL", 2),
        (EventType.RESERVATION, "SHELL-BLU-M", "WH-KASSEL", 1),
    ]
    assert events[0].event_id == "shop:5821749100873:14530512388297:reservation"
    assert events[0].reservation_id == "shop:order:5821749100873"
    assert events[0].occurred_at == at("2026-05-04T08:15:42Z")
    assert events[0].channel == "web" and events[0].reference == "#1042"


def test_shop_resent_webhook_gives_the_same_events() -> None:
    assert run("shop/orders/create", "shop_orders_create.json") == run(
        "shop/orders/create", "shop_orders_create.json"
    )


def test_shop_cancel_releases_every_line() -> None:
    order = json.loads(body("shop_orders_create.json"))
    order.update(cancelled_at="2026-05-04T12:00:00+02:00", cancel_reason="customer")
    events = translate("shop/orders/cancelled", json.dumps(order).encode(), catalog(), SETTINGS)
    assert {(e.type, e.sku, e.quantity, e.reason) for e in events} == {
        (EventType.RESERVATION_RELEASE, "SOCK-MER-4245", 2, "customer"),
        (EventType.RESERVATION_RELEASE, "SHELL-BLU-M", 1, "customer"),
    }
    placed = run("shop/orders/create", "shop_orders_create.json")
    stock = project(placed + events)
    assert all(p.reserved == 0 for p in stock.values())


def test_shop_fulfilment_and_refund_with_restock() -> None:
    fulfilled = run("shop/fulfillments/create", "shop_fulfillments_create.json")
    assert [(e.type, e.location, e.quantity) for e in fulfilled] == [
        (EventType.FULFILMENT, "WH-LEIPZIG", 2)
    ]
    refund = run("shop/refunds/create", "shop_refunds_create.json")
    assert [(e.type, e.sku, e.location, e.quantity) for e in refund] == [
        (EventType.RETURN, "SOCK-MER-4245", "WH-LEIPZIG", 1),
        (EventType.RESERVATION_RELEASE, "SHELL-BLU-M", "WH-KASSEL", 1),
    ]


def test_shop_order_lifecycle_nets_out_in_stock() -> None:
    """Placed at Leipzig, shipped, one unit returned: on hand -2 + 1, nothing held."""
    order = json.loads(body("shop_orders_create.json"))
    order["location_id"] = 71206535369
    order["line_items"] = order["line_items"][:1]
    placed = translate("shop/orders/create", json.dumps(order).encode(), catalog(), SETTINGS)
    shipped = run("shop/fulfillments/create", "shop_fulfillments_create.json")
    returned = run("shop/refunds/create", "shop_refunds_create.json")[:1]
    stock = project(placed + shipped + returned)[("SOCK-MER-4245", "WH-LEIPZIG")]
    assert (stock.on_hand, stock.reserved) == (-1, 0)


def test_shop_unknown_variant_names_the_line() -> None:
    order = json.loads(body("shop_orders_create.json"))
    order["line_items"][1]["variant_id"] = 1
    order["line_items"][1]["sku"] = "NOPE"
    with pytest.raises(TranslationError) as caught:
        translate("shop/orders/create", json.dumps(order).encode(), catalog(), SETTINGS)
    assert caught.value.field == "line_items[1]" and caught.value.unknown_sku
    assert "variant 1" in caught.value.reason


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda o: o.pop("id"), "id", "required"),
        (lambda o: o.update(created_at="yesterday"), "created_at", "RFC 3339"),
        (lambda o: o["line_items"][0].update(quantity="two"), "line_items[0].quantity", "whole"),
        (lambda o: o["line_items"][0].update(quantity=0), "line_items[0].quantity", "greater"),
        (lambda o: o.update(line_items={}), "line_items", "list"),
    ],
)
def test_shop_bad_order_names_field_and_reason(mutate, field: str, reason: str) -> None:
    order = json.loads(body("shop_orders_create.json"))
    mutate(order)
    with pytest.raises(TranslationError) as caught:
        translate("shop/orders/create", json.dumps(order).encode(), catalog(), SETTINGS)
    assert caught.value.field == field and reason in caught.value.reason


def test_marketplace_notification_reserves_by_seller_sku() -> None:
    events = run("marketplace", "amazon_order_change.json")
    assert [(e.type, e.sku, e.location, e.quantity) for e in events] == [
        (EventType.RESERVATION, "SHELL-BLU-M", "WH-VENLO", 2),
        (EventType.RESERVATION, "SOCK-MER-4245", "WH-VENLO", 1),
    ]
    assert events[0].event_id == "mkt:028-4417795-6318741:SHELL-BLU-M:reservation"


def test_marketplace_report_rows_ship_cancel_and_skip_fba() -> None:
    events = run("marketplace", "amazon_orders_report.tsv")
    kinds = sorted((e.reference, e.type.value, e.sku, e.quantity) for e in events)
    assert kinds == [
        ("028-4417795-6318741", "fulfilment", "SHELL-BLU-M", 2),
        ("028-4417795-6318741", "fulfilment", "SOCK-MER-4245", 1),
        ("028-4417795-6318741", "reservation", "SHELL-BLU-M", 2),
        ("028-4417795-6318741", "reservation", "SOCK-MER-4245", 1),
        ("305-1182734-9921160", "reservation", "SHELL-BLU-M", 1),  # found by ASIN
        ("305-1182734-9921160", "reservation_release", "SHELL-BLU-M", 1),
    ]
    # the notification and the report name the same reservation: no double count
    both = project(run("marketplace", "amazon_order_change.json") + events)
    assert both[("SHELL-BLU-M", "WH-VENLO")].visible() == (-2, 0, 0)


def test_marketplace_unknown_status_is_refused() -> None:
    payload = json.loads(body("amazon_order_change.json"))
    payload["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = "Lost"
    with pytest.raises(TranslationError, match="OrderStatus: unknown order status"):
        translate("marketplace", json.dumps(payload).encode(), catalog(), SETTINGS)


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
        ["contract", "shop/orders/create", "marketplace", "pos", "wms/receipt", "wms/snapshot"]
    ),
)
def test_any_bytes_give_events_or_a_translation_error(raw: bytes, fmt: str) -> None:
    """No payload may crash a translator: it is either events or a named reason."""
    try:
        translate(fmt, raw, catalog(), SETTINGS)
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
    for fmt in ("shop/orders/create", "shop/refunds/create", "marketplace", "pos", "wms/transfer"):
        with contextlib.suppress(TranslationError):
            translate(fmt, raw, catalog(), SETTINGS)
