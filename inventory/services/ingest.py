"""The one intake path: every write of contract events goes through `ingest`.

HTTP `POST /v1/events`, JSON Lines files (`inventory ingest`), the Kafka consumer, the signed
webhooks, the staff page's counts and `inventory reconcile --apply` all hand their events here,
so they share one set of rules and one report:

- an item the parser refused arrives as a `Refused` and is reported `rejected` with its fields;
- **unknown locations**: an event whose `location` or `destination` is not a registered location
  is `rejected` (field named), on every path.  While the registry is empty — a fresh ledger
  before `inventory locations import` — every location is accepted, so a new installation can
  record stock before it describes its network;
- the rest are appended in one transaction: `accepted`, `duplicate` or `conflict`;
  with `atomic`, a batch holding any conflict is not applied at all (`not_applied`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from inventory.channel_orders import ChannelOrder, OrderFacts, settle_facts
from inventory.events import StockEvent
from inventory.ledger import (
    ACCEPTED,
    CONFLICT,
    DUPLICATE,
    NOT_APPLIED,
    REJECTED,
    AppendResult,
    FieldError,
)
from inventory.ports import DeadLetter, Message, Registry, UnitOfWork, UnitOfWorkFactory
from inventory.services.units import run


@dataclass(frozen=True)
class Refused:
    """An item the parser could not turn into an event, with the fields at fault."""

    errors: list[FieldError]
    event_id: str | None = None


Item = StockEvent | Refused


@dataclass(slots=True)
class ItemOutcome:
    """What became of one submitted item, in submission order (one per event on the hot path:
    a plain slotted record, cheaper to make than a frozen one)."""

    index: int
    event_id: str | None
    status: str  # accepted | duplicate | conflict | not_applied | rejected
    position: int | None = None
    reason: str | None = None
    errors: Sequence[FieldError] = ()


@dataclass
class IngestReport:
    outcomes: list[ItemOutcome] = field(default_factory=list)
    append: AppendResult = field(default_factory=AppendResult)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def accepted(self) -> int:
        return self.count(ACCEPTED)

    @property
    def duplicate(self) -> int:
        return self.count(DUPLICATE)

    def summary(self) -> dict[str, int]:
        """Counts by status; `not_applied` events are counted as conflicts' collateral."""
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "conflict": self.count(CONFLICT) + self.count(NOT_APPLIED),
            "rejected": self.count(REJECTED),
        }

    def refused(self) -> list[ItemOutcome]:
        """Everything not accepted and not a duplicate."""
        return [o for o in self.outcomes if o.status not in (ACCEPTED, DUPLICATE)]


# Longest text each field may hold (the ledger's columns); other fields are ids of 200.
MAX_TEXT = {"reason": 500}
MAX_NAME = 200
_UNSTORABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_TEXT_FIELDS = (
    "event_id",
    "sku",
    "location",
    "channel",
    "reference",
    "reservation_id",
    "destination",
    "reason",
)


UNSTORABLE_TEXT = "contains a control character or an unpaired surrogate"


def unstorable(text: str) -> bool:
    """Text no database stores alike: control characters (NUL above all), lone surrogates."""
    return not text.isprintable() and _UNSTORABLE.search(text) is not None


def text_errors(event: StockEvent) -> list[FieldError]:
    """Text no database can store the same way is refused here, on every path: NUL and other
    control characters (PostgreSQL refuses NUL; SQLite would keep it), lone surrogates (not
    encodable as UTF-8), text longer than its column."""
    e = event
    joined = f"{e.event_id}{e.sku}{e.location}{e.channel}{e.reference}{e.reservation_id}"
    joined += f"{e.destination}{e.reason}"
    if len(joined) <= MAX_NAME and (joined.isprintable() or not _UNSTORABLE.search(joined)):
        return []  # the common case: short printable text (None reads as "None")
    values = [(name, value) for name in _TEXT_FIELDS if (value := getattr(event, name)) is not None]
    found = []
    for name, value in values:
        limit = MAX_TEXT.get(name, MAX_NAME)
        if len(value) > limit:
            found.append(FieldError(name, f"at most {limit} characters, got {len(value)}"))
        elif _UNSTORABLE.search(value):
            found.append(FieldError(name, UNSTORABLE_TEXT))
    return found


_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` with what no database keeps as text (NUL, lone surrogates) written as escapes,
    for the intake's own records (a dead letter's reason, format and origin)."""
    if not _NOT_TEXT.search(text):
        return text
    return _NOT_TEXT.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if m[0] == "\x00" else f"\\u{ord(m[0]):04x}", text
    )


def event_errors(registry: Registry, events: Sequence[StockEvent]) -> dict[int, list[FieldError]]:
    """Every rule an event must pass before the ledger, per event index: storable text, then
    known locations."""
    found: dict[int, list[FieldError]] = {}
    for index, event in enumerate(events):
        bad = text_errors(event)
        if bad:
            found[index] = bad
    rest = [(i, e) for i, e in enumerate(events) if i not in found]
    for position, errors in location_errors(registry, [e for _, e in rest]).items():
        found[rest[position][0]] = errors
    return found


def location_errors(
    registry: Registry, events: Sequence[StockEvent]
) -> dict[int, list[FieldError]]:
    """The unknown-location rule: per event index, the location fields naming no location."""
    named = {e.location for e in events} | {e.destination for e in events if e.destination}
    if not named or registry.is_empty():
        return {}
    unknown = named - registry.known(named)
    found: dict[int, list[FieldError]] = {}
    for index, event in enumerate(events):
        bad = [
            FieldError(name, f"unknown location {value!r}")
            for name, value in (("location", event.location), ("destination", event.destination))
            if value is not None and value in unknown
        ]
        if bad:
            found[index] = bad
    return found


def ingest_in(
    uow: UnitOfWork, items: Sequence[Item], atomic: bool = False, checked: bool = False
) -> IngestReport:
    """Validate and append inside the caller's unit of work (which commits).  With `atomic`
    and any conflict, the unit is rolled back and nothing is applied.  `checked`: the events
    have passed `event_errors` in this unit already (the caller refused those that did not)."""
    outcomes: dict[int, ItemOutcome] = {}
    candidates: list[tuple[int, StockEvent]] = []
    for index, item in enumerate(items):
        if isinstance(item, Refused):
            outcomes[index] = ItemOutcome(index, item.event_id, REJECTED, errors=item.errors)
        else:
            candidates.append((index, item))
    bad = {} if checked else event_errors(uow.registry, [event for _, event in candidates])
    valid = []
    for position, (index, event) in enumerate(candidates):
        if position in bad:
            errors = bad[position]
            unknown = any(e.reason.startswith("unknown location") for e in errors)
            outcomes[index] = ItemOutcome(
                index,
                event.event_id if not text_errors(event) else None,
                REJECTED,
                reason="unknown location" if unknown else "invalid event",
                errors=errors,
            )
        else:
            valid.append((index, event))
    if atomic and outcomes:  # a refused item spoils an all-or-nothing batch before the ledger
        for index, event in valid:
            outcomes[index] = ItemOutcome(
                index, event.event_id, NOT_APPLIED, reason="batch not applied: it holds a refusal"
            )
        valid = []
    appended = uow.ledger.append([event for _, event in valid]) if valid else AppendResult()
    if atomic and appended.count(CONFLICT) and appended.count(ACCEPTED):
        uow.rollback()
        appended = appended.without_accepted()
    for (index, event), outcome in zip(valid, appended.outcomes, strict=True):
        outcomes[index] = ItemOutcome(
            index, event.event_id, outcome.status, outcome.position, outcome.reason
        )
    return IngestReport([outcomes[i] for i in range(len(items))], appended)


def ingest(factory: UnitOfWorkFactory, items: Sequence[Item], atomic: bool = False) -> IngestReport:
    """`ingest_in` in a transaction of its own (retried on a transient failure)."""
    return run(factory, lambda uow: ingest_in(uow, items, atomic))


# -- inbound messages (Kafka, webhooks, dead-letter retries) ---------------------------------


@dataclass(frozen=True)
class Translated:
    """An inbound message and what its translator made of it: contract events, facts about
    channel orders (booked through the order memory), notes on what it skipped, or why it
    could not be translated."""

    message: Message
    events: list[StockEvent] = field(default_factory=list)
    error: str | None = None
    orders: list[OrderFacts] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReceiveReport:
    messages: int = 0
    accepted: int = 0
    duplicate: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def receive_in(uow: UnitOfWork, batch: Sequence[Translated]) -> ReceiveReport:
    """Append the events of translated messages and record dead letters, in the caller's unit.

    A message is applied whole or becomes a dead letter: one naming an unknown location is not
    applied at all; one whose event conflicts with the ledger is dead-lettered with the ids
    (its other events, already new facts, stay).  A message about channel orders is applied
    whole or not at all, with the order memory (`receive_orders_in`).
    """
    report = ReceiveReport(messages=len(batch))
    plain: list[Translated] = []
    about_orders: list[Translated] = []
    for item in batch:
        report.notes.extend(item.notes)
        if item.error is not None:
            report.dead.append(DeadLetter(item.message, item.error))
        elif item.orders:
            about_orders.append(item)
        else:
            plain.append(item)
    # the rules are checked once for the whole batch (one registry look-up), then per message
    every = [event for item in plain for event in item.events]
    bad_events = event_errors(uow.registry, every)
    bad: dict[int, dict[int, list[FieldError]]] = {}
    index = 0
    for number, item in enumerate(plain):
        for _ in item.events:
            if index in bad_events:
                bad.setdefault(number, {})[index] = bad_events[index]
            index += 1
    usable: list[Translated] = []
    for number, item in enumerate(plain):
        if number in bad:
            report.dead.append(DeadLetter(item.message, _reasons(bad[number])))
        else:
            usable.append(item)
    owners = [index for index, item in enumerate(usable) for _ in item.events]
    events = [event for item in usable for event in item.events]
    ingested = ingest_in(uow, events, checked=True)
    conflicts: dict[int, list[str]] = {}
    for owner, outcome in zip(owners, ingested.outcomes, strict=True):
        if outcome.status == ACCEPTED:
            report.accepted += 1
        elif outcome.status == DUPLICATE:
            report.duplicate += 1
        else:
            conflicts.setdefault(owner, []).append(f"{outcome.event_id}: {outcome.reason}")
    for owner, reasons in conflicts.items():
        reason = "event_id conflict: " + "; ".join(reasons)
        report.dead.append(DeadLetter(usable[owner].message, reason))
    for item in about_orders:
        try:
            with uow.savepoint():
                applied = receive_orders_in(uow, item)
        except Unapplied as error:
            report.dead.append(DeadLetter(item.message, str(error)))
            continue
        report.accepted += applied.accepted
        report.duplicate += applied.duplicate
    uow.intake.dead_letters(report.dead, uow.clock())
    return report


def _reasons(bad: dict[int, list[FieldError]]) -> str:
    return "; ".join(sorted({f"{e.field}: {e.reason}" for errors in bad.values() for e in errors}))


class Unapplied(Exception):
    """A message refused whole: nothing of it stays (raise it inside a savepoint)."""


def receive_orders_in(uow: UnitOfWork, item: Translated) -> IngestReport:
    """Merge a message's order facts into the order memory, book the difference the facts make
    and save the memory, all in the caller's unit; refuses (`Unapplied`) when an event names an
    unknown location or meets a conflicting event id, and then nothing may be kept."""
    now = uow.clock()
    events = list(item.events)
    changed: dict[tuple[str, str], ChannelOrder] = {}
    for facts in item.orders:
        key = (facts.channel, facts.order_id)
        known = changed.get(key) or uow.orders.load(*key)
        settled, booked = settle_facts(known, facts, now)
        changed[key] = settled
        events.extend(booked)
    bad = event_errors(uow.registry, events)
    if bad:
        raise Unapplied(_reasons(bad))
    report = ingest_in(uow, events)
    refused = [f"{o.event_id}: {o.reason}" for o in report.refused()]
    if refused:
        raise Unapplied("event_id conflict: " + "; ".join(refused))
    for order in changed.values():
        uow.orders.save(order, now)
    return report


def receive(
    factory: UnitOfWorkFactory,
    batch: Sequence[Translated],
    group: str | None = None,
    next_offsets: dict[tuple[str, int], int] | None = None,
) -> ReceiveReport:
    """`receive_in` plus each partition's next offset, all in one transaction: after a crash
    the database says exactly how far the intake got."""

    def work(uow: UnitOfWork) -> ReceiveReport:
        report = receive_in(uow, batch)
        if group is not None and next_offsets:
            uow.intake.save_offsets(group, next_offsets, uow.clock())
        return report

    return run(factory, work)


def redrive(
    factory: UnitOfWorkFactory, letter_id: int, item: Translated | Sequence[StockEvent]
) -> str | None:
    """Apply a dead letter's translation (or its events) afresh and mark it applied, in one
    transaction; on any refusal nothing is applied and the reason is returned (the letter stays
    open)."""
    if not isinstance(item, Translated):
        item = Translated(Message("redrive", -1, -1, "contract", b""), list(item))

    def work(uow: UnitOfWork) -> None:
        if item.orders:
            receive_orders_in(uow, item)
        else:
            report = ingest_in(uow, item.events)
            refused = report.refused()
            if refused:
                raise Unapplied(
                    "; ".join(
                        f"{o.event_id}: {o.reason or '; '.join(e.reason for e in o.errors)}"
                        for o in refused
                    )
                )
        uow.intake.mark_applied(letter_id, uow.clock())

    try:
        run(factory, work)
    except Unapplied as error:
        return "not applied: " + str(error)
    return None
