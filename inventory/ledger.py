"""What appending to the ledger reports, event by event.

Every path that writes stock (HTTP, files, Kafka, webhooks, the staff page, reconcile) gets the
same four answers for an event: `accepted` (appended now, at a ledger position), `duplicate`
(this event_id with this content is already there: a no-op), `conflict` (the event_id is there
with other content: the ledger keeps the first) or `not_applied` (an all-or-nothing batch held
a conflict).  Refusals before the ledger (an invalid event, an unknown location) are
`rejected`, with the fields named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory.events import StockEvent
from inventory.stock import Key, StockState

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
CONFLICT = "conflict"
NOT_APPLIED = "not_applied"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class FieldError:
    """Why something was refused: the field (dotted path; empty for the whole item) and why."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event: accepted, duplicate or conflict (the ledger keeps the first)."""

    event_id: str
    status: str
    position: int | None = None
    reason: str | None = None


@dataclass
class AppendResult:
    outcomes: list[Outcome] = field(default_factory=list)
    changed: set[Key] = field(default_factory=set)  # positions whose stock changed
    applied: list[StockEvent] = field(default_factory=list)
    # each changed position as stored after the append, with the ledger position that last
    # changed it (filled by the database recorder)
    states: dict[Key, tuple[StockState, int]] = field(default_factory=dict)
    # positions that crossed the oversold line: True became oversold, False stopped being
    # (filled inside the append transaction by `adapters.db.oversold.OversoldWatch`)
    oversold: dict[Key, bool] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def without_accepted(self) -> AppendResult:
        """The answer for an all-or-nothing batch that was rolled back: nothing applied."""
        outcomes = [
            Outcome(o.event_id, NOT_APPLIED, None, "batch not applied: it holds a conflict")
            if o.status == ACCEPTED
            else o
            for o in self.outcomes
        ]
        return AppendResult(outcomes)
