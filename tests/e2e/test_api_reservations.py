"""Reservations over HTTP: all or nothing, idempotent by id, expiry, release, fulfil, scopes."""

from __future__ import annotations

import asyncio

from adapters.db.database import Database
from adapters.http.sweeper import sweep_once
from tests.api_fixtures import Api, api, receipt

__all__ = ["api"]


def available(api: Api, sku: str, location: str) -> int:
    status, body = api.call("GET", f"/v1/availability/{sku}", "read", params={"location": location})
    assert status == 200
    return body["locations"][0]["available"]


def hold(api: Api, rid: str = "R1", role: str = "ingest", **extra) -> tuple[int, dict]:
    body = {
        "reservation_id": rid,
        "location": "S-BER",
        "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
        **extra,
    }
    return api.call("POST", "/v1/reservations", role, json=body)


def test_reserve_all_lines_or_none(api: Api, database: Database) -> None:
    api.events(receipt("a", "A", "S-BER", 4), receipt("b", "B", "S-BER", 1))
    status, body = hold(api, ttl_seconds=600)
    assert status == 201, body
    assert body["status"] == "active" and body["expires_at"] == "2026-06-01T12:10:00Z"
    assert [(x["sku"], x["held"]) for x in body["lines"]] == [("A", 2), ("B", 1)]
    assert available(api, "A", "S-BER") == 2 and available(api, "B", "S-BER") == 0
    head = database.reader.head()
    status, body = hold(api, "R2")  # A would fit, B is gone: nothing is held
    assert status == 409
    assert body["shortfalls"] == [{"sku": "B", "requested": 1, "available": 0}]
    assert database.reader.head() == head
    assert available(api, "A", "S-BER") == 2


def test_same_id_same_body_is_the_same_answer(api: Api) -> None:
    api.events(receipt("a", "A", "S-BER", 9), receipt("b", "B", "S-BER", 9))
    first = hold(api, reference="order-1")
    again = hold(api, reference="order-1")
    assert first[0] == 201 and again[0] == 200 and first[1] == again[1]
    status, body = hold(api, reference="order-2")
    assert status == 409 and body["errors"][0]["field"] == "reservation_id"
    status, body = hold(api, reference="order-1", ttl_seconds=60)
    assert status == 409
    assert available(api, "A", "S-BER") == 7


def test_expired_holds_stop_counting_at_once_and_the_sweeper_releases(
    api: Api, database: Database
) -> None:
    api.events(receipt("a", "A", "S-BER", 2), receipt("b", "B", "S-BER", 1))
    assert hold(api, ttl_seconds=60)[0] == 201
    assert available(api, "A", "S-BER") == 0
    database.ledger.clock.advance(61)  # type: ignore[attr-defined]
    assert available(api, "A", "S-BER") == 2
    status, body = api.call("GET", "/v1/reservations/R1", "read")
    assert status == 200 and body["status"] == "expired"
    status, body = api.call("POST", "/v1/reservations/R1/fulfil", "ingest")
    assert status == 409
    assert asyncio.run(sweep_once(api.app)) == 2
    types = [e["type"] for e in api.call("GET", "/v1/ledger", "admin")[1]["events"]]
    assert types.count("reservation_release") == 2
    status, body = api.call("GET", "/v1/reservations/R1", "read")
    assert body["status"] == "released"
    assert available(api, "A", "S-BER") == 2


def test_release_and_fulfil(api: Api) -> None:
    api.events(receipt("a", "A", "S-BER", 5), receipt("b", "B", "S-BER", 5))
    assert hold(api)[0] == 201
    status, body = api.call(
        "POST",
        "/v1/reservations/R1/fulfil",
        "ingest",
        json={"lines": [{"sku": "A", "quantity": 1}]},
    )
    assert status == 200, body
    assert {x["sku"]: (x["held"], x["fulfilled"]) for x in body["lines"]} == {
        "A": (1, 1),
        "B": (1, 0),
    }
    status, body = api.call(
        "POST",
        "/v1/reservations/R1/fulfil",
        "ingest",
        json={"lines": [{"sku": "A", "quantity": 5}]},
    )
    assert status == 409 and body["shortfalls"] == [{"sku": "A", "requested": 5, "available": 1}]
    status, body = api.call(
        "POST", "/v1/reservations/R1/release", "ingest", json={"reason": "cancel"}
    )
    assert status == 200 and [x["held"] for x in body["lines"]] == [0, 0]
    assert body["status"] == "fulfilled"  # partly handed over, the rest released
    status, body = api.call("GET", "/v1/availability/A", "read", params={"location": "S-BER"})
    assert body["locations"][0]["on_hand"] == 4 and body["locations"][0]["available"] == 4
    assert api.call("POST", "/v1/reservations/NOPE/release", "ingest")[0] == 404
    assert api.call("GET", "/v1/reservations/NOPE", "read")[0] == 404


def test_store_keys_act_only_at_their_store(api: Api) -> None:
    api.events(
        receipt("a", "A", "S-BER", 5), receipt("b", "B", "S-BER", 5), receipt("c", "A", "S-HAM", 5)
    )
    assert hold(api, role="store")[0] == 201
    status, body = api.call(
        "POST",
        "/v1/reservations",
        "store",
        json={"reservation_id": "R9", "location": "S-HAM", "lines": [{"sku": "A", "quantity": 1}]},
    )
    assert status == 403 and body["errors"][0]["field"] == "location"
    assert hold(api, "R3", role="read")[0] == 403
    assert api.call("POST", "/v1/reservations/R1/fulfil", "store")[0] == 200


def test_bad_reservations_are_refused_naming_the_field(api: Api, database: Database) -> None:
    api.events(receipt("a", "A", "S-BER", 5))
    head = database.reader.head()
    cases = [
        ({"location": "NOWHERE"}, "location", 422),
        ({"lines": [{"sku": "A", "quantity": 0}]}, "lines.0.quantity", 422),
        ({"lines": [{"sku": "A", "quantity": -1}]}, "lines.0.quantity", 422),
        ({"lines": [{"sku": "A", "quantity": "1"}]}, "lines.0.quantity", 422),
        ({"lines": []}, "lines", 422),
        ({"ttl_seconds": 10**9}, "ttl_seconds", 422),
        ({"channel": "marketplace"}, "location", 422),  # a store does not feed the marketplace
        ({"colour": "red"}, "colour", 422),
    ]
    for change, field, code in cases:
        body = {
            "reservation_id": "RX",
            "location": "S-BER",
            "lines": [{"sku": "A", "quantity": 1}],
            **change,
        }
        status, answer = api.call("POST", "/v1/reservations", "ingest", json=body)
        assert status == code, (change, answer)
        assert answer["errors"][0]["field"] == field, (change, answer)
        assert answer["status"] == code and "title" in answer
    assert database.reader.head() == head
