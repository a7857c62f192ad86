"""`POST /v1/routing/click-and-collect` and the location endpoints on a real server."""

from __future__ import annotations

import threading

from adapters.db.database import Database
from adapters.http.routing import ROUTING_KEY, plan, reserve_first
from inventory import reservations as store
from inventory.services import reservations
from schemas.routing import RouteIn
from tests.api_fixtures import Api, api, receipt

__all__ = ["api"]

ROUTE = "/v1/routing/click-and-collect"
HOURS = {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")}
FRANKFURT = {"lat": 50.1109, "lon": 8.6821}


def place(id_: str, lat: float, lon: float, **extra) -> dict:
    return {
        "id": id_,
        "name": f"Store {id_}",
        "kind": "store",
        "lat": lat,
        "lon": lon,
        "city": "x",
        "country": "DE",
        "timezone": "Europe/Berlin",
        "pickup_enabled": True,
        "opening_hours": HOURS,
        "handling_minutes": 60,
        **extra,
    }


NEAR = [
    place("F-ZEIL", 50.1145, 8.6830),  # 0.4 km
    place("F-OFFENBACH", 50.0956, 8.7761),  # 7 km
    place("F-DARMSTADT", 49.8728, 8.6512),  # 27 km
    place("F-CLOSED", 50.1109, 8.6821, pickup_enabled=False),  # right there, no pickup
    place("F-WIESBADEN", 50.0782, 8.2398, pickup_capacity=1),  # 32 km
]


def setup_network(api: Api) -> None:
    status, body = api.call("POST", "/v1/locations", "admin", json={"locations": NEAR})
    assert status == 200 and body == {"written": 5}, body


def stock(api: Api, quantities: dict[str, dict[str, int]]) -> None:
    events = [
        receipt(f"{sku}-{loc}", sku, loc, qty)
        for loc, skus in quantities.items()
        for sku, qty in skus.items()
    ]
    api.events(*events)


def test_location_endpoints_are_admin_and_all_or_nothing(api: Api) -> None:
    status, body = api.call("POST", "/v1/locations", "read", json={"locations": NEAR})
    assert status == 403
    bad = [NEAR[0], {**NEAR[1], "lat": 123}, {**NEAR[2], "opening_hours": {"mon": [["9", "5"]]}}]
    status, body = api.call("POST", "/v1/locations", "admin", json=bad)
    assert status == 422 and body["detail"] == "nothing was imported"
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert set(fields) == {"locations.1", "locations.2"}
    assert "lat" in fields["locations.1"] and "'9' is not a time of day" in fields["locations.2"]
    assert api.call("GET", "/v1/locations/F-ZEIL", "read")[0] == 404
    setup_network(api)
    status, body = api.call("GET", "/v1/locations", "read", params={"kind": "store"})
    assert status == 200 and "F-ZEIL" in [x["id"] for x in body["locations"]]
    changed = {**NEAR[0], "name": "Zeil"}
    assert api.call("PUT", "/v1/locations/F-ZEIL", "admin", json=changed)[0] == 200
    assert api.call("GET", "/v1/locations/F-ZEIL", "read")[1]["name"] == "Zeil"
    assert api.call("PUT", "/v1/locations/OTHER", "admin", json=changed)[0] == 422
    assert api.call("DELETE", "/v1/locations/F-ZEIL", "admin")[0] == 204
    assert api.call("DELETE", "/v1/locations/F-ZEIL", "admin")[0] == 404


def test_route_orders_complete_first_and_uses_api_availability(
    api: Api, database: Database
) -> None:
    setup_network(api)
    stock(
        api,
        {
            "F-ZEIL": {"A": 1, "B": 5},  # A is held back by safety stock below
            "F-OFFENBACH": {"A": 2, "B": 2},
            "F-DARMSTADT": {"A": 3, "B": 3},
            "F-CLOSED": {"A": 9, "B": 9},
            "F-WIESBADEN": {"A": 1},
        },
    )
    database.set_safety_stock("F-ZEIL", 1, sku="A")
    cart = {
        "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}],
        "origin": FRANKFURT,
    }
    status, body = api.call("POST", ROUTE, "read", json=cart)
    assert status == 200, body
    assert body["origin"] == FRANKFURT
    ids = [(o["location"], o["complete"]) for o in body["options"]]
    assert ids == [
        ("F-OFFENBACH", True),
        ("F-DARMSTADT", True),
        ("F-ZEIL", False),
        ("F-WIESBADEN", False),
    ]
    first = body["options"][0]
    assert 6 < first["distance_km"] < 8
    assert first["lines"] == [
        {"sku": "A", "quantity": 1, "available": 2},
        {"sku": "B", "quantity": 2, "available": 2},
    ]
    # Monday 14:00 in Frankfurt + 60 minutes
    assert first["ready_by"] == "2026-06-01T13:00:00Z" and first["pickup_day"] == "2026-06-01"
    # a reservation elsewhere makes Offenbach short of B
    assert reservations.reserve(
        database.unit_of_work, "other", "F-OFFENBACH", [store.Line("B", 1)], None
    ).status == ("created")
    body = api.call("POST", ROUTE, "read", json={**cart, "limit": 2, "radius_km": 20})[1]
    assert [(o["location"], o["complete"]) for o in body["options"]] == [
        ("F-ZEIL", False),
        ("F-OFFENBACH", False),
    ]
    assert body["options"][1]["lines"][1] == {"sku": "B", "quantity": 2, "available": 1}
    assert "no store within 20 km" in body["message"]


def test_origin_by_city_and_unknown_place(api: Api) -> None:
    setup_network(api)
    stock(api, {"F-ZEIL": {"A": 1}})
    cart = {"lines": [{"sku": "A", "quantity": 1}]}
    status, body = api.call(
        "POST",
        ROUTE,
        "read",
        json={**cart, "origin": {"city": "Frankfurt am Main", "country": "DE"}},
    )
    assert status == 200 and body["options"][0]["location"] == "F-ZEIL"
    status, body = api.call(
        "POST", ROUTE, "read", json={**cart, "origin": {"city": "Atlantis", "country": "DE"}}
    )
    assert status == 422 and body["title"] == "Unknown place"
    assert "no city 'Atlantis'" in body["detail"]
    status, body = api.call(
        "POST", ROUTE, "read", json={**cart, "origin": {"postal_code": "60311"}}
    )
    assert status == 422 and body["errors"][0]["field"].startswith("origin")
    status, body = api.call("POST", ROUTE, "read", json={**cart, "origin": FRANKFURT, "limit": 0})
    assert status == 422 and body["errors"][0]["field"] == "limit"


def test_split_and_ship_to_store(api: Api) -> None:
    setup_network(api)
    stock(
        api,
        {
            "F-ZEIL": {"A": 1},
            "F-DARMSTADT": {"B": 1},
            "F-OFFENBACH": {"B": 1},
            "WH-KS": {"A": 5, "B": 5},
        },
    )
    cart = {
        "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}],
        "origin": FRANKFURT,
    }
    body = api.call("POST", ROUTE, "read", json={**cart, "allow_split": True})[1]
    split = body["options"][0]
    assert split["split"] and split["complete"] and split["location"] is None
    assert [p["location"] for p in split["parts"]] == ["F-ZEIL", "F-OFFENBACH"]
    body = api.call("POST", ROUTE, "read", json=cart)[1]
    assert body["ship_to_store"]["warehouse"] == "WH-KS"
    assert body["ship_to_store"]["store"] in {"F-ZEIL"}
    assert "no store within 50 km" in body["message"]


def test_reserve_takes_the_first_complete_option_then_the_next(
    api: Api, database: Database
) -> None:
    setup_network(api)
    stock(api, {"F-ZEIL": {"A": 1}, "F-OFFENBACH": {"A": 1}})
    cart = {"lines": [{"sku": "A", "quantity": 1}], "origin": FRANKFURT, "reserve": True}
    assert api.call("POST", ROUTE, "read", json=cart)[0] == 403
    # a store key reserves only at its own store (its store S-BER is not near Frankfurt)
    status, body = api.call("POST", ROUTE, "store", json=cart)
    assert status == 403 and "own stores" in body["detail"]
    status, body = api.call("POST", ROUTE, "ingest", json={**cart, "reservation_id": "cc-1"})
    assert status == 201, body
    assert body["reservation"]["location"] == "F-ZEIL"
    assert body["reservation"]["lines"] == [{"sku": "A", "quantity": 1}]
    assert body["pickup"] == {
        "location": "F-ZEIL",
        "day": "2026-06-01",
        "ready_by": "2026-06-01T13:00:00Z",
    }
    # the same request again is the same reservation
    status, again = api.call("POST", ROUTE, "ingest", json={**cart, "reservation_id": "cc-1"})
    assert status == 200 and again["reservation"]["location"] == "F-ZEIL"
    status, body = api.call("POST", ROUTE, "ingest", json=cart)
    assert status == 201 and body["reservation"]["location"] == "F-OFFENBACH"
    status, body = api.call("POST", ROUTE, "ingest", json=cart)
    assert status == 200 and body.get("reservation") is None and body["message"]


def test_stale_plan_falls_through_to_the_next_complete_option(api: Api, database: Database) -> None:
    setup_network(api)
    stock(api, {"F-ZEIL": {"A": 1}, "F-OFFENBACH": {"A": 1}})
    body = RouteIn.model_validate(
        {"lines": [{"sku": "A", "quantity": 1}], "origin": FRANKFURT, "reserve": True}
    )
    chosen = plan(api.app, body)
    assert [o.location for o in chosen.result.options] == ["F-ZEIL", "F-OFFENBACH"]
    # someone takes the last unit at the nearest store after the plan was made
    assert (
        reservations.reserve(
            database.unit_of_work, "till", "F-ZEIL", [store.Line("A", 1)], None
        ).status
        == "created"
    )
    option, outcome = reserve_first(api.app, body, chosen, None)
    assert option.location == "F-OFFENBACH" and outcome.status == "created"


def test_pickup_capacity_is_counted_and_released_slots_free_up(
    api: Api, database: Database
) -> None:
    setup_network(api)
    stock(api, {"F-WIESBADEN": {"A": 5}})
    cart = {"lines": [{"sku": "A", "quantity": 1}], "origin": {"lat": 50.0782, "lon": 8.2398}}
    first = api.call(
        "POST", ROUTE, "ingest", json={**cart, "reserve": True, "reservation_id": "w1"}
    )[1]
    assert first["pickup"]["day"] == "2026-06-01"
    body = api.call("POST", ROUTE, "read", json=cart)[1]
    assert body["options"][0]["pickup_day"] == "2026-06-02"  # capacity 1 used up today
    assert body["options"][0]["ready_by"] == "2026-06-02T07:00:00Z"  # Tue 09:00 Berlin
    second = api.call("POST", ROUTE, "ingest", json={**cart, "reserve": True})[1]
    assert second["pickup"]["day"] == "2026-06-02"
    assert reservations.release(database.unit_of_work, "w1").status == "released"
    body = api.call("POST", ROUTE, "read", json=cart)[1]
    assert body["options"][0]["pickup_day"] == "2026-06-01"


def test_two_customers_never_get_the_same_last_unit(api: Api, database: Database) -> None:
    setup_network(api)
    stock(api, {"F-ZEIL": {"A": 1}, "F-OFFENBACH": {"A": 1}})
    cart = {"lines": [{"sku": "A", "quantity": 1}], "origin": FRANKFURT, "reserve": True}
    results: list[tuple[int, dict]] = []
    barrier = threading.Barrier(3)

    def customer() -> None:
        barrier.wait()
        results.append(api.call("POST", ROUTE, "ingest", json=cart))

    threads = [threading.Thread(target=customer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reserved = sorted(b["reservation"]["location"] for s, b in results if s == 201)
    assert reserved == ["F-OFFENBACH", "F-ZEIL"]
    assert sorted(s for s, _ in results) in ([200, 201, 201], [201, 201, 409])
    for location in ("F-ZEIL", "F-OFFENBACH"):
        position = database.reader.position("A", location)
        assert position.reserved == 1 and position.available == 0
    assert ROUTING_KEY in api.app


def test_channel_policy_restricts_stores_and_holds_its_buffer(api: Api) -> None:
    setup_network(api)
    stock(api, {"F-ZEIL": {"A": 3}, "F-OFFENBACH": {"A": 3}})
    cart = {"lines": [{"sku": "A", "quantity": 2}], "origin": FRANKFURT}
    policy = {"warehouses": False, "stores": "all", "buffer": 2}
    assert api.call("PUT", "/v1/channels/kiosk", "admin", json=policy)[0] == 200
    body = api.call("POST", ROUTE, "read", json={**cart, "channel": "kiosk"})[1]
    assert [(o["location"], o["lines"][0]["available"]) for o in body["options"]] == [
        ("F-ZEIL", 1),
        ("F-OFFENBACH", 1),
    ]
    assert not any(o["complete"] for o in body["options"])
    body = api.call("POST", ROUTE, "read", json={**cart, "channel": "marketplace"})[1]
    assert body["options"] == []  # the marketplace sells from no store
    status, body = api.call("POST", ROUTE, "read", json={**cart, "channel": "nope"})
    assert status == 422 and body["errors"][0]["field"] == "channel"
