"""A physical count recorded from the shop floor, answered with what it changed."""

from __future__ import annotations

from dataclasses import dataclass

from inventory.events import EventType, StockEvent
from inventory.ledger import CONFLICT, DUPLICATE, FieldError
from inventory.ports import UnitOfWork, UnitOfWorkFactory
from inventory.services.ingest import ItemOutcome, ingest_in
from inventory.services.units import run


@dataclass(frozen=True)
class CountResult:
    """`status` is the ledger's answer for the count event (accepted, duplicate, conflict or
    rejected); `before` and `after` are on hand around it, equal unless it was accepted."""

    status: str
    before: int
    after: int
    outcome: ItemOutcome

    @property
    def errors(self) -> list[FieldError]:
        return list(self.outcome.errors)


def record_count(
    factory: UnitOfWorkFactory,
    event_id: str,
    sku: str,
    location: str,
    counted: int,
    channel: str | None = None,
    reason: str | None = None,
) -> CountResult:
    """Append a `count` at the current instant.  A resubmitted form (same event_id, same
    product, place and number, however much later) is a duplicate; the same id with another
    number is a conflict; neither changes anything."""

    def work(uow: UnitOfWork) -> CountResult:
        now = uow.clock()
        key = (sku, location)
        uow.ledger.lock([key])
        before = uow.stock.positions([key], now)[key].on_hand
        kept = uow.ledger.recorded(event_id)
        if kept is not None:  # the same form again: judged by what was counted, not when
            same = (kept.type, kept.sku, kept.location, kept.quantity) == (
                EventType.COUNT,
                sku,
                location,
                counted,
            )
            status = DUPLICATE if same else CONFLICT
            why = None if same else "event_id already recorded with different content"
            outcome = ItemOutcome(0, event_id, status, reason=why)
            return CountResult(status, before, before, outcome)
        event = StockEvent(
            event_id, EventType.COUNT, sku, location, counted, now, channel=channel, reason=reason
        )
        report = ingest_in(uow, [event], atomic=True)
        after = uow.stock.positions([key], now)[key].on_hand
        outcome = report.outcomes[0]
        return CountResult(outcome.status, before, after, outcome)

    return run(factory, work)
