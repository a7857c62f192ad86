"""Stock events: the immutable facts the ledger records.

An event is a small frozen dataclass.  Its *effects* on stock (which on-hand delta it carries,
which reservation line or transfer it touches) are derived here, once, so the live projection,
the replay and the as-of queries all read them from the same place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class EventType(StrEnum):
    RECEIPT = "receipt"
    SALE = "sale"
    RETURN = "return"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RESERVATION = "reservation"
    RESERVATION_RELEASE = "reservation_release"
    FULFILMENT = "fulfilment"


# Sign of the on-hand change each type makes at its own location (adjustment carries its sign).
ON_HAND_SIGN: dict[EventType, int] = {
    EventType.RECEIPT: 1,
    EventType.RETURN: 1,
    EventType.SALE: -1,
    EventType.ADJUSTMENT: 1,
    EventType.TRANSFER_OUT: -1,
    EventType.TRANSFER_IN: 1,
    EventType.FULFILMENT: -1,
    EventType.COUNT: 0,
    EventType.RESERVATION: 0,
    EventType.RESERVATION_RELEASE: 0,
}

RESERVATION_TYPES = frozenset(
    {EventType.RESERVATION, EventType.RESERVATION_RELEASE, EventType.FULFILMENT}
)
TRANSFER_TYPES = frozenset({EventType.TRANSFER_OUT, EventType.TRANSFER_IN})

# The canonical order for folding, as the names of the keys a query sorts by: event time; at one
# instant deltas before counts (deltas at the instant of a count are inside that count, so they
# fold before it); then event_id (among counts at one instant the greatest wins).
# `StockEvent.order_key` is this order in memory; the ledger's queries build ORDER BY from it.
CANONICAL_ORDER = ("occurred_at", "is_count", "event_id")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: an exact, portable, sortable form of an aware instant."""
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    from datetime import timedelta

    return EPOCH + timedelta(microseconds=micros)


def format_instant(micros: int) -> str:
    """RFC 3339 in UTC with a `Z`, microseconds only when there are any."""
    moment = from_micros(micros)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


@dataclass(frozen=True, slots=True)
class StockEvent:
    """One validated contract event.  Instants are held as UTC microseconds."""

    event_id: str
    type: EventType
    sku: str
    location: str
    quantity: int
    occurred_at: int
    channel: str | None = None
    reference: str | None = None
    reservation_id: str | None = None
    expires_at: int | None = None
    destination: str | None = None
    reason: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.sku, self.location)

    @property
    def on_hand_delta(self) -> int:
        """Change to on-hand at `location`; zero for counts and reservation bookkeeping."""
        return ON_HAND_SIGN[self.type] * self.quantity

    @property
    def is_count(self) -> bool:
        return self.type is EventType.COUNT

    def order_key(self) -> tuple[int, int, str]:
        """Canonical order for folding (see `CANONICAL_ORDER`)."""
        return (self.occurred_at, 1 if self.is_count else 0, self.event_id)

    def content(self) -> dict[str, object]:
        """The event as a canonical wire dict (UTC instants, no empty optionals)."""
        body: dict[str, object] = {
            "event_id": self.event_id,
            "type": self.type.value,
            "sku": self.sku,
            "location": self.location,
            "quantity": self.quantity,
            "occurred_at": format_instant(self.occurred_at),
        }
        optional = {
            "channel": self.channel,
            "reference": self.reference,
            "reservation_id": self.reservation_id,
            "expires_at": None if self.expires_at is None else format_instant(self.expires_at),
            "destination": self.destination,
            "reason": self.reason,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return body

    def content_hash(self) -> str:
        """Fingerprint of the content; equal hashes under one event_id mean a duplicate.

        Fields are joined in contract order with a unit separator, absent ones as NUL: stable
        across versions, and cheap (it runs for every event appended).
        """
        fields = (
            self.event_id,
            self.type.value,
            self.sku,
            self.location,
            self.quantity,
            self.occurred_at,
            self.channel,
            self.reference,
            self.reservation_id,
            self.expires_at,
            self.destination,
            self.reason,
        )
        canonical = "\x1f".join("\x00" if f is None else str(f) for f in fields)
        return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
