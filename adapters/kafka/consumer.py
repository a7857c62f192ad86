"""`inventory consume`: a Kafka consumer group feeding the ledger, exactly once per event.

Per batch: poll, translate, then ONE database transaction appends the events, records the
dead letters and stores each partition's next offset; only after it commits is the offset
committed to Kafka.  The database's offsets are the truth: on every partition assignment the
consumer seeks to them, so a consumer killed at any instant resumes exactly where its last
transaction ended, and Kafka's committed offset is only a hint (used when the database has
none).  Event ids derived from the sources' own ids make any redelivery a no-op besides.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer
from kafka.errors import KafkaConfigurationError, KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy.exc import OperationalError

from adapters.channels.common import RECEIVED_AT
from adapters.channels.formats import format_of
from adapters.channels.store import (
    BatchReport,
    Message,
    Translator,
    apply_messages,
    decode_headers,
    load_offsets,
    mark_published,
    unpublished_dead_letters,
)
from adapters.db.database import Database
from adapters.kafka.config import ConsumerConfig
from adapters.kafka.outbox import relay_once
from inventory.events import format_instant
from inventory.ports import TransientFailure
from inventory.services.ingest import Translated, receive

log = logging.getLogger("inventory.consume")


class _Unavailable(Exception):
    """The database cannot be reached (or refuses even a dead letter): wait and read again.
    `applied` holds each partition's next offset already committed before it happened."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.applied: dict[tuple[str, int], int] = {}


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else ""


@dataclass
class Totals:
    batches: int = 0
    messages: int = 0
    accepted: int = 0
    duplicate: int = 0
    dead: int = 0

    def add(self, report: BatchReport) -> None:
        self.batches += 1
        self.messages += report.messages
        self.accepted += report.accepted
        self.duplicate += report.duplicate
        self.dead += len(report.dead)


class _SeekToLedger(ConsumerRebalanceListener):
    """On assignment, start every partition at the offset the database recorded."""

    def __init__(self, intake: IntakeConsumer) -> None:
        self.intake = intake

    def on_partitions_revoked(self, revoked: Any) -> None:
        # every batch is committed before the next poll, so nothing is in hand here
        pass

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.intake.seek_to_ledger(list(assigned))


class IntakeConsumer:
    def __init__(
        self,
        db: Database,
        config: ConsumerConfig,
        translator: Translator | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.translator = translator or Translator(db, max_bytes=config.max_message_bytes)
        self.on_batch = on_batch
        self.totals = Totals()
        self.stopping = False
        self.consumer: KafkaConsumer | None = None
        self.producer: KafkaProducer | None = None
        self.backoff = 0.0

    # -- life cycle --------------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Finish the batch in hand, commit it, then leave (SIGTERM, SIGINT)."""
        self.stopping = True

    def install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, idle_exit_s: float | None = None) -> Totals:
        """Consume until stopped (or, with `idle_exit_s`, until the topics stay quiet that long)."""
        idle_since = time.monotonic()
        while not self.stopping:
            if self.consumer is None and not self._connect():
                continue
            worked = self._step()
            if worked or not self._assigned():  # quiet only counts while holding partitions
                idle_since = time.monotonic()
            elif idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                break
        self.close()
        return self.totals

    def _assigned(self) -> bool:
        return self.consumer is not None and bool(self.consumer.assignment())

    def close(self) -> None:
        if self.consumer is not None:
            try:
                self.consumer.close(autocommit=False)
            except Exception:  # closing after an outage must not hide the exit
                log.warning("closing the consumer failed", exc_info=True)
            self.consumer = None
        if self.producer is not None:
            try:
                self.producer.close(timeout=5)
            except Exception:
                log.warning("closing the producer failed", exc_info=True)
            self.producer = None

    def _connect(self) -> bool:
        try:
            c = self.config
            self.consumer = KafkaConsumer(
                bootstrap_servers=c.bootstrap,
                group_id=c.group,
                client_id=c.client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=c.session_timeout_ms,
                heartbeat_interval_ms=c.heartbeat_interval_ms,
                max_poll_interval_ms=c.max_poll_interval_ms,
                max_poll_records=c.batch,
                reconnect_backoff_max_ms=int(c.backoff_max_s * 1000),
                max_partition_fetch_bytes=c.max_partition_fetch_bytes,
                fetch_max_bytes=max(c.max_partition_fetch_bytes, 50 << 20),
            )
            self.consumer.subscribe(sorted(c.topics), listener=_SeekToLedger(self))
            self.backoff = 0.0
            log.info("consuming %s as group %s", ", ".join(sorted(c.topics)), c.group)
            return True
        except KafkaConfigurationError:
            raise  # a setting is wrong: retrying cannot help
        except KafkaError as error:
            self.consumer = None
            self._wait(f"broker unreachable ({error})")
            return False

    def _wait(self, why: str) -> None:
        """Exponential back-off (0.5 s doubling to the configured maximum), interruptible."""
        self.backoff = min(self.config.backoff_max_s, max(0.5, self.backoff * 2))
        log.warning("%s; retrying in %.1f s", why, self.backoff)
        deadline = time.monotonic() + self.backoff
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def seek_to_ledger(self, assigned: list[TopicPartition]) -> None:
        if self.consumer is None:
            return
        recorded = load_offsets(self.db, self.config.group)
        for tp in assigned:
            offset = recorded.get((tp.topic, tp.partition))
            if offset is not None:
                self.consumer.seek(tp, offset)

    # -- one batch ---------------------------------------------------------------------------

    def _step(self) -> bool:
        assert self.consumer is not None
        try:
            polled = self.consumer.poll(
                timeout_ms=self.config.poll_ms, max_records=self.config.batch
            )
        except KafkaError as error:
            self._wait(f"poll failed ({error})")
            return False
        self._restart_reset_logs()
        if not polled:
            self._publish_side_topics()
            return False
        messages, next_offsets = self._messages(polled)
        try:
            reports = self._apply(messages, next_offsets)
        except _Unavailable as away:  # database away: read from the first unapplied message
            self._rewind(polled, away.applied)
            self._wait(f"database unavailable ({away})")
            return True  # work is waiting: the topics are not quiet
        for report in reports:
            self.totals.add(report)
            if self.on_batch is not None:
                self.on_batch(report)
        self._commit(next_offsets)
        self._publish_side_topics()
        self.backoff = 0.0
        return True

    def _apply(
        self, messages: list[Message], next_offsets: dict[tuple[str, int], int]
    ) -> list[BatchReport]:
        """The batch in one transaction; if the database refuses it (a value the driver will
        not take, a translator's surprise), message by message, each with its offset, so the
        one at fault becomes a dead letter with the reason and the partition moves on."""
        try:
            return [self._apply_batch(messages, next_offsets)]
        except _Unavailable:
            raise
        except Exception as error:
            log.warning(
                "batch of %d refused (%s); applying one by one", len(messages), _first_line(error)
            )
        reports = []
        applied: dict[tuple[str, int], int] = {}
        for message in messages:
            where = (message.source, message.partition)
            offset = {where: message.offset + 1}
            try:
                try:
                    reports.append(self._apply_batch([message], offset))
                except _Unavailable:
                    raise
                except Exception as error:
                    reason = f"not applied: {type(error).__name__}: {_first_line(error)}"
                    log.warning("%s[%d]@%d: %s", *where, message.offset, reason)
                    reports.append(self._dead_letter(message, reason, offset))
            except _Unavailable as away:
                away.applied = applied
                raise
            applied[where] = message.offset + 1
        return reports

    def _apply_batch(
        self, messages: list[Message], next_offsets: dict[tuple[str, int], int]
    ) -> BatchReport:
        try:
            return apply_messages(
                self.db, self.translator, messages, self.config.group, next_offsets
            )
        except (OperationalError, TransientFailure) as error:
            raise _Unavailable(str(getattr(error, "orig", None) or error)) from error

    def _dead_letter(
        self, message: Message, reason: str, next_offsets: dict[tuple[str, int], int]
    ) -> BatchReport:
        try:
            return receive(
                self.db.unit_of_work,
                [Translated(message, error=reason)],
                self.config.group,
                next_offsets,
            )
        except Exception as error:  # not even the dead letter could be written
            raise _Unavailable(str(getattr(error, "orig", None) or error)) from error

    def _messages(self, polled: dict[Any, list[Any]]) -> tuple[list[Message], dict[Any, int]]:
        messages: list[Message] = []
        next_offsets: dict[tuple[str, int], int] = {}
        for tp, records in polled.items():
            for record in records:
                headers = decode_headers(record.headers)
                headers[RECEIVED_AT] = self._received_at(record)
                messages.append(
                    Message(
                        tp.topic,
                        tp.partition,
                        record.offset,
                        self._format(tp.topic, headers),
                        record.value if record.value is not None else b"",
                        headers,
                    )
                )
            if records:
                next_offsets[(tp.topic, tp.partition)] = records[-1].offset + 1
        return messages, next_offsets

    def _received_at(self, record: Any) -> str:
        """The record's time (Kafka's, in milliseconds), else now: when the message arrived."""
        stamp = getattr(record, "timestamp", None)
        if isinstance(stamp, int) and stamp > 0:
            return format_instant(stamp * 1000)
        return format_instant(self.db.ledger.clock())

    def _format(self, topic: str, headers: dict[str, str]) -> str:
        fmt = headers.get("x-format") or self.config.topics.get(topic, "contract")
        return format_of(fmt, headers)

    def _restart_reset_logs(self) -> None:
        """A partition whose log ends before our position was recreated (or its broker lost
        the log): read it again from its start.  Event ids keep old messages from counting
        twice; the offsets stored with the next batch follow the new log."""
        assert self.consumer is not None
        for tp in self.consumer.assignment():
            end = self.consumer.highwater(tp)
            if end is not None and self.consumer.position(tp) > end:
                log.warning("%s[%d] ends at %d, before our position: re-reading it", *tp, end)
                self.consumer.seek_to_beginning(tp)

    def _rewind(
        self, polled: dict[Any, list[Any]], applied: dict[tuple[str, int], int] | None = None
    ) -> None:
        """Read each partition again from its first message not yet applied."""
        assert self.consumer is not None
        for tp, records in polled.items():
            if records:
                done = (applied or {}).get((tp.topic, tp.partition))
                self.consumer.seek(tp, done if done is not None else records[0].offset)

    def _commit(self, next_offsets: dict[tuple[str, int], int]) -> None:
        """Tell Kafka too (a hint for tools and for a consumer without the database's offsets)."""
        assert self.consumer is not None
        offsets = {
            TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
            for (topic, partition), offset in next_offsets.items()
        }
        try:
            self.consumer.commit(offsets)
        except KafkaError as error:  # rebalanced or broker away: the database has the truth
            log.warning("offset commit to Kafka failed (%s); the database has it", error)

    # -- dead-letter topic and availability feed ---------------------------------------------

    def _producer(self) -> KafkaProducer:
        if self.producer is None:
            self.producer = KafkaProducer(
                bootstrap_servers=self.config.bootstrap,
                acks="all",
                linger_ms=5,
                max_block_ms=5000,
                max_request_size=max(self.config.dead_letter_max_bytes, 1 << 20) + (64 << 10),
            )
        return self.producer

    def _publish_side_topics(self) -> None:
        try:
            if self.config.dead_letter_topic:
                self.publish_dead_letters()
            if self.config.relay and self.config.outbox_topic:
                while relay_once(self.db, self._producer(), self.config.outbox_topic):
                    pass
        except KafkaError as error:
            log.warning("publishing failed (%s); will retry", error)
            self.close_producer()

    def close_producer(self) -> None:
        if self.producer is not None:
            try:
                self.producer.close(timeout=1)
            except Exception:
                log.debug("producer close failed", exc_info=True)
            self.producer = None

    def publish_dead_letters(self) -> int:
        rows = unpublished_dead_letters(self.db)
        if not rows:
            return 0
        producer = self._producer()
        topic = self.config.dead_letter_topic
        futures = []
        for row in rows:
            payload = bytes(row.payload)
            whole = len(payload) <= self.config.dead_letter_max_bytes
            headers = [
                ("x-dead-letter-id", str(row.id).encode()),
                ("x-source", row.source.encode()),
                ("x-partition", str(row.partition).encode()),
                ("x-offset", str(row.offset).encode()),
                ("x-format", row.format.encode()),
                ("x-reason", row.reason.encode()[:4000]),
                ("x-original-bytes", str(len(payload)).encode()),
            ]
            if not whole:
                headers.append(("x-truncated", b"true"))
            futures.append(
                producer.send(
                    topic,
                    value=payload if whole else orjson.dumps({"truncated": True}),
                    headers=headers,
                )
            )
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        mark_published(self.db, [row.id for row in rows])
        return len(rows)
