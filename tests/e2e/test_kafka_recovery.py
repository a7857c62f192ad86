"""Crash and outage proofs for `inventory consume`, run as a real process.

- SIGKILL in the middle of a run, restart: every event is in the ledger exactly once, the stock
  equals a clean fold of the same events, and the restarted consumer re-applies nothing (it
  resumes from the offsets stored with the events, not from Kafka's lagging commit).
- SIGTERM: the batch in hand is finished and committed (database and Kafka agree), exit 0.
- Two consumers in one group share the partitions and together apply everything once.
- Broker restart: the Tansu test broker keeps its log in memory only, so a restart loses the
  topics and the group's offsets.  What this proves is that the consumer survives the outage
  (backs off, reconnects, does not exit) and applies what is published afterwards exactly
  once; it cannot prove that a durable broker's log is resumed, which the SIGKILL test covers
  from the consumer's side.

The 100,000-message version of the SIGKILL run is `scripts/bench_consume.py --soak`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.structs import TopicPartition

from adapters.channels.store import load_offsets
from adapters.db.database import Database
from adapters.db.replay import verify
from adapters.kafka.broker import LocalBroker
from inventory.events import EventType, StockEvent, format_instant
from inventory.projection import project
from tests.e2e.test_kafka_consumer import broker, create_topics, produce, unique  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.filterwarnings("ignore:read_text is deprecated"),
    pytest.mark.filterwarnings("ignore:open_text is deprecated"),
]


def stream_of_events(count: int, seed: int, prefix: str = "k") -> list[StockEvent]:
    """A mixed, realistic stream: receipts, sales, returns, adjustments, counts, reservations."""
    rng = random.Random(seed)
    skus = [f"SKU-{n:03d}" for n in range(40)]
    places = ["WH-KASSEL", "WH-LEIPZIG", "ST-BERLIN-01", "ST-KOELN-02", "ST-MUENCHEN-03"]
    start = 1_780_000_000_000_000
    events = []
    for n in range(count):
        sku, place = rng.choice(skus), rng.choice(places)
        at = start + rng.randrange(0, 86_400_000_000)
        kind = rng.choices(
            ["receipt", "sale", "return", "adjustment", "count", "reservation", "release"],
            [30, 35, 5, 5, 3, 12, 10],
        )[0]
        quantity = rng.randint(1, 12)
        extra: dict[str, Any] = {}
        if kind == "adjustment":
            quantity = rng.choice([-1, 1]) * quantity
        if kind == "count":
            quantity = rng.randint(0, 200)
        if kind in ("reservation", "release"):
            extra["reservation_id"] = f"{prefix}-res-{rng.randrange(count // 20 + 1)}"
            kind = "reservation_release" if kind == "release" else kind
        events.append(
            StockEvent(f"{prefix}-{n}", EventType(kind), sku, place, quantity, at, **extra)
        )
    return events


def wire(events: list[StockEvent]) -> list[tuple[bytes, dict[str, str]]]:
    return [(json.dumps(e.content()).encode(), {}) for e in events]


def consume_process(url: str, bootstrap: str, topic: str, group: str, *extra: str) -> Any:
    # only the intake commands: other features' commands are not this test's business
    code = (
        "import argparse, sys; from adapters.cli import intake_commands as m; "
        "p = argparse.ArgumentParser(); m.register(p.add_subparsers()); "
        "a = p.parse_args(); sys.exit(a.func(a))"
    )
    command = [sys.executable, "-c", code, "consume", "--db", url, "--bootstrap", bootstrap]
    command += ["--topics", f"{topic}=contract", "--group", group, "--batch", "500"]
    command += ["--session-timeout-ms", "1500", "--heartbeat-ms", "500", *extra]
    env = {**os.environ, "INVENTORY_OUTBOX": "0", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def totals(output: str) -> dict[str, int]:
    line = [x for x in output.splitlines() if x.startswith("batches=")][-1]
    return {k: int(v) for k, v in (item.split("=") for item in line.split())}


def assert_ledger_is(db: Database, events: list[StockEvent]) -> None:
    assert db.reader.count_events() == len(events)
    expected = project(events, at=db.reader.clock())
    live = {(p.sku, p.location): p.visible() for p in db.reader.positions()}
    assert live == {key: p.visible() for key, p in expected.items() if key in live}
    assert all(p.visible() == (0, 0, 0) for key, p in expected.items() if key not in live)
    assert verify(db.engines) == []


def kafka_committed(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    probe = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    total = sum(probe.committed(TopicPartition(topic, p)) or 0 for p in range(partitions))
    probe.close()
    return total


def test_sigkill_mid_run_then_restart_applies_each_event_once(
    broker: LocalBroker,  # noqa: F811
    database: Database,
) -> None:
    events = stream_of_events(12_000, seed=5)
    topic, group = unique("sales"), unique("intake")
    create_topics(broker.bootstrap, topic, partitions=4)
    produce(broker.bootstrap, topic, wire(events))
    first = consume_process(database.url, broker.bootstrap, topic, group)
    wait_for(lambda: database.reader.count_events() >= 3_000, 60, "a third of the run")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    applied_at_kill = database.reader.count_events()
    assert 0 < applied_at_kill < len(events), "the kill must land mid-run"
    # the database holds exactly as many events as its offsets say were read
    assert sum(load_offsets(database, group).values()) == applied_at_kill

    second = consume_process(database.url, broker.bootstrap, topic, group, "--idle-exit", "2")
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err[-2000:]
    after = totals(out)
    assert after["duplicate"] == 0  # resumed exactly where the last transaction ended
    assert after["accepted"] == len(events) - applied_at_kill
    assert_ledger_is(database, events)


def test_sigterm_finishes_the_batch_and_commits(
    broker: LocalBroker,  # noqa: F811
    database: Database,
) -> None:
    events = stream_of_events(6_000, seed=9, prefix="t")
    topic, group = unique("sales"), unique("intake")
    create_topics(broker.bootstrap, topic, partitions=2)
    produce(broker.bootstrap, topic, wire(events))
    process = consume_process(database.url, broker.bootstrap, topic, group)
    wait_for(lambda: database.reader.count_events() >= 1_000, 60, "the first batches")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err[-2000:]
    applied = database.reader.count_events()
    assert totals(out)["accepted"] == applied
    recorded = sum(load_offsets(database, group).values())
    assert recorded == applied
    assert kafka_committed(broker.bootstrap, group, topic, 2) == recorded


def test_two_consumers_share_the_partitions(
    broker: LocalBroker,  # noqa: F811
    database: Database,
) -> None:
    events = stream_of_events(8_000, seed=11, prefix="s")
    topic, group = unique("sales"), unique("intake")
    create_topics(broker.bootstrap, topic, partitions=4)
    produce(broker.bootstrap, topic, wire(events))
    both = [
        consume_process(database.url, broker.bootstrap, topic, group, "--idle-exit", "3")
        for _ in range(2)
    ]
    results = []
    for process in both:
        out, err = process.communicate(timeout=90)
        assert process.returncode == 0, err[-2000:]
        results.append(totals(out))
    assert all(r["messages"] > 0 for r in results), results  # both had partitions
    assert sum(r["accepted"] for r in results) == len(events)
    assert_ledger_is(database, events)


def test_consumer_survives_a_broker_restart(database: Database) -> None:
    broker = LocalBroker()  # noqa: F811 - its own broker: this test restarts it
    broker.start()
    try:
        before, after = stream_of_events(3_000, 21, "b"), stream_of_events(1_000, 22, "a")
        topic, group = unique("sales"), unique("intake")
        create_topics(broker.bootstrap, topic, partitions=2)
        produce(broker.bootstrap, topic, wire(before))
        process = consume_process(database.url, broker.bootstrap, topic, group)
        wait_for(lambda: database.reader.count_events() == len(before), 60, "the first part")
        broker.stop()
        time.sleep(3)  # the consumer backs off and retries meanwhile
        assert process.poll() is None, "the consumer must not exit while the broker is away"
        broker.start()
        create_topics(broker.bootstrap, topic, partitions=2)
        produce(broker.bootstrap, topic, wire(after))
        total = len(before) + len(after)
        wait_for(lambda: database.reader.count_events() == total, 60, "the second part")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err[-2000:]
        assert totals(out)["accepted"] == total
        assert_ledger_is(database, before + after)
    finally:
        broker.stop()


def test_stream_helper_is_deterministic() -> None:
    assert stream_of_events(50, 1) == stream_of_events(50, 1)
    assert format_instant(stream_of_events(1, 1)[0].occurred_at).endswith("Z")
