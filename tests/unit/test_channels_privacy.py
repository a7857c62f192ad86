"""No personal value a channel payload carries (names, addresses, e-mails, phone numbers, free
text) reaches any field of the events its translator makes: the ledger cannot forget."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.channels.formats import read
from adapters.memory.uow import MemoryStore
from inventory.events import StockEvent
from inventory.ports import Message
from inventory.services.ingest import Translated, receive
from tests.conftest import at
from tests.unit.test_channels_translators import DATA, SETTINGS, catalog

# payload keys (JSON) and columns (CSV/TSV) whose values are about a person
PERSONAL_KEYS = {
    "email", "contact_email", "phone", "first_name", "last_name", "address1", "address2",
    "city", "zip", "province", "company", "browser_ip", "note", "customer_locale",
    "DestinationPostalCode", "BuyerEmail", "BuyerName",
    "buyer-email", "buyer-name", "buyer-phone-number", "recipient-name", "ship-address-1",
    "ship-address-2", "ship-city", "ship-state", "ship-postal-code", "ship-phone-number",
}  # fmt: skip
# objects that are about a person as a whole
PERSONAL_OBJECTS = {"customer", "shipping_address", "billing_address", "BuyerInfo"}

FIXTURES = [
    ("shop/orders/create", "shop_orders_create.json"),
    ("shop/fulfillments/create", "shop_fulfillments_create.json"),
    ("shop/refunds/create", "shop_refunds_create.json"),
    ("marketplace", "amazon_order_change.json"),
    ("marketplace", "amazon_orders_report.tsv"),
    ("pos", "pos_lines.csv"),
    ("wms/snapshot", "wms_snapshot.csv"),
]


ORDER_BEFORE = [
    ("shop/orders/create", (DATA / "shop_orders_create.json").read_bytes()),
    ("shop/fulfillments/create", (DATA / "shop_fulfillments_create.json").read_bytes()),
]


def leaves(value: Any, personal: bool = False, key: str = "") -> Iterator[str]:
    """Every personal leaf value of a JSON document, as text."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from leaves(item, personal or name in PERSONAL_OBJECTS, name)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, personal, key)
    elif value is not None and not isinstance(value, bool) and (personal or key in PERSONAL_KEYS):
        yield str(value)


def personal_values(body: bytes) -> set[str]:
    if body.lstrip()[:1] in (b"{", b"["):
        found = set(leaves(json.loads(body)))
    else:
        text = body.decode("utf-8-sig")
        delimiter = "\t" if "\t" in text.splitlines()[0] else ","
        rows = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        found = {v for row in rows for k, v in row.items() if k in PERSONAL_KEYS and v}
    # two-letter country codes and the like would match anything
    return {v for v in found if len(v.strip()) >= 4}


def event_texts(events: list[StockEvent]) -> list[str]:
    return [str(value) for event in events for value in event.content().values()]


def assert_private(fmt: str, body: bytes) -> list[StockEvent]:
    """Translate and book the message (order facts through the order memory, in memory), then
    look for the payload's personal values in every event and in the stored order facts."""
    store = MemoryStore(clock=lambda: at("2026-06-01T12:00:00Z"))
    # a refund or a cancellation means something only for an order the memory knows
    prelude = ORDER_BEFORE if fmt in ("shop/refunds/create", "shop/orders/cancelled") else []
    for part_fmt, part in [*prelude, (fmt, body)]:
        found = read(part_fmt, part, catalog(), SETTINGS)
        message = Message("test", 0, 0, part_fmt, part)
        batch = [Translated(message, found.events, orders=found.orders)]
        report = receive(store.unit_of_work, batch)
        assert report.dead == [], f"{part_fmt}: {report.dead}"
    events = [recorded.event for recorded in store.events()]
    assert events, f"{fmt}: the fixture should give events"
    texts = [*event_texts(events), repr(store.state.orders)]
    leaked = {v for v in personal_values(body) for text in texts if v in text}
    assert leaked == set(), f"{fmt}: personal values in events or order facts: {sorted(leaked)}"
    return events


@pytest.mark.parametrize(("fmt", "name"), FIXTURES)
def test_the_real_fixtures_give_events_without_personal_values(fmt: str, name: str) -> None:
    assert_private(fmt, (DATA / name).read_bytes())


def test_the_fixtures_do_carry_personal_values() -> None:
    """The check above has something to find: names, e-mails, addresses, postal codes."""
    order = personal_values((DATA / "shop_orders_create.json").read_bytes())
    assert {"mia.schneider@example.com", "Schneider", "Friedrich-Ebert-Str. 12"} <= order
    assert "04109" in personal_values((DATA / "amazon_order_change.json").read_bytes())
    assert "Leipzig" in personal_values((DATA / "amazon_orders_report.tsv").read_bytes())


def test_free_text_with_a_name_stays_out_of_cancellations_and_returns() -> None:
    order = json.loads((DATA / "shop_orders_create.json").read_bytes())
    order["shipping_address"]["phone"] = "+49 561 1234567"
    order.update(cancelled_at="2026-05-04T12:00:00+02:00", cancel_reason="Mia Schneider called")
    cancelled = assert_private("shop/orders/cancelled", json.dumps(order).encode())
    assert all("Mia" not in (e.reason or "") for e in cancelled)
    refund = json.loads((DATA / "shop_refunds_create.json").read_bytes())
    refund["note"] = "Mia Schneider, +49 561 1234567: wrong size"
    returned = assert_private("shop/refunds/create", json.dumps(refund).encode())
    assert "Mia" not in json.dumps(event_texts(returned))


def test_a_report_with_buyer_columns_gives_events_without_them() -> None:
    text = (DATA / "amazon_orders_report.tsv").read_text()
    lines = text.splitlines()
    extra = ["buyer-email", "buyer-name", "buyer-phone-number", "ship-address-1"]
    values = ["jonas.k@example.net", "Jonas Krüger", "+49 341 5550123", "Karl-Liebknecht-Str. 5"]
    widened = ["\t".join([lines[0], *extra])]
    widened += ["\t".join([line, *values]) for line in lines[1:]]
    body = ("\n".join(widened) + "\n").encode()
    assert set(values) <= personal_values(body)
    assert_private("marketplace", body)
