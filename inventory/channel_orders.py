"""Channel orders: what a sales platform has said about an order, and what the ledger holds for it.

Platforms send snapshots and partial updates of an order (the order, its fulfilments, its
refunds, its edits) in any order and more than once.  Instead of turning each message into
events by itself, the engine keeps the *facts* it has seen per order:

- the latest order snapshot, by the platform's own update time (lines, quantities, cancelled);
- each fulfilment by its id, at its latest status (by its own update time);
- each refund by its id (refunds never change), with per line how the units were restocked;
- each order edit by its id (line quantity deltas committed after the snapshot).

From the facts it computes the *target* per (SKU, location): units held for the order, units
shipped from there, units returned there.  `ChannelOrder.holdings` says what the ledger already
holds for the order (every event the engine booked for it, as running totals), and `settle`
emits exactly the difference as contract events.  The result depends only on the set of facts,
never on their arrival order; a message seen before changes nothing.

Rules (the table in docs/intake.md):
- shipped per line = the units of fulfilments whose latest status is "shipped" (a platform
  whose snapshot itself reports shipped units, as marketplaces do, counts those; the larger
  of the two wins, so a fulfilment the snapshot already counted is not counted twice);
- a refund line restocks units: "cancel" gives back unshipped units (release), "return" takes
  back shipped units (return) and releases the rest, "restock" (the platform's undecided legacy
  kind) is a return for units shipped by the refund's time and a release for the rest; returns
  never exceed what shipped; "none" changes no stock;
- held per line = ordered - shipped - released, none once the order (or the line) is cancelled;
- a fulfilment undone later (cancelled after success) books its units back (a return) and holds
  them again for the order; a restock re-read as a release is taken off again (an adjustment).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from inventory.events import EventType, StockEvent

Key = tuple[str, str]  # (sku, location)

# fulfilment statuses, as translators normalise them
SHIPPED = "shipped"  # the units left the location
OPEN = "open"  # created, not yet shipped (pending, open, in progress)
VOID = "void"  # cancelled, failed, error: nothing shipped
_STATUS_RANK = {OPEN: 0, SHIPPED: 1, VOID: 2}  # at one instant a later stage wins

# restock kinds of a refund line
NO_RESTOCK = "none"
CANCEL = "cancel"
RETURN = "return"
RESTOCK = "restock"  # restocked without saying whether the units had shipped
RESTOCK_KINDS = (NO_RESTOCK, CANCEL, RETURN, RESTOCK)

# the time of a snapshot whose message carries none (WooCommerce's order.deleted): the
# message's arrival, filled in when it is settled
ARRIVAL = -1


@dataclass(frozen=True)
class OrderLine:
    """One line of an order snapshot, in this engine's SKUs."""

    line_id: str
    sku: str
    ordered: int
    shipped: int = 0  # units the snapshot itself says have shipped (0 when it does not say)
    cancelled: bool = False  # the line alone was cancelled


@dataclass(frozen=True)
class Snapshot:
    at: int  # the platform's update time of the order
    location: str  # where the order's unshipped units are held
    lines: tuple[OrderLine, ...]
    cancelled: bool = False


@dataclass(frozen=True)
class ShippedLine:
    line_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Fulfilment:
    fulfilment_id: str
    at: int  # the platform's update time of the fulfilment
    status: str  # SHIPPED, OPEN or VOID
    location: str
    lines: tuple[ShippedLine, ...]
    created: int | None = None  # when it was made (None: at `at`); orders undecided restocks


@dataclass(frozen=True)
class RefundLine:
    line_id: str
    sku: str
    quantity: int
    restock: str  # one of RESTOCK_KINDS
    location: str  # where restocked units go back


@dataclass(frozen=True)
class Refund:
    refund_id: str
    at: int
    lines: tuple[RefundLine, ...]


@dataclass(frozen=True)
class Edit:
    """An order edit: quantity deltas per line, counted until a snapshot newer than it."""

    edit_id: str
    at: int
    deltas: tuple[tuple[str, int], ...]  # (line_id, +added / -removed)


@dataclass(frozen=True)
class OrderFacts:
    """What one message says about one order."""

    channel: str  # the platform, e.g. "shopify"; with order_id it names the order
    order_id: str
    sales_channel: str | None = None  # the `channel` field of the events
    reference: str | None = None  # the order's name for people, e.g. "#1042"
    snapshot: Snapshot | None = None
    fulfilments: tuple[Fulfilment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    edits: tuple[Edit, ...] = ()
    keep_lines: bool = False  # the snapshot changes only the order's state, not its lines

    @property
    def latest(self) -> int | None:
        """The newest platform time this message carries."""
        times = [f.at for f in self.fulfilments] + [r.at for r in self.refunds]
        times += [e.at for e in self.edits] + ([self.snapshot.at] if self.snapshot else [])
        return max(times, default=None)


@dataclass
class Holding:
    """Running totals of the events booked for one order at one (sku, location)."""

    reserved: int = 0
    released: int = 0
    fulfilled: int = 0
    unshipped: int = 0  # returns booked because a fulfilment was undone
    returned: int = 0
    unreturned: int = 0  # negative adjustments taking back a return re-read as a release

    @property
    def held(self) -> int:
        """What the order's reservation line holds (may dip below zero only inside `settle`)."""
        return self.reserved - self.released - self.fulfilled

    @property
    def shipped(self) -> int:
        return self.fulfilled - self.unshipped

    @property
    def back(self) -> int:
        return self.returned - self.unreturned


@dataclass(frozen=True)
class Target:
    held: int = 0
    shipped: int = 0
    returned: int = 0


@dataclass
class ChannelOrder:
    """The engine's memory of one channel order: the facts and what the ledger holds."""

    channel: str
    order_id: str
    sales_channel: str | None = None
    reference: str | None = None
    snapshot: Snapshot | None = None
    fulfilments: dict[str, Fulfilment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    edits: dict[str, Edit] = field(default_factory=dict)
    holdings: dict[Key, Holding] = field(default_factory=dict)

    @property
    def reservation_id(self) -> str:
        return f"{self.channel}:{self.order_id}"

    # -- facts -------------------------------------------------------------------------------

    def merge(self, facts: OrderFacts) -> ChannelOrder:
        """This order with the message's facts added; the result does not depend on the order
        in which messages are merged (every choice is by the platform's times, then content)."""
        merged = replace(
            self,
            fulfilments=dict(self.fulfilments),
            refunds=dict(self.refunds),
            edits=dict(self.edits),
            holdings={k: replace(v) for k, v in self.holdings.items()},
        )
        merged.sales_channel = _first(self.sales_channel, facts.sales_channel)
        newer = facts.snapshot is not None and (
            self.snapshot is None or _newer(facts.snapshot, self.snapshot)
        )
        if newer and facts.snapshot is not None:
            merged.snapshot = facts.snapshot
            if facts.keep_lines and self.snapshot is not None:
                merged.snapshot = replace(
                    facts.snapshot, lines=self.snapshot.lines, location=self.snapshot.location
                )
            merged.reference = facts.reference or self.reference
        if merged.reference is None:
            merged.reference = facts.reference
        for fulfilment in facts.fulfilments:
            known = merged.fulfilments.get(fulfilment.fulfilment_id)
            if known is None or _fulfilment_rank(fulfilment) > _fulfilment_rank(known):
                merged.fulfilments[fulfilment.fulfilment_id] = fulfilment
        for refund in facts.refunds:
            known_refund = merged.refunds.get(refund.refund_id)
            if known_refund is None or _canonical(refund) < _canonical(known_refund):
                merged.refunds[refund.refund_id] = refund
        for edit in facts.edits:
            known_edit = merged.edits.get(edit.edit_id)
            if known_edit is None or _canonical(edit) < _canonical(known_edit):
                merged.edits[edit.edit_id] = edit
        return merged

    # -- what the ledger should hold ---------------------------------------------------------

    def targets(self) -> dict[Key, Target]:
        """Held, shipped and returned units per (sku, location) the facts imply."""
        skus, ordered, cancelled = self._lines()
        shipped: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        shipped_when: dict[str, list[tuple[int, int]]] = defaultdict(list)  # (time, units)
        for fulfilment in self.fulfilments.values():
            if fulfilment.status == SHIPPED:
                made = fulfilment.at if fulfilment.created is None else fulfilment.created
                for line in fulfilment.lines:
                    shipped[line.line_id][fulfilment.location] += line.quantity
                    shipped_when[line.line_id].append((made, line.quantity))
        snapshot = self.snapshot
        if snapshot is not None:
            for order_line in snapshot.lines:
                extra = order_line.shipped - sum(shipped[order_line.line_id].values())
                if extra > 0:
                    shipped[order_line.line_id][snapshot.location] += extra
                    shipped_when[order_line.line_id].append((snapshot.at, extra))
        held: dict[Key, int] = defaultdict(int)
        out: dict[Key, int] = defaultdict(int)
        back: dict[Key, int] = defaultdict(int)
        restocks = _restocks_by_line(self.refunds.values())
        for line_id, sku in skus.items():
            total_shipped = sum(shipped[line_id].values())
            for location, units in shipped[line_id].items():
                out[(sku, location)] += units
            unshipped = max(0, ordered.get(line_id, 0) - total_shipped)
            returned_so_far = 0
            for when, kind, quantity, location in restocks.get(line_id, []):
                if kind == NO_RESTOCK:
                    continue
                returnable = total_shipped - returned_so_far
                if kind == RESTOCK:  # undecided: units shipped by then come back first
                    by_then = sum(u for made, u in shipped_when[line_id] if made <= when)
                    returnable = min(returnable, max(0, by_then - returned_so_far))
                if kind == CANCEL:
                    release = min(quantity, unshipped)
                    returned = min(quantity - release, returnable)
                else:
                    returned = min(quantity, returnable)
                    release = min(quantity - returned, unshipped)
                unshipped -= release
                returned_so_far += returned
                back[(sku, location)] += returned
            if snapshot is not None and not cancelled.get(line_id, False):
                held[(sku, snapshot.location)] += unshipped
        keys = set(held) | set(out) | set(back)
        return {k: Target(held[k], out[k], back[k]) for k in keys}

    def _lines(self) -> tuple[dict[str, str], dict[str, int], dict[str, bool]]:
        """Each line's SKU (from any fact naming it), ordered quantity and cancelled flag."""
        skus: dict[str, str] = {}
        for refund in sorted(self.refunds.values(), key=_canonical):
            for refund_line in refund.lines:
                skus.setdefault(refund_line.line_id, refund_line.sku)
        for fulfilment in sorted(self.fulfilments.values(), key=_canonical):
            for shipped_line in fulfilment.lines:
                skus.setdefault(shipped_line.line_id, shipped_line.sku)
        ordered: dict[str, int] = {}
        cancelled: dict[str, bool] = {}
        snapshot = self.snapshot
        if snapshot is not None:
            for line in snapshot.lines:
                skus[line.line_id] = line.sku
                ordered[line.line_id] = ordered.get(line.line_id, 0) + line.ordered
                cancelled[line.line_id] = snapshot.cancelled or line.cancelled
            for edit in self.edits.values():
                if edit.at > snapshot.at:  # not yet in the snapshot
                    for line_id, delta in edit.deltas:
                        if line_id in ordered:
                            ordered[line_id] = max(0, ordered[line_id] + delta)
        return skus, ordered, cancelled

    # -- booking the difference --------------------------------------------------------------

    def settle(self, at: int) -> tuple[ChannelOrder, list[StockEvent]]:
        """The events that bring the ledger from `holdings` to the targets, and the order with
        its holdings updated.  Nothing to do gives no events (a redelivered message)."""
        settled = replace(self, holdings={k: replace(v) for k, v in self.holdings.items()})
        targets = self.targets()
        events: list[StockEvent] = []
        for key in sorted(set(targets) | set(settled.holdings)):
            target = targets.get(key, Target())
            holding = settled.holdings.setdefault(key, Holding())
            events.extend(self._bring(key, holding, target, at))
        settled.holdings = {k: h for k, h in settled.holdings.items() if h != Holding()}
        return settled, events

    def _bring(self, key: Key, h: Holding, target: Target, at: int) -> list[StockEvent]:
        events = []
        if target.shipped > h.shipped:
            d = target.shipped - h.shipped
            h.fulfilled += d
            events.append(self._event(key, EventType.FULFILMENT, d, at, "fulfil", h.fulfilled))
        elif target.shipped < h.shipped:
            d = h.shipped - target.shipped
            h.unshipped += d
            events.append(
                self._event(
                    key, EventType.RETURN, d, at, "unship", h.unshipped, "fulfilment undone"
                )
            )
        if target.returned > h.back:
            d = target.returned - h.back
            h.returned += d
            events.append(self._event(key, EventType.RETURN, d, at, "return", h.returned, "refund"))
        elif target.returned < h.back:
            d = h.back - target.returned
            h.unreturned += d
            events.append(
                self._event(
                    key,
                    EventType.ADJUSTMENT,
                    -d,
                    at,
                    "unreturn",
                    h.unreturned,
                    "restock re-read: the units had not shipped",
                )
            )
        if target.held > h.held:
            d = target.held - h.held
            h.reserved += d
            events.append(self._event(key, EventType.RESERVATION, d, at, "reserve", h.reserved))
        elif target.held < h.held:
            d = h.held - target.held
            h.released += d
            events.append(
                self._event(
                    key, EventType.RESERVATION_RELEASE, d, at, "release", h.released, "order"
                )
            )
        return events

    def _event(
        self,
        key: Key,
        kind: EventType,
        quantity: int,
        at: int,
        step: str,
        total: int,
        reason: str | None = None,
    ) -> StockEvent:
        sku, location = key
        on_line = kind in (EventType.RESERVATION, EventType.RESERVATION_RELEASE)
        on_line = on_line or kind is EventType.FULFILMENT
        return StockEvent(
            event_id=event_id(self.reservation_id, sku, location, step, total),
            type=kind,
            sku=sku,
            location=location,
            quantity=quantity,
            occurred_at=at,
            channel=self.sales_channel,
            reference=(self.reference or self.order_id)[:200],
            reservation_id=self.reservation_id if on_line else None,
            reason=reason,
        )

    # -- storage form ------------------------------------------------------------------------

    def facts_document(self) -> str:
        """The facts as JSON text (the storage form; holdings are stored per key)."""
        body = {
            "sales_channel": self.sales_channel,
            "reference": self.reference,
            "snapshot": asdict(self.snapshot) if self.snapshot else None,
            "fulfilments": [asdict(f) for f in self.fulfilments.values()],
            "refunds": [asdict(r) for r in self.refunds.values()],
            "edits": [asdict(e) for e in self.edits.values()],
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_document(
        cls, channel: str, order_id: str, document: str, holdings: dict[Key, Holding]
    ) -> ChannelOrder:
        body = json.loads(document)
        snap = body.get("snapshot")
        return cls(
            channel=channel,
            order_id=order_id,
            sales_channel=body.get("sales_channel"),
            reference=body.get("reference"),
            snapshot=_snapshot(snap) if snap else None,
            fulfilments={f["fulfilment_id"]: _fulfilment(f) for f in body.get("fulfilments", [])},
            refunds={r["refund_id"]: _refund(r) for r in body.get("refunds", [])},
            edits={e["edit_id"]: _edit(e) for e in body.get("edits", [])},
            holdings=holdings,
        )


def event_id(reservation_id: str, sku: str, location: str, step: str, total: int) -> str:
    """The id of the event that brings a running total to `total`: the same step of the same
    order always gets the same id, so a booking repeated after a crash is a duplicate."""
    text = f"{reservation_id}:{sku}:{location}:{step}:{total}"
    if len(text) <= 200:
        return text
    digest = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    return f"{reservation_id[:150]}:{digest}:{step}:{total}"


def settle_facts(
    order: ChannelOrder | None, facts: OrderFacts, now: int
) -> tuple[ChannelOrder, list[StockEvent]]:
    """Merge a message's facts into the order (a new one when None) and book the difference,
    at the message's newest platform time (or `now` when it carries none)."""
    base = order or ChannelOrder(facts.channel, facts.order_id)
    if facts.snapshot is not None and facts.snapshot.at == ARRIVAL:
        facts = replace(facts, snapshot=replace(facts.snapshot, at=now))
    merged = base.merge(facts)
    at = facts.latest
    return merged.settle(now if at is None else at)


# -- helpers -----------------------------------------------------------------------------------


def _first(*values: str | None) -> str | None:
    return next((v for v in values if v is not None), None)


def _canonical(value: Any) -> str:
    return json.dumps(asdict(value), sort_keys=True, separators=(",", ":"))


def _newer(candidate: Snapshot, current: Snapshot) -> bool:
    """By update time; at one instant a cancelled snapshot wins, then the content decides."""
    a = (candidate.at, candidate.cancelled, _canonical(candidate))
    b = (current.at, current.cancelled, _canonical(current))
    return a > b


def _fulfilment_rank(f: Fulfilment) -> tuple[int, int, str]:
    return (f.at, _STATUS_RANK.get(f.status, 0), _canonical(f))


def _restocks_by_line(refunds: Any) -> dict[str, list[tuple[int, str, int, str]]]:
    """Each line's restocked units (time, kind, units, location), refunds in (time, id) order."""
    found: dict[str, list[tuple[int, str, int, str]]] = defaultdict(list)
    for refund in sorted(refunds, key=lambda r: (r.at, r.refund_id)):
        for line in refund.lines:
            found[line.line_id].append((refund.at, line.restock, line.quantity, line.location))
    return found


def _snapshot(body: dict[str, Any]) -> Snapshot:
    return Snapshot(
        at=body["at"],
        location=body["location"],
        lines=tuple(OrderLine(**line) for line in body["lines"]),
        cancelled=body["cancelled"],
    )


def _fulfilment(body: dict[str, Any]) -> Fulfilment:
    return Fulfilment(
        fulfilment_id=body["fulfilment_id"],
        at=body["at"],
        status=body["status"],
        location=body["location"],
        lines=tuple(ShippedLine(**line) for line in body["lines"]),
        created=body.get("created"),
    )


def _refund(body: dict[str, Any]) -> Refund:
    return Refund(
        refund_id=body["refund_id"],
        at=body["at"],
        lines=tuple(RefundLine(**line) for line in body["lines"]),
    )


def _edit(body: dict[str, Any]) -> Edit:
    return Edit(
        edit_id=body["edit_id"],
        at=body["at"],
        deltas=tuple((line_id, delta) for line_id, delta in body["deltas"]),
    )
