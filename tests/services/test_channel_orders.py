"""The order memory against a simulated platform, in memory, on SQLite and on PostgreSQL.

A story is played on a small model of a shop platform (order placed, fulfilments made from
several locations, some failing or cancelled later, refunds of every restock kind, the order
cancelled).  Each step sends the messages the platform would send (the fact itself and, now and
then, an `orders/updated` snapshot embedding everything so far).  The messages then arrive in
any order, some more than once, through the one intake path (`receive`).  Whatever the order:

- the final stock is the one the platform's final state implies (the oracle is the platform
  model's own bookkeeping, not the engine's rules);
- after every message, no stock was created (a SKU's on hand over all locations never exceeds
  zero: the story starts from nothing and only ships and returns) and none taken twice (on hand
  at a location never falls below minus the units ever shipped from it), and nothing held is
  negative or more than was ordered.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.channel_orders import (
    CANCEL,
    NO_RESTOCK,
    RESTOCK,
    RETURN,
    SHIPPED,
    VOID,
    Fulfilment,
    OrderFacts,
    OrderLine,
    Refund,
    RefundLine,
    ShippedLine,
    Snapshot,
)
from inventory.ports import Message
from inventory.services.ingest import Translated, receive
from tests.services.conftest import Backend, positions

HOME = "LC-HOME"  # where the order is held
LOCATIONS = (HOME, "LC-NORTH", "LC-SOUTH")
SERIAL = itertools.count()


@dataclass
class Platform:
    """A shop platform's view of one order, and the messages it sends."""

    order_id: str
    lines: dict[str, tuple[str, int]]  # line id -> (sku, quantity)
    now: int = 1_000_000
    cancelled: bool = False
    fulfilments: dict[str, Fulfilment] = field(default_factory=dict)
    refunds: list[Refund] = field(default_factory=list)
    returned: dict[tuple[str, str], int] = field(default_factory=dict)  # (line, location)
    released: dict[str, int] = field(default_factory=dict)
    restocked_after: dict[str, int] = field(default_factory=dict)  # line -> last restock time
    ever_shipped: dict[tuple[str, str], int] = field(default_factory=dict)  # (sku, location)
    messages: list[OrderFacts] = field(default_factory=list)

    def tick(self) -> int:
        self.now += 1_000_000
        return self.now

    def shipped(self, line_id: str) -> int:
        return sum(
            line.quantity
            for f in self.fulfilments.values()
            if f.status == SHIPPED
            for line in f.lines
            if line.line_id == line_id
        )

    def returned_units(self, line_id: str) -> int:
        return sum(units for (line, _), units in self.returned.items() if line == line_id)

    def open_units(self, line_id: str) -> int:
        """Units neither shipped nor given back."""
        quantity = self.lines[line_id][1]
        return quantity - self.shipped(line_id) - self.released.get(line_id, 0)

    def facts(self, **parts: object) -> OrderFacts:
        return OrderFacts("shopify", self.order_id, "web", "#1", **parts)  # type: ignore[arg-type]

    def snapshot(self) -> None:
        lines = tuple(OrderLine(lid, sku, qty) for lid, (sku, qty) in self.lines.items())
        self.messages.append(
            self.facts(
                snapshot=Snapshot(self.now, HOME, lines, self.cancelled),
                fulfilments=tuple(self.fulfilments.values()),
                refunds=tuple(self.refunds),
            )
        )

    # -- actions ---------------------------------------------------------------------------

    def fulfil(self, line_id: str, units: int, location: str, fails: bool) -> None:
        at = self.tick()
        fid = f"F{len(self.fulfilments)}"
        sku = self.lines[line_id][0]
        status = VOID if fails else SHIPPED
        made = Fulfilment(fid, at, status, location, (ShippedLine(line_id, sku, units),), at)
        self.fulfilments[fid] = made
        if not fails:
            key = (sku, location)
            self.ever_shipped[key] = self.ever_shipped.get(key, 0) + units
        self.messages.append(self.facts(fulfilments=(made,)))

    def cancel_fulfilment(self, fid: str) -> None:
        at = self.tick()
        old = self.fulfilments[fid]
        undone = Fulfilment(fid, at, VOID, old.location, old.lines, old.created)
        self.fulfilments[fid] = undone
        self.messages.append(self.facts(fulfilments=(undone,)))

    def refund(self, line_id: str, units: int, kind: str, location: str) -> None:
        at = self.tick()
        shipped_back = self.shipped(line_id) - self.returned_units(line_id)
        if kind in (RETURN, NO_RESTOCK):
            returned, released = (units, 0) if kind == RETURN else (0, 0)
        elif kind == CANCEL:
            returned, released = 0, units
        else:  # undecided restock: shipped units first
            returned = min(units, shipped_back)
            released = units - returned
        if returned:
            self.returned[(line_id, location)] = self.returned.get((line_id, location), 0)
            self.returned[(line_id, location)] += returned
        self.released[line_id] = self.released.get(line_id, 0) + released
        if kind in (RETURN, RESTOCK):
            self.restocked_after[line_id] = at
        sku = self.lines[line_id][0]
        refund = Refund(
            f"R{len(self.refunds)}", at, (RefundLine(line_id, sku, units, kind, location),)
        )
        self.refunds.append(refund)
        self.messages.append(self.facts(refunds=(refund,)))

    def cancel(self) -> None:
        self.tick()
        self.cancelled = True
        self.snapshot()

    # -- what the platform's final state implies ---------------------------------------------

    def expected(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(on hand, reserved) per (sku, location)."""
        found: dict[tuple[str, str], list[int]] = {}

        def at(key: tuple[str, str]) -> list[int]:
            return found.setdefault(key, [0, 0])

        for f in self.fulfilments.values():
            if f.status == SHIPPED:
                for line in f.lines:
                    at((line.sku, f.location))[0] -= line.quantity
        for (line_id, location), units in self.returned.items():
            at((self.lines[line_id][0], location))[0] += units
        for line_id, (sku, _) in self.lines.items():
            if not self.cancelled:
                at((sku, HOME))[1] += self.open_units(line_id)
        return {k: (v[0], v[1]) for k, v in found.items()}


def stories() -> st.SearchStrategy[Platform]:
    @st.composite
    def build(draw: st.DrawFn) -> Platform:
        serial = next(SERIAL)
        count = draw(st.integers(1, 3))
        lines = {
            f"L{i}": (f"PROP-{serial}-{draw(st.integers(0, 1))}", draw(st.integers(1, 3)))
            for i in range(count)
        }
        platform = Platform(f"O{serial}", lines)
        platform.snapshot()
        for _ in range(draw(st.integers(0, 8))):
            step = draw(st.sampled_from(["fulfil", "undo", "refund", "cancel"]))
            line_id = draw(st.sampled_from(sorted(lines)))
            location = draw(st.sampled_from(LOCATIONS))
            if step == "fulfil" and not platform.cancelled and platform.open_units(line_id) > 0:
                units = draw(st.integers(1, platform.open_units(line_id)))
                platform.fulfil(line_id, units, location, draw(st.booleans()))
            elif step == "undo":
                candidates = [
                    fid
                    for fid, f in platform.fulfilments.items()
                    if f.status == SHIPPED
                    and all(
                        platform.restocked_after.get(line.line_id, -1) < (f.created or 0)
                        for line in f.lines
                    )
                ]
                if candidates:
                    platform.cancel_fulfilment(draw(st.sampled_from(candidates)))
            elif step == "refund":
                back = platform.shipped(line_id) - platform.returned_units(line_id)
                unshipped = platform.open_units(line_id)
                kind = draw(st.sampled_from([CANCEL, RETURN, RESTOCK, NO_RESTOCK]))
                room = {
                    CANCEL: unshipped,
                    RETURN: back,
                    NO_RESTOCK: back,
                    RESTOCK: back + unshipped,
                }[kind]
                if room > 0:
                    platform.refund(line_id, draw(st.integers(1, room)), kind, location)
            elif step == "cancel" and not platform.cancelled:
                platform.cancel()
            if draw(st.booleans()):
                platform.snapshot()
        return platform

    return build()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=stories(), data=st.data())
def test_any_arrival_order_with_duplicates_gives_the_platforms_stock(
    backend: Backend, story: Platform, data: st.DataObject
) -> None:
    messages = list(story.messages)
    again = data.draw(st.lists(st.sampled_from(messages), max_size=4))
    arrival = data.draw(st.permutations(messages + again))
    ordered = {sku for sku, qty in story.lines.values() for _ in range(qty)}
    ceiling = {sku: 0 for sku in ordered}
    for sku, qty in story.lines.values():
        ceiling[sku] += qty
    keys = [(sku, location) for sku in ordered for location in LOCATIONS]
    for index, facts in enumerate(arrival):
        message = Message("test", 0, index, "facts", b"{}")
        report = receive(backend.factory, [Translated(message, orders=[facts])])
        assert report.dead == []
        now = positions(backend, keys)
        for sku in ordered:
            assert sum(now[(sku, loc)].on_hand for loc in LOCATIONS) <= 0
            assert 0 <= now[(sku, HOME)].reserved <= ceiling[sku]
        for (sku, location), position in now.items():
            assert position.on_hand >= -story.ever_shipped.get((sku, location), 0)
            if location != HOME:
                assert position.reserved == 0
    expected = story.expected()
    final = positions(backend, keys)
    for key in keys:
        assert (final[key].on_hand, final[key].reserved) == expected.get(key, (0, 0)), key
