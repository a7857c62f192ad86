"""Consumer settings, from the environment (INVENTORY_KAFKA_*) or the command line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.kafka.outbox import DEFAULT_TOPIC

# topic -> payload format (see adapters/channels/formats.py); "shop" takes the webhook topic
# from the X-Shopify-Topic header, and an `x-format` header overrides any topic's format
DEFAULT_TOPICS = {
    "inventory.events": "contract",
    "shop.webhooks": "shop",
    "marketplace.orders": "marketplace",
    "pos.lines": "pos",
    "wms.receipts": "wms/receipt",
    "wms.transfers": "wms/transfer",
    "wms.snapshots": "wms/snapshot",
}


def parse_topics(text: str) -> dict[str, str]:
    """`topic=format,topic=format` (a bare topic carries contract events)."""
    found: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if item:
            topic, _, fmt = item.partition("=")
            found[topic.strip()] = fmt.strip() or "contract"
    return found


@dataclass
class ConsumerConfig:
    bootstrap: str
    group: str = "inventory-intake"
    topics: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TOPICS))
    dead_letter_topic: str | None = "inventory.deadletters"
    outbox_topic: str | None = DEFAULT_TOPIC
    relay: bool = False  # publish the outbox from the consumer's loop
    batch: int = 2000
    poll_ms: int = 500
    # production Kafka: keep the defaults (10 s / 3 s); tests use 1.5 s / 0.5 s for quick joins
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000
    max_message_bytes: int = 1 << 20
    dead_letter_max_bytes: int = 1 << 20
    # a message larger than this is still fetched (and dead-lettered), only more slowly
    max_partition_fetch_bytes: int = 16 << 20
    backoff_max_s: float = 30.0
    client_id: str = "inventory-intake"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsumerConfig:
        from adapters.config import env_settings

        source = env_settings(env)
        config = cls(bootstrap=source.kafka_bootstrap or "127.0.0.1:9092")
        if source.kafka_topics:
            config.topics = parse_topics(source.kafka_topics)
        config.group = source.kafka_group
        config.dead_letter_topic = source.kafka_deadletter_topic
        config.outbox_topic = source.kafka_outbox_topic
        config.batch = source.kafka_batch
        config.session_timeout_ms = source.kafka_session_timeout_ms
        config.heartbeat_interval_ms = source.kafka_heartbeat_ms
        config.max_message_bytes = source.kafka_max_message_bytes
        return config
