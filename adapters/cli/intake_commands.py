"""Intake commands: consume, deadletters list|retry, skus import, outbox relay."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

import orjson

from adapters.cli import add_db_option, not_text, readable
from adapters.kafka.config import ConsumerConfig, parse_topics
from inventory.events import format_instant


def register(subparsers: Any) -> None:
    consume = subparsers.add_parser("consume", help="apply channel messages from Kafka topics")
    consume.add_argument("--bootstrap", help="host:port[,...] (default $INVENTORY_KAFKA_BOOTSTRAP)")
    consume.add_argument("--group", help="consumer group (default inventory-intake)")
    consume.add_argument(
        "--topics", help="topic=format,... (default $INVENTORY_KAFKA_TOPICS, else the standard set)"
    )
    consume.add_argument("--batch", type=int, help="messages per ledger transaction")
    consume.add_argument(
        "--session-timeout-ms",
        type=int,
        dest="session_timeout_ms",
        help="group session timeout (default $INVENTORY_KAFKA_SESSION_TIMEOUT_MS, else 10000)",
    )
    consume.add_argument(
        "--heartbeat-ms",
        type=int,
        dest="heartbeat_ms",
        help="Kafka heartbeat interval (default $INVENTORY_KAFKA_HEARTBEAT_MS, else 3000)",
    )
    consume.add_argument("--relay", action="store_true", help="also publish the outbox feed")
    consume.add_argument("--idle-exit", type=float, help="exit after this many quiet seconds")
    add_db_option(consume)
    consume.set_defaults(func=cmd_consume)

    letters = subparsers.add_parser("deadletters", help="messages the intake could not apply")
    actions = letters.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="show dead letters")
    listing.add_argument("--status", default="open", help="open, applied or all")
    listing.add_argument("--limit", type=int, default=100, help="show at most this many")
    listing.add_argument("--json", action="store_true", help="one JSON object per letter")
    add_db_option(listing)
    listing.set_defaults(func=cmd_deadletters_list)
    retry = actions.add_parser("retry", help="apply open dead letters again (after a fix)")
    retry.add_argument("ids", nargs="*", type=int, help="dead letter ids (default: all open)")
    add_db_option(retry)
    retry.set_defaults(func=cmd_deadletters_retry)

    skus = subparsers.add_parser("skus", help="map foreign product ids to SKUs")
    sku_actions = skus.add_subparsers(dest="action", required=True)
    imports = sku_actions.add_parser(
        "import", help="CSV: sku[,gtin][,variant_id][,asin][,seller_sku]"
    )
    imports.add_argument("file", help="CSV file ('-' for stdin)")
    add_db_option(imports)
    imports.set_defaults(func=cmd_skus_import)

    outbox = subparsers.add_parser("outbox", help="the availability_changed feed")
    outbox_actions = outbox.add_subparsers(dest="action", required=True)
    relay = outbox_actions.add_parser("relay", help="publish outbox rows to Kafka")
    relay.add_argument("--bootstrap", help="host:port[,...] (default $INVENTORY_KAFKA_BOOTSTRAP)")
    relay.add_argument("--topic", help="default $INVENTORY_KAFKA_OUTBOX_TOPIC or the standard one")
    relay.add_argument("--once", action="store_true", help="publish what is there, then exit")
    add_db_option(relay)
    relay.set_defaults(func=cmd_outbox_relay)


def _config(args: argparse.Namespace) -> ConsumerConfig:
    config = ConsumerConfig.from_env()
    if getattr(args, "bootstrap", None):
        config.bootstrap = args.bootstrap
    if getattr(args, "group", None):
        config.group = args.group
    if getattr(args, "topics", None):
        config.topics = parse_topics(args.topics)
    if getattr(args, "batch", None):
        config.batch = args.batch
    if getattr(args, "session_timeout_ms", None):
        config.session_timeout_ms = args.session_timeout_ms
        # the heartbeat must stay well inside the session (Kafka's advice: a third of it)
        config.heartbeat_interval_ms = min(
            config.heartbeat_interval_ms, args.session_timeout_ms // 3
        )
    if getattr(args, "heartbeat_ms", None):
        config.heartbeat_interval_ms = args.heartbeat_ms
    config.relay = bool(getattr(args, "relay", False))
    return config


def _broker_given(args: argparse.Namespace, command: str) -> bool:
    """A broker named on the command line or in the environment; else say how to name one."""
    from adapters.config import env_settings

    if getattr(args, "bootstrap", None) or env_settings().kafka_bootstrap:
        return True
    print(
        f"{command}: no Kafka broker given: pass --bootstrap host:port[,...] or set "
        "INVENTORY_KAFKA_BOOTSTRAP",
        file=sys.stderr,
    )
    return False


def cmd_consume(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaConfigurationError

    from adapters.db.database import Database
    from adapters.kafka.consumer import IntakeConsumer

    if not _broker_given(args, "consume"):
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    config = _config(args)
    topics = ", ".join(f"{topic}={fmt}" for topic, fmt in config.topics.items())
    print(
        f"consume: connecting to Kafka at {config.bootstrap} as group {config.group}; "
        f"topics {topics}",
        file=sys.stderr,
        flush=True,
    )
    intake = IntakeConsumer(Database(args.db), config)
    intake.install_signals()
    try:
        totals = intake.run(idle_exit_s=args.idle_exit)
    except KafkaConfigurationError as error:
        print(f"consume: {error}", file=sys.stderr)
        return 2
    print(
        f"batches={totals.batches} messages={totals.messages} accepted={totals.accepted} "
        f"duplicate={totals.duplicate} dead={totals.dead}"
    )
    return 0


def cmd_deadletters_list(args: argparse.Namespace) -> int:
    from adapters.channels.store import list_dead_letters
    from adapters.db.database import Database

    status = None if args.status == "all" else args.status
    rows = list_dead_letters(Database(args.db), status, args.limit)
    if not rows and not args.json:
        print(f"dead letters ({args.status}): none")
    for row in rows:
        if args.json:
            body = {
                "id": row.id,
                "source": row.source,
                "partition": row.partition,
                "offset": row.offset,
                "format": row.format,
                "status": row.status,
                "reason": row.reason,
                "bytes": len(row.payload),
                "received_at": format_instant(row.received_at),
                "payload_head": bytes(row.payload[:200]).decode("utf-8", "replace"),
            }
            print(orjson.dumps(body).decode())
        else:
            print(
                f"{row.id:>6} {row.status:<8} {row.source}/{row.partition}@{row.offset} "
                f"{row.format} {len(row.payload)}B  {row.reason}"
            )
    return 0


def cmd_deadletters_retry(args: argparse.Namespace) -> int:
    from adapters.channels.store import Translator, retry_dead_letters
    from adapters.db.database import Database

    db = Database(args.db)
    applied, failing = retry_dead_letters(db, Translator(db), args.ids or None)
    print(f"applied={applied} still_failing={failing}")
    return 1 if failing else 0


def cmd_skus_import(args: argparse.Namespace) -> int:
    from adapters.channels.store import import_skus
    from adapters.db.database import Database

    readable(args.file)
    db = Database(args.db)
    try:
        if args.file == "-":
            count = import_skus(db, sys.stdin)
        else:
            with open(args.file, encoding="utf-8-sig", newline="") as stream:
                count = import_skus(db, stream)
    except UnicodeDecodeError as error:
        raise not_text(args.file, error) from None
    except ValueError as error:
        print(f"{args.file}: {error}", file=sys.stderr)
        return 2
    print(f"imported {count} ids")
    return 0


def cmd_outbox_relay(args: argparse.Namespace) -> int:
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    from adapters.db.database import Database
    from adapters.kafka.outbox import DEFAULT_TOPIC, relay_once

    if not _broker_given(args, "outbox relay"):
        return 2
    config = _config(args)
    topic = args.topic or config.outbox_topic or DEFAULT_TOPIC
    print(f"outbox relay: publishing to {topic} at {config.bootstrap}", file=sys.stderr)
    db = Database(args.db)
    producer = KafkaProducer(bootstrap_servers=config.bootstrap, acks="all", linger_ms=5)
    published = 0
    while True:
        try:
            sent = relay_once(db, producer, topic)
        except KafkaError as error:
            print(f"publish failed ({error}); retrying", file=sys.stderr)
            time.sleep(2)
            continue
        published += sent
        if not sent:
            if args.once:
                break
            time.sleep(0.2)
    producer.close()
    print(f"published {published}")
    return 0
