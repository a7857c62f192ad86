"""Oversold positions are shown everywhere: the flag on availability rows, the gauge, the feed
(once per crossing), the staff page banner and the reconcile report.  Facts beyond stock are
still accepted; only the stock-checked paths refuse."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from adapters.db import intake_tables as it
from adapters.db.database import Database
from adapters.kafka.outbox import OutboxListener, message
from inventory.events import EventType, StockEvent
from inventory.projection import OVERSOLD, Position, is_oversold, position_flags
from inventory.reconcile import Flag, flags_for
from inventory.services.reservations import sweep
from tests.api_fixtures import Api, api, receipt
from tests.conftest import Clock, at
from tests.e2e.test_intake_webhooks import ORDER, post_all, signed
from tests.e2e.test_staff_http import Tablet

__all__ = ["api"]

NOW = at("2026-06-01T12:00:00Z")


def reservation(event_id: str, sku: str, location: str, quantity: int, rid: str) -> dict:
    return {
        **receipt(event_id, sku, location, quantity),
        "type": "reservation",
        "reservation_id": rid,
    }


def gauge(api: Api) -> float:
    status, text = api.call("GET", "/metrics", None)
    assert status == 200
    found = re.search(r"^inventory_oversold_positions (\S+)$", text, re.M)
    assert found, text
    return float(found.group(1))


# -- the rule -------------------------------------------------------------------------------


def test_oversold_is_either_impossible_state() -> None:
    assert position_flags(1, 1000) == ["reserved_exceeds_on_hand", OVERSOLD]
    assert position_flags(-3, 0) == ["negative_on_hand", OVERSOLD]
    assert position_flags(-3, 2) == ["negative_on_hand", "reserved_exceeds_on_hand", OVERSOLD]
    assert position_flags(5, 5) == [] and position_flags(0, 0) == []
    assert is_oversold(1, 2) and not is_oversold(2, 2)
    # safety stock is a buffer: eating into it is not overselling
    assert not Position("A", "S", 5, 4, 0, safety_stock=3).oversold


# -- finding: a reservation event for 1,000 on 1 on hand, through POST /v1/events ----------


def test_a_reservation_fact_beyond_stock_is_kept_and_flagged(api: Api) -> None:
    api.events(receipt("r1", "SKU-1", "S-BER", 1), receipt("r2", "SKU-1", "S-HAM", 4))
    assert gauge(api) == 0
    body = api.events(reservation("x1", "SKU-1", "S-BER", 1000, "ORDER-1"))
    assert body["accepted"] == 1  # a fact: recorded, not refused
    status, answer = api.call("GET", "/v1/availability/SKU-1", "read")
    assert status == 200
    flags = {row["location"]: row["flags"] for row in answer["locations"]}
    assert flags == {"S-BER": ["reserved_exceeds_on_hand", "oversold"], "S-HAM": []}
    status, batch = api.call("POST", "/v1/availability/batch", "read", json={"skus": ["SKU-1"]})
    assert batch["items"][0]["locations"][0]["flags"][-1] == "oversold"
    assert gauge(api) == 1
    # the reservation API itself checks stock: it still never oversells
    status, refused = api.call(
        "POST",
        "/v1/reservations",
        "ingest",
        json={
            "reservation_id": "R-2",
            "location": "S-HAM",
            "lines": [{"sku": "SKU-1", "quantity": 5}],
        },
    )
    assert status == 409 and refused["shortfalls"][0]["available"] == 4
    api.events(
        {**reservation("x2", "SKU-1", "S-BER", 1000, "ORDER-1"), "type": "reservation_release"}
    )
    status, answer = api.call("GET", "/v1/availability/SKU-1", "read", params={"location": "S-BER"})
    assert answer["locations"][0]["flags"] == []
    assert gauge(api) == 0


def test_a_signed_shop_order_beyond_stock_is_applied_and_counted(database: Database) -> None:
    from adapters.channels.store import import_skus
    from tests.e2e.test_intake_webhooks import DATA

    with open(DATA / "skus.csv", newline="") as stream:
        import_skus(database, stream)
    big = ORDER.replace(b'"quantity": 2', b'"quantity": 10000')
    assert big != ORDER
    answers = post_all(database, [("/v1/webhooks/shop/orders/create", big, signed(big))])
    assert answers[0][0] == 200 and answers[0][1]["status"] == "applied"
    found = {(p.sku, p.location): p for p in database.reader.oversold()}
    assert found[("SOCK-MER-4245", "WH-KASSEL")].reserved == 10000
    assert database.reader.oversold("WH-KASSEL") == list(found.values())
    assert database.reader.oversold("ELSEWHERE") == []


# -- the feed ---------------------------------------------------------------------------------


def _event(event_id: str, kind: EventType, quantity: int, **extra: Any) -> StockEvent:
    return StockEvent(event_id, kind, "A", "S1", quantity, NOW, **extra)


def _feed(database: Database) -> list[dict[str, Any]]:
    with database.engines.read.connect() as connection:
        rows = list(connection.execute(select(it.outbox).order_by(it.outbox.c.id)))
    return [message(row) for row in rows]


def test_the_feed_says_oversold_once_per_crossing(database: Database) -> None:
    database.ledger.listeners.append(OutboxListener(database))
    append = database.ledger.append
    append([_event("r", EventType.RECEIPT, 1)])
    append([_event("h1", EventType.RESERVATION, 1000, reservation_id="O1")])
    append([_event("h2", EventType.RESERVATION, 5, reservation_id="O2")])  # still oversold
    append([_event("r2", EventType.RECEIPT, 10)])  # still oversold
    append([_event("x1", EventType.RESERVATION_RELEASE, 1000, reservation_id="O1")])
    append([_event("x2", EventType.RESERVATION_RELEASE, 5, reservation_id="O2")])
    feed = _feed(database)
    assert [m["type"] for m in feed] == [
        "availability_changed",
        "availability_changed",
        "oversold",
        "availability_changed",
        "availability_changed",
        "availability_changed",
        "oversold",
        "availability_changed",
    ]
    became, ended = feed[2], feed[6]
    assert became["oversold"] is True and ended["oversold"] is False
    assert (became["sku"], became["location"], became["on_hand"], became["reserved"]) == (
        "A",
        "S1",
        1,
        1000,
    )
    assert became["ledger_position"] == feed[1]["ledger_position"]
    assert "oversold" not in feed[0]


def test_lapsed_holds_end_an_oversell_at_once_and_on_the_feed_at_the_sweep(
    database: Database, clock: Clock
) -> None:
    database.ledger.listeners.append(OutboxListener(database))
    database.ledger.append([_event("r", EventType.RECEIPT, 1)])
    database.ledger.append(
        [_event("h", EventType.RESERVATION, 3, reservation_id="O1", expires_at=NOW + 60_000_000)]
    )
    assert [p.reserved for p in database.reader.oversold()] == [3]
    clock.advance(120)
    assert database.reader.oversold() == []  # reads judge at the instant
    assert sweep(database.unit_of_work) == 1
    crossings = [m for m in _feed(database) if m["type"] == "oversold"]
    assert [m["oversold"] for m in crossings] == [True, False]
    # a lapsed hold beside a new one: the append judges what is held at its instant
    database.ledger.append(
        [_event("h2", EventType.RESERVATION, 2, reservation_id="O2", expires_at=clock.now + 10**7)]
    )
    clock.advance(20)
    database.ledger.append([_event("h3", EventType.RESERVATION, 1, reservation_id="O3")])
    crossings = [m["oversold"] for m in _feed(database) if m["type"] == "oversold"]
    assert crossings == [True, False, True, False]


# -- the staff page ---------------------------------------------------------------------------


def test_the_staff_page_shows_the_stores_oversold_positions(api: Api) -> None:
    api.events(
        receipt("r1", "SHOE-42", "S-BER", 1),
        receipt("r2", "SHOE-43", "S-HAM", 1),
        reservation("x1", "SHOE-42", "S-BER", 7, "WEB-9"),
        reservation("x2", "SHOE-43", "S-HAM", 7, "WEB-10"),  # another store's
    )
    tablet = Tablet(api, api.keys["store"])
    page = tablet.get().text
    assert 'id="oversold"' in page
    assert 'data-oversold="SHOE-42"' in page and "7 reserved, 1 on hand" in page
    assert "SHOE-43" not in page
    live = tablet.http.get(f"{api.url}/staff/live").text
    assert 'data-oversold="SHOE-42"' in live
    api.events({**reservation("y1", "SHOE-42", "S-BER", 7, "WEB-9"), "type": "reservation_release"})
    assert 'id="oversold"' not in tablet.get().text


# -- reconcile ----------------------------------------------------------------------------------


def test_reconcile_flags_oversold_keys() -> None:
    assert flags_for(2, 10, 3) == (Flag.RESERVED_EXCEEDS_ON_HAND, Flag.OVERSOLD)
    assert flags_for(None, -2, 0) == (Flag.NEGATIVE_ON_HAND, Flag.OVERSOLD)
    # the ledger was wrong, the shelf was not: a count of 2 against -1 is no oversell
    assert flags_for(2, -1, 0) == (Flag.NEGATIVE_ON_HAND,)
