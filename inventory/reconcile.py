"""Reconciliation: compare counted stock with the ledger and classify every difference.

A snapshot row says "at instant T, location L held N units of SKU S".  The ledger's on-hand for
that key *as of T* (events after T are not yet known to the counter) is compared with N:

- ``match``            counted == ledger (a key absent from the snapshot counts as zero);
- ``ledger_over``      the ledger believes more than was counted;
- ``ledger_under``     the ledger believes less than was counted;
- ``only_in_ledger``   not in the snapshot, but the ledger holds a non-zero on-hand;
- ``only_in_snapshot`` counted non-zero, but the ledger never recorded the key at its location.

Flags ride along with any class: ``negative_on_hand`` (ledger or count below zero),
``reserved_exceeds_on_hand`` (reservations held at the instant exceed the on-hand believed true:
the count when there is one, else the ledger) and ``oversold`` (`is_oversold` of that on-hand
and those reservations: more promised than is there).

The correction for a discrepancy is a ``count`` event at the row's instant; its event_id is
derived from the row's content, so the same night's file applied twice corrects once.
"""

from __future__ import annotations

import hashlib
import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from inventory.events import ON_HAND_SIGN, EventType, StockEvent
from inventory.projection import (
    NEGATIVE_ON_HAND,
    OVERSOLD,
    RESERVED_EXCEEDS_ON_HAND,
    fold_sorted,
    position_flags,
)
from inventory.stock import Key

NO_CHANNEL = "(none)"
CORRECTION_REASON = "reconciliation"


class Kind(StrEnum):
    MATCH = "match"
    LEDGER_OVER = "ledger_over"
    LEDGER_UNDER = "ledger_under"
    ONLY_IN_LEDGER = "only_in_ledger"
    ONLY_IN_SNAPSHOT = "only_in_snapshot"


class Flag(StrEnum):
    NEGATIVE_ON_HAND = NEGATIVE_ON_HAND
    RESERVED_EXCEEDS_ON_HAND = RESERVED_EXCEEDS_ON_HAND
    OVERSOLD = OVERSOLD


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome for one key: what was counted, what the ledger believed, at which instant."""

    sku: str
    location: str
    instant: int
    counted: int | None  # None: the key is not in the snapshot
    ledger: int
    reserved: int
    known: bool  # the ledger recorded the key at its location by the instant
    kind: Kind
    flags: tuple[Flag, ...]
    channels: tuple[str, ...]

    @property
    def delta(self) -> int:
        """The correction a count makes: counted minus ledger (absent counts as zero)."""
        return (self.counted or 0) - self.ledger

    @property
    def is_discrepancy(self) -> bool:
        return self.kind is not Kind.MATCH

    @property
    def reported(self) -> bool:
        return self.is_discrepancy or bool(self.flags)


def classify(counted: int | None, ledger: int, known: bool) -> Kind:
    truth = 0 if counted is None else counted
    if truth == ledger:
        return Kind.MATCH
    if counted is None:
        return Kind.ONLY_IN_LEDGER
    if not known:
        return Kind.ONLY_IN_SNAPSHOT
    return Kind.LEDGER_OVER if ledger > truth else Kind.LEDGER_UNDER


def flags_for(counted: int | None, ledger: int, reserved: int) -> tuple[Flag, ...]:
    """The position flags (`position_flags`) of the on hand believed true (the count, else the
    ledger's), plus `negative_on_hand` whenever the ledger's is below zero."""
    truth = ledger if counted is None else counted
    found = set(position_flags(truth, reserved))
    if ledger < 0:
        found.add(NEGATIVE_ON_HAND)
    return tuple(flag for flag in Flag if flag.value in found)


def judge(
    key: Key,
    instant: int,
    counted: int | None,
    ledger: int,
    reserved: int,
    known: bool,
    channels: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        key[0],
        key[1],
        instant,
        counted,
        ledger,
        reserved,
        known,
        classify(counted, ledger, known),
        flags_for(counted, ledger, reserved),
        channels,
    )


def correction_id(sku: str, location: str, instant: int, quantity: int) -> str:
    """The same counted fact always yields the same event_id (and the same content)."""
    text = f"{sku}\x1f{location}\x1f{instant}\x1f{quantity}"
    return "reconcile-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def correction(finding: Finding) -> StockEvent:
    """A count event that makes the ledger agree with the snapshot at the finding's instant."""
    quantity = finding.counted or 0
    if quantity < 0:
        raise ValueError(f"{finding.sku} @ {finding.location}: a count must be zero or more")
    return StockEvent(
        event_id=correction_id(finding.sku, finding.location, finding.instant, quantity),
        type=EventType.COUNT,
        sku=finding.sku,
        location=finding.location,
        quantity=quantity,
        occurred_at=finding.instant,
        reason=CORRECTION_REASON,
    )


# -- the ledger of one key, sampled at the instant the snapshot asks about ----------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """A key's ledger as of an instant: on hand, reservations held, who recorded events."""

    on_hand: int = 0
    reserved: int = 0
    known: bool = False  # the ledger recorded an event for the key at its location by then
    channels: tuple[str, ...] = ()


UNKNOWN = Sample()


def sample_key(events: Sequence[StockEvent], instant: int) -> Sample:
    """Fold one key's events, given in canonical order, up to and including `instant`.

    In canonical order (event time; at one instant deltas before counts; then event_id) on hand
    is a running fold: a count sets it, a delta adds to it.  That is the rule the
    order-independent projection implements for any order, here at a fraction of its cost;
    reservation lines go through the domain's own fold (`fold_sorted`).
    """
    on_hand = 0
    known = False
    channels: set[str] | None = None
    reservations: list[StockEvent] | None = None
    for event in events:
        if event.occurred_at > instant:
            break
        known = True
        kind = event.type
        if kind is EventType.COUNT:
            on_hand = event.quantity
        else:
            on_hand += ON_HAND_SIGN[kind] * event.quantity
        if event.channel is not None:
            channels = channels or set()
            channels.add(event.channel)
        if event.reservation_id is not None:
            reservations = reservations or []
            reservations.append(event)
    if not known:
        return UNKNOWN
    reserved = 0
    if reservations:
        book = fold_sorted(reservations)
        reserved = sum(line.holds_at(instant) for line in book.lines.values())
    return Sample(on_hand, reserved, True, tuple(sorted(channels)) if channels else ())


# -- totals ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class Totals:
    keys: int = 0
    discrepancies: int = 0
    drift: int = 0  # sum of |counted - ledger|
    net: int = 0  # sum of counted - ledger
    counted: int = 0
    ledger: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, finding: Finding) -> None:
        self.keys += 1
        self.kinds[finding.kind.value] += 1
        self.counted += finding.counted or 0
        self.ledger += finding.ledger
        if finding.is_discrepancy:
            self.discrepancies += 1
            self.drift += abs(finding.delta)
            self.net += finding.delta

    def add_matches(self, keys: int, units: int) -> None:
        """Many matching keys at once (the bulk of a night's file)."""
        self.keys += keys
        self.kinds[Kind.MATCH.value] += keys
        self.counted += units
        self.ledger += units

    def as_dict(self) -> dict[str, object]:
        return {
            "keys": self.keys,
            "discrepancies": self.discrepancies,
            "drift_units": self.drift,
            "net_delta": self.net,
            "counted_units": self.counted,
            "ledger_units": self.ledger,
            "classes": {kind.value: self.kinds.get(kind.value, 0) for kind in Kind},
        }


@dataclass
class Tally:
    """Totals over all keys, per location and per channel, plus the SKUs that drift most.

    A key belongs to every channel that recorded an event for it at its location up to the
    instant compared (sales, reservations, returns ...); keys no channel touched are under
    "(none)".  A key moved by two channels counts in both, so channel totals overlap.
    """

    overall: Totals = field(default_factory=Totals)
    per_location: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    per_channel: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    flags: Counter[str] = field(default_factory=Counter)
    sku_drift: Counter[str] = field(default_factory=Counter)

    def add(self, finding: Finding) -> None:
        self.overall.add(finding)
        self.per_location[finding.location].add(finding)
        for channel in finding.channels or (NO_CHANNEL,):
            self.per_channel[channel].add(finding)
        for flag in finding.flags:
            self.flags[flag.value] += 1
        if finding.is_discrepancy:
            self.sku_drift[finding.sku] += abs(finding.delta)

    def add_matches(self, location: str, channels: tuple[str, ...], keys: int, units: int) -> None:
        """Matching, unflagged keys of one location and channel set, counted in bulk."""
        self.overall.add_matches(keys, units)
        self.per_location[location].add_matches(keys, units)
        for channel in channels or (NO_CHANNEL,):
            self.per_channel[channel].add_matches(keys, units)

    def top_skus(self, n: int = 20) -> list[tuple[str, int]]:
        return heapq.nlargest(n, self.sku_drift.items(), key=lambda item: (item[1], item[0]))

    def within(self, max_drift: int) -> bool:
        return self.overall.drift <= max_drift
